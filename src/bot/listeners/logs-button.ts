/**
 * The Logs button (on a crash alert, the App Home): runs the `logs` command for the clicker, as
 * `/tycho logs -n NAME` would (commands/logs.ts: only the owner or an admin, secrets redacted),
 * and answers as it does (bot/logs-reply.ts): the last lines in the system's thread when clicked
 * in its channel, else shown to the clicker only.
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import { runCommand } from '../../commands/registry.js';
import { isTychoError } from '../../k8s/errors.js';
import { DEFAULT_TAIL } from '../../k8s/pod-logs.js';
import { ackClick } from '../button-click.js';
import { ACTION_LOGS, plainMessage } from '../blocks.js';
import { forRequest, slackRunContext, type BotContext } from '../context.js';
import { errorText } from '../error-text.js';
import { replyWithLogs } from '../logs-reply.js';
import { SlackIO } from '../slack-io.js';
import { code, md } from '../slack-text.js';
import { refusalMark } from './restart-button.js';
import type { ButtonArgs } from './teardown-button.js';
import { clickPlace } from '../click-answer.js';

export async function handleLogsButton(args: ButtonArgs, ctx: BotContext): Promise<void> {
  const { body, client } = args;
  const name = await ackClick(args);
  if (name === undefined) return;
  // In the App Home the log goes to the system's thread, as /tycho logs there would, and the
  // clicker is told in a direct message (click-answer.ts).
  const { channel, tell } = await clickPlace(args, name, ctx);
  const run = slackRunContext(body.user.id, ctx, undefined, { channel, via: 'slack-button' });
  try {
    const result = await runCommand({ kind: 'logs', name, tail: DEFAULT_TAIL, previous: false }, run);
    await replyWithLogs({ result, userId: body.user.id, channelId: channel ?? '', io: new SlackIO(client, ctx.log), tell, log: ctx.log });
  } catch (e) {
    if (isTychoError(e) && e.code === 'not_found') await tell(plainMessage(md`${code(name)} is gone: it has no log any more.`));
    else await tell(plainMessage(md`${refusalMark(e)} ${errorText(e, ctx.log, `read the log of "${name}"`)}`));
  }
}

export function register(app: App, ctx: BotContext): void {
  app.action<BlockButtonAction>(ACTION_LOGS, async (args) => {
    await handleLogsButton(args, forRequest(ctx));
  });
}
