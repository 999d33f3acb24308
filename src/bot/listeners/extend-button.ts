/**
 * The Extend button of an expiry warning, and `/tycho extend`'s answer: both run the `extend`
 * command (commands/extend.ts), so every rule applies to a click as to a typed command (only the
 * owner or an admin; the maximum TTL). Its value is only the system's name; the rest is read
 * from Kubernetes. The answer is shown only to whoever asked; the thread hears of the new expiry
 * when its next warning is due.
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { RunContext } from '../../commands/command.js';
import type { ExtendInput } from '../../commands/extend.js';
import { runCommand } from '../../commands/registry.js';
import { isTychoError } from '../../k8s/errors.js';
import { checkName } from '../../k8s/validate.js';
import { ACTION_EXTEND, extendedMessage, plainMessage, type Message } from '../blocks.js';
import { forRequest, slackRunContext, type BotContext } from '../context.js';
import { errorText } from '../error-text.js';
import { code, md } from '../slack-text.js';
import type { ButtonArgs } from './teardown-button.js';
import { clickPlace } from '../click-answer.js';

/** Runs `extend` for this Slack user (`run`: who, where, through what) and words the outcome for them. */
export async function extendAnswer(input: ExtendInput, run: RunContext, ctx: BotContext): Promise<Message> {
  try {
    const { system, capped } = await runCommand(input, run);
    return extendedMessage(system.name, system.expires, capped);
  } catch (e) {
    if (isTychoError(e) && e.code === 'not_found') return plainMessage(md`${code(input.name)} is gone: there is nothing to extend.`);
    return plainMessage(md`:no_entry: ${errorText(e, ctx.log, `extend "${input.name}"`)}`);
  }
}

export async function handleExtendButton(args: ButtonArgs, ctx: BotContext): Promise<void> {
  const { ack, action, body, context } = args;
  await ack();
  if (context.retryNum) return;
  const name = action.value ?? '';
  if (checkName(name)) return; // not a value our buttons carry
  const place = await clickPlace(args, name, ctx);
  // A block_actions payload does not say what the slash command is called in this workspace: the manifest's name.
  const run = slackRunContext(body.user.id, ctx, undefined, { channel: place.channel, via: 'slack-button' });
  await place.tell(await extendAnswer({ kind: 'extend', name }, run, ctx));
  if (place.home) await ctx.home?.refresh(body.user.id);
}

export function register(app: App, ctx: BotContext): void {
  app.action<BlockButtonAction>(ACTION_EXTEND, async (args) => {
    await handleExtendButton(args, forRequest(ctx));
  });
}
