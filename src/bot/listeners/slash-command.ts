/**
 * `/tycho …`. Acks at once (Slack gives up after 3 s and does not retry), then works:
 * bad input and help are answered in the ack itself, since they need no cluster.
 */
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { Caller, RunContext } from '../../commands/command.js';
import { parseCommand } from '../../commands/parser.js';
import { precheck } from '../../policy/enforce.js';
import { enforceMaxTtl } from '../../commands/up.js';
import { commandModule, runCommand, type Command, type CommandName, type InputOf } from '../../commands/registry.js';
import { PolicyRefused, UsageError } from '../../k8s/errors.js';
import { helpMessage, plainMessage, statusMessage, usageMessage, type Message } from '../blocks.js';
import { commandPrefix, forRequest, slackCaller, slackRunContext, type BotContext } from '../context.js';
import { errorText } from '../error-text.js';
import { md } from '../slack-text.js';
import { launch } from '../launch.js';
import { replyWithLogs } from '../logs-reply.js';
import { SlackIO, slackError } from '../slack-io.js';
import { teardown } from '../teardown.js';
import { extendAnswer } from './extend-button.js';
import { restartAnswer } from './restart-button.js';

export type SlashCommandArgs = Pick<SlackCommandMiddlewareArgs, 'command' | 'ack' | 'respond'> & Pick<AllMiddlewareArgs, 'client' | 'context'>;

/** One slash command being answered. */
interface SlashRequest {
  userId: string;
  channelId: string;
  /** "/tycho " (or whatever the command is called in this workspace). */
  prefix: string;
  /** The text as typed, env values masked. */
  recorded: string;
  caller: Caller;
  /** For runCommand: this caller's launcher, policy and prefix. */
  run: RunContext;
  io: SlackIO;
  /** Tells only the person who typed the command. */
  tell: (m: Message) => Promise<void>;
}

/**
 * How Slack answers each command: a message for the person (ephemeral; in the ack itself for
 * commands answered at once), or undefined when the command answers in its own thread.
 */
type SlackAnswer<K extends CommandName> = (input: InputOf<K>, req: SlashRequest, ctx: BotContext) => Promise<Message | undefined>;

async function systemsAnswer(input: InputOf<'status'> | InputOf<'list'>, req: SlashRequest, ctx: BotContext): Promise<Message> {
  try {
    const result = await runCommand(input, req.run);
    return statusMessage(result.systems, req.prefix);
  } catch (e) {
    return plainMessage(md`:x: ${errorText(e, ctx.log, 'read the systems')}`);
  }
}

const ANSWERS: { [K in CommandName]: SlackAnswer<K> } = {
  up: async (input, req, ctx) => {
    await launch({ command: input, userId: req.userId, channelId: req.channelId, typed: req.recorded, prefix: req.prefix, io: req.io, tell: req.tell }, ctx);
    return undefined;
  },
  down: async (input, req, ctx) => {
    await teardown({ name: input.name, userId: req.userId, channelId: req.channelId, io: req.io, tell: req.tell, confirm: true }, ctx);
    return undefined;
  },
  extend: (input, req, ctx) => extendAnswer(input, req.run, ctx),
  restart: (input, req, ctx) => restartAnswer(input, req.run, ctx),
  status: systemsAnswer,
  list: systemsAnswer,
  logs: async (input, req, ctx) => {
    try {
      const result = await runCommand(input, req.run);
      await replyWithLogs({ result, userId: req.userId, channelId: req.channelId, io: req.io, tell: req.tell, log: ctx.log });
      return undefined;
    } catch (e) {
      return plainMessage(md`:x: ${errorText(e, ctx.log, `read the log of "${input.name}"`)}`);
    }
  },
  help: async (input, req) => helpMessage((await runCommand(input, req.run)).text),
};

/**
 * A command registered at run time has no entry above: it is run for the person and its result
 * shown in its own words (CommandModule.text).
 */
async function plainAnswer(input: { kind: string }, req: SlashRequest, ctx: BotContext): Promise<Message> {
  try {
    const result = await runCommand(input, req.run);
    return plainMessage(md`${commandModule(input.kind)?.text?.(result) ?? `Done: ${input.kind}.`}`);
  } catch (e) {
    return plainMessage(md`:x: ${errorText(e, ctx.log, `run "${input.kind}"`)}`);
  }
}

function answerOf<C extends Command>(cmd: C): SlackAnswer<C['kind']> {
  // ANSWERS[kind] takes exactly that kind's input; TypeScript cannot follow it through the union.
  return (Object.hasOwn(ANSWERS, cmd.kind) ? ANSWERS[cmd.kind] : plainAnswer) as unknown as SlackAnswer<C['kind']>;
}

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
  const run = slackRunContext(command.user_id, ctx, prefix, { channel: command.channel_id, via: 'slack' });

  let cmd: Command;
  let recorded: string;
  try {
    ({ command: cmd, recorded } = parseCommand(command.text ?? '', { frontEnd: 'slack', prefix }));
    // The policy's refusals come in the ack, like any bad input: no root message, nothing created.
    await precheck(cmd, run);
    // So is a --ttl over the operator's maximum (the command checks it again when it runs).
    if (cmd.kind === 'up' || cmd.kind === 'extend') enforceMaxTtl(cmd.kind === 'up' ? cmd.args.ttl : cmd.ttl, { launcher: ctx.launcher, prefix }, cmd.kind);
  } catch (e) {
    if (e instanceof PolicyRefused) {
      await ack({ response_type: 'ephemeral', ...plainMessage(md`:no_entry: ${errorText(e, ctx.log, 'check the policy')}`) });
      return;
    }
    if (!(e instanceof UsageError)) throw e;
    await ack({ response_type: 'ephemeral', ...usageMessage(e.message, e.usage) });
    return;
  }

  const req: SlashRequest = {
    userId: command.user_id,
    channelId: command.channel_id,
    prefix,
    recorded,
    caller,
    run,
    io: new SlackIO(client, ctx.log),
    tell: async (m: Message) => {
      try {
        await respond({ response_type: 'ephemeral', ...m });
      } catch (e) {
        ctx.log.warn('could not answer through response_url', { error: slackError(e) });
      }
    },
  };
  if (commandModule(cmd.kind)?.answeredAtOnce) {
    const answer = await answerOf(cmd)(cmd, req, ctx);
    await ack(answer ? { response_type: 'ephemeral', ...answer } : undefined);
    return;
  }
  await ack(); // Slack's clock stops here; everything below may wait on Kubernetes.
  const answer = await answerOf(cmd)(cmd, req, ctx);
  if (answer) await req.tell(answer);
}

/**
 * Slack only sends an app the commands its manifest declares, so any command name is ours:
 * a workspace that calls it /tycho-dev needs no code change.
 */
export function register(app: App, ctx: BotContext): void {
  app.command(/^\//, (args) => handleSlashCommand(args, forRequest(ctx)));
}
