/**
 * `/tycho …`. Acks at once (Slack gives up after 3 s and does not retry), then works:
 * bad input and help are answered in the ack itself, since they need no cluster.
 */
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { runCommand } from '../../commands/handlers.js';
import { parseCommand, type Command } from '../../commands/parser.js';
import { UsageError } from '../../k8s/errors.js';
import { helpMessage, plainMessage, statusMessage, usageMessage, type Message } from '../blocks.js';
import { commandPrefix, forRequest, slackCaller, slackPolicy, type BotContext } from '../context.js';
import { enforceLaunchPolicy } from '../../commands/policy.js';
import { errorText } from '../error-text.js';
import { md } from '../slack-text.js';
import { launch } from '../launch.js';
import { SlackIO, slackError } from '../slack-io.js';
import { teardown } from '../teardown.js';

export type SlashCommandArgs = Pick<SlackCommandMiddlewareArgs, 'command' | 'ack' | 'respond'> & Pick<AllMiddlewareArgs, 'client' | 'context'>;

export async function handleSlashCommand(args: SlashCommandArgs, ctx: BotContext): Promise<void> {
  const { command, ack, respond, client, context } = args;
  // A redelivery (X-Slack-Retry-Num) of a command already being handled must not launch twice.
  if (context.retryNum) {
    await ack();
    ctx.log.info('ignored a retried Slack delivery', { retryNum: context.retryNum, user: command.user_id });
    return;
  }
  // Usage lines name the command as this workspace spells it (e.g. /tycho-dev).
  const prefix = commandPrefix(command.command);
  const caller = slackCaller(command.user_id, ctx.admins);
  const policy = slackPolicy(caller, ctx);

  let cmd: Command;
  let recorded: string;
  try {
    ({ command: cmd, recorded } = parseCommand(command.text ?? '', { frontEnd: 'slack', prefix }));
    // Refused in the ack, like any bad input: no root message, nothing created.
    if (cmd.kind === 'up') enforceLaunchPolicy(cmd.args, policy, prefix);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    await ack({ response_type: 'ephemeral', ...usageMessage(e.message, e.usage) });
    return;
  }
  if (cmd.kind === 'help') {
    const out = await runCommand(cmd, { backend: ctx.backend, caller, prefix, policy });
    await ack({ response_type: 'ephemeral', ...helpMessage(out.kind === 'help' ? out.text : '') });
    return;
  }

  await ack(); // Slack's clock stops here; everything below may wait on Kubernetes.

  const io = new SlackIO(client, ctx.log);
  const tell = async (m: Message) => {
    try {
      await respond({ response_type: 'ephemeral', ...m });
    } catch (e) {
      ctx.log.warn('could not answer through response_url', { error: slackError(e) });
    }
  };
  switch (cmd.kind) {
    case 'up':
      await launch({ command: cmd, userId: command.user_id, channelId: command.channel_id, typed: recorded, prefix, io, tell }, ctx);
      return;
    case 'down':
      await teardown({ name: cmd.name, userId: command.user_id, io, tell, confirm: true }, ctx);
      return;
    case 'status':
    case 'list':
      try {
        const out = await runCommand(cmd, { backend: ctx.backend, caller, prefix, policy });
        if (out.kind === 'status') await tell(statusMessage(out.systems, prefix));
      } catch (e) {
        await tell(plainMessage(md`:x: ${errorText(e, ctx.log, 'read the systems')}`));
      }
      return;
  }
}

/**
 * Slack only sends an app the commands its manifest declares, so any command name is ours:
 * a workspace that calls it /tycho-dev needs no code change.
 */
export function register(app: App, ctx: BotContext): void {
  app.command(/^\//, (args) => handleSlashCommand(args, forRequest(ctx)));
}
