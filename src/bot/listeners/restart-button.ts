/**
 * The Restart button (on a crash alert), and `/tycho restart`'s answer: both run the `restart`
 * command (commands/restart.ts), so a click is checked as a typed command is (only the owner or
 * an admin). Its value is only the system's name. The answer is for whoever asked; the thread
 * shows what follows (the live view sees the pod replaced).
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import type { RunContext } from '../../commands/command.js';
import type { RestartInput } from '../../commands/restart.js';
import { runCommand } from '../../commands/registry.js';
import { isTychoError, NotOwner, PolicyRefused } from '../../k8s/errors.js';
import { ackClick } from '../button-click.js';
import { ACTION_RESTART, plainMessage, restartingMessage, type Message } from '../blocks.js';
import { forRequest, slackRunContext, type BotContext } from '../context.js';
import { errorText } from '../error-text.js';
import { code, md } from '../slack-text.js';
import { ephemeral, type ButtonArgs } from './teardown-button.js';

/** A refusal (the owner rule, the policy) reads as one; anything else as a failure. */
export const refusalMark = (e: unknown): string => (e instanceof NotOwner || e instanceof PolicyRefused ? ':no_entry:' : ':x:');

/** Runs `restart` for this Slack user and words the outcome for them. */
export async function restartAnswer(input: RestartInput, run: RunContext, ctx: BotContext): Promise<Message> {
  try {
    const { system } = await runCommand(input, run);
    return restartingMessage(system.name);
  } catch (e) {
    if (isTychoError(e) && e.code === 'not_found') return plainMessage(md`${code(input.name)} is gone: there is nothing to restart.`);
    return plainMessage(md`${refusalMark(e)} ${errorText(e, ctx.log, `restart "${input.name}"`)}`);
  }
}

export async function handleRestartButton(args: ButtonArgs, ctx: BotContext): Promise<void> {
  const { body, respond } = args;
  const name = await ackClick(args);
  if (name === undefined) return;
  const channel = body.channel?.id ?? (body.container['channel_id'] as string | undefined);
  const run = slackRunContext(body.user.id, ctx, undefined, { channel, via: 'slack-button' });
  await ephemeral(respond, ctx)(await restartAnswer({ kind: 'restart', name }, run, ctx));
}

export function register(app: App, ctx: BotContext): void {
  app.action<BlockButtonAction>(ACTION_RESTART, async (args) => {
    await handleRestartButton(args, forRequest(ctx));
  });
}
