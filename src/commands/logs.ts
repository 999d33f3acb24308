/**
 * `logs`: the last lines of a system's container log, secrets taken out (redact.ts) before any
 * front end sees them. Slack posts them in the system's thread (bot/logs-reply.ts), REST answers
 * them, the CLI prints them.
 *
 * Who may read them: the system's owner or an admin, as for `down`. A log holds whatever the app
 * prints (requests, file names, stray credentials the patterns miss), and Slack posts it where the
 * whole channel reads it: that is for the owner to decide, not for anyone who can type a name.
 * (REST and the CLI act as admins, as they do for `down`.)
 */
import { authorizeChange } from '../policy/owner.js';
import type { SystemInfo } from '../k8s/spec.js';
import { checkName } from '../k8s/validate.js';
import { DEFAULT_TAIL, MAX_TAIL } from '../k8s/pod-logs.js';
import { logsBinding } from '../api/bindings/logs.js';
import { NAME_FLAG, nameFlagOrWord, type CommandModule, type FlagReader } from './command.js';
import { redactSecrets } from './redact.js';

export interface LogsInput {
  kind: 'logs';
  name: string;
  tail: number;
  previous: boolean;
}

export interface LogsResult {
  kind: 'logs';
  name: string;
  /** The system as it is now (its Slack thread is among its annotations). */
  system: SystemInfo;
  pod: string;
  tail: number;
  previous: boolean;
  /** The log's last lines, redacted. */
  text: string;
  /** How many secrets were taken out. */
  redacted: number;
}

/** Why a --tail value is refused, or null. */
export function checkTail(value: string): string | null {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_TAIL) return `--tail takes a whole number of lines from 1 to ${MAX_TAIL}, not "${value}".`;
  return null;
}

export const logsCommand: CommandModule<'logs', LogsInput, LogsResult> = {
  name: 'logs',
  usage: 'logs -n NAME [--tail N] [--previous]',
  summary: "Show the last lines of NAME's log (in Slack, in its thread); its owner or an admin only.",
  flags: [
    NAME_FLAG,
    { name: 'tail', takes: 'value', help: { label: '--tail N', text: `how many of the last lines (default ${DEFAULT_TAIL}, at most ${MAX_TAIL})` } },
    { name: 'previous', takes: 'switch', help: { label: '--previous', text: "the container's previous run: what it printed before it crashed or restarted" } },
  ],
  read(r: FlagReader) {
    const tail = r.single('tail');
    // A switch reads as "true" when given (the parser's booleans).
    const previous = r.single('previous') === 'true';
    const name = nameFlagOrWord(r);
    if (name === undefined) r.refuse("Say whose log to show with -n NAME.");
    r.check(checkName(name));
    if (tail !== undefined) r.check(checkTail(tail));
    return { kind: 'logs', name, tail: tail === undefined ? DEFAULT_TAIL : Number(tail), previous };
  },
  async run(input, ctx) {
    const system = await authorizeChange(ctx.launcher, ctx.caller, input.name, 'read the logs of');
    const logs = await ctx.launcher.logs(input.name, { tail: input.tail, previous: input.previous });
    const { text, count } = redactSecrets(logs.text);
    return { kind: 'logs', name: input.name, system, pod: logs.pod, tail: input.tail, previous: input.previous, text, redacted: count };
  },
  text: (r) => r.text,
  rest: logsBinding,
};
