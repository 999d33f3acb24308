/**
 * The Extend button of an expiry warning, and `/tycho extend`'s answer: both run the `extend`
 * command (commands/extend.ts), so every rule applies to a click as to a typed command (only the
 * owner or an admin; the maximum TTL). Its value is the system's name and the expiry it was made
 * for (blocks.ts extendValue: a second click extends nothing); the rest is read from Kubernetes. The answer is shown only to whoever asked. A click that extended it also
 * updates the clicked message (a warning in the thread, a digest in a DM: blocks.ts
 * afterExtendClick), so its button is not clicked again against an expiry it no longer shows; a
 * refused click leaves it as it is. In the App Home there is no message: the Home is published again.
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { RunContext } from '../../commands/command.js';
import type { ExtendInput, ExtendResult } from '../../commands/extend.js';
import { runCommand } from '../../commands/registry.js';
import { isTychoError } from '../../k8s/errors.js';
import { checkName } from '../../k8s/validate.js';
import { ackClick } from '../button-click.js';
import { ACTION_EXTEND, afterExtendClick, extendedMessage, parseExtendValue, plainMessage, type Message } from '../blocks.js';
import { forRequest, slackRunContext, type BotContext } from '../context.js';
import { errorText } from '../error-text.js';
import { code, md } from '../slack-text.js';
import type { ButtonArgs } from './teardown-button.js';
import { clickPlace } from '../click-answer.js';
import { SlackIO } from '../slack-io.js';

/** Runs `extend` for this Slack user (`run`: who, where, through what) and words the outcome for them. */
export async function extendAnswer(input: ExtendInput, run: RunContext, ctx: BotContext): Promise<Message> {
  return (await runExtend(input, run, ctx)).answer;
}

/** The answer, and the extend's result when it was done. */
async function runExtend(input: ExtendInput, run: RunContext, ctx: BotContext): Promise<{ answer: Message; done?: ExtendResult }> {
  try {
    const done = await runCommand(input, run);
    return { answer: extendedMessage(done.system.name, done.system.expires, done.capped, done.already), done };
  } catch (e) {
    if (isTychoError(e) && e.code === 'not_found') return { answer: plainMessage(md`${code(input.name)} is gone: there is nothing to extend.`) };
    return { answer: plainMessage(md`:no_entry: ${errorText(e, ctx.log, `extend "${input.name}"`)}`) };
  }
}

export async function handleExtendButton(args: ButtonArgs, ctx: BotContext): Promise<void> {
  const { body } = args;
  const clicked = await ackClick(args, (value) => {
    const v = parseExtendValue(value);
    return checkName(v.name) || (v.from !== undefined && !Number.isFinite(Date.parse(v.from))) ? undefined : v;
  });
  if (!clicked) return;
  const { name, from } = clicked;
  const place = await clickPlace(args, name, ctx);
  // A block_actions payload does not say what the slash command is called in this workspace: the manifest's name.
  const run = slackRunContext(body.user.id, ctx, undefined, { channel: place.channel, via: 'slack-button' });
  // The clicked message, where Slack's payload names one (a channel's or a DM's; none in the Home tab).
  const channel = body.channel?.id ?? (body.container?.['channel_id'] as string | undefined);
  const ts = (body.container?.['message_ts'] as string | undefined) ?? body.message?.ts;
  const { answer, done } = await runExtend({ kind: 'extend', name, ...(from !== undefined ? { from } : {}), ...(ts && !place.home ? { retires: ts } : {}) }, run, ctx);
  // A second click (already extended) leaves the message to the first click's update.
  const updated = done && !done.already && !place.home && channel && ts && body.message ? afterExtendClick(body.message as { text?: string; blocks?: unknown[] }, name, run.caller.owner, done.system.expires, done.capped) : undefined;
  await Promise.all([place.tell(answer), updated ? new SlackIO(args.client, ctx.log).update({ channel: channel!, ts: ts! }, updated) : undefined]);
  if (place.home) await ctx.home?.refresh(body.user.id);
}

export function register(app: App, ctx: BotContext): void {
  app.action<BlockButtonAction>(ACTION_EXTEND, async (args) => {
    await handleExtendButton(args, forRequest(ctx));
  });
}
