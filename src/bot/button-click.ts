/**
 * The start every button listener shares: ack the click at once (Slack's 3 s), ignore Slack's
 * retry of a click already being handled, and read the system's name from the button's value.
 */
import type { ButtonArgs } from './listeners/teardown-button.js';
import { checkName } from '../k8s/validate.js';

/** The name a button carries; undefined for a retried delivery or a value Tycho's buttons never carry. */
export async function ackClick(args: Pick<ButtonArgs, 'ack' | 'action' | 'context'>): Promise<string | undefined>;
/** The same, with the value read by `read` (undefined: not one of ours). */
export async function ackClick<T>(args: Pick<ButtonArgs, 'ack' | 'action' | 'context'>, read: (value: string) => T | undefined): Promise<T | undefined>;
export async function ackClick<T>(args: Pick<ButtonArgs, 'ack' | 'action' | 'context'>, read?: (value: string) => T | undefined): Promise<T | string | undefined> {
  await args.ack();
  if (args.context.retryNum) return undefined;
  const value = args.action.value ?? '';
  if (read) return read(value);
  return checkName(value) ? undefined : value;
}
