/**
 * The Status button: the system as Kubernetes sees it now, shown only to the clicker. It runs
 * the `status` command for the clicker, as `/tycho status -n NAME` would.
 */
import type { App, BlockButtonAction } from '@slack/bolt';
import { runCommand } from '../../commands/registry.js';
import { ackClick } from '../button-click.js';
import { ACTION_STATUS, plainMessage, statusMessage } from '../blocks.js';
import { forRequest, slackRunContext, type BotContext } from '../context.js';
import { errorText } from '../error-text.js';
import { code, md } from '../slack-text.js';
import { ephemeral, type ButtonArgs } from './teardown-button.js';
import { isTychoError } from '../../k8s/errors.js';

export async function handleStatusButton(args: ButtonArgs, ctx: BotContext): Promise<void> {
  const { body, respond } = args;
  const name = await ackClick(args);
  if (name === undefined) return;
  const tell = ephemeral(respond, ctx);
  // A block_actions payload does not say what the slash command is called in this workspace: the manifest's name.
  const channel = body.channel?.id ?? (body.container['channel_id'] as string | undefined);
  const run = slackRunContext(body.user.id, ctx, undefined, { channel, via: 'slack-button' });
  try {
    const { systems } = await runCommand({ kind: 'status', name }, run);
    await tell(statusMessage(systems, run.prefix));
  } catch (e) {
    if (isTychoError(e) && e.code === 'not_found') await tell(plainMessage(md`${code(name)} is gone: it has been torn down.`));
    else await tell(plainMessage(md`:x: ${errorText(e, ctx.log, `read the status of "${name}"`)}`));
  }
}

export function register(app: App, ctx: BotContext): void {
  app.action<BlockButtonAction>(ACTION_STATUS, async (args) => {
    await handleStatusButton(args, forRequest(ctx));
  });
}
