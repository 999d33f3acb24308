/**
 * `/tycho up` after the ack writes intent: the root message first (its ts is the thread), then
 * the objects, with the thread's location in their create body, so every thread is recorded
 * exactly once, for free. Everything after that (progress, Ready, failure, teardown) is the
 * reconciler's (reconciler.ts), rendered from the cluster whoever changes it.
 */
import { runCommand } from '../commands/registry.js';
import type { UpInput } from '../commands/up.js';
import { ANN_SLACK_CHANNEL, ANN_SLACK_FAILED_TS, ANN_SLACK_READY_TS, ANN_SLACK_TS } from '../k8s/labels.js';
import { UNCLAIMED } from '../k8s/claims.js';
import { isTychoError } from '../k8s/errors.js';
import { failedReply, plainMessage, rootMessage, type Message, type RootFacts } from './blocks.js';
import { slackCaller, slackRunContext, type BotContext, type ThreadRef } from './context.js';
import { explain } from './error-text.js';
import { code, md } from './slack-text.js';
import type { SlackIO } from './slack-io.js';
import { newLogId } from '../log.js';

export interface LaunchRequest {
  command: UpInput;
  userId: string;
  channelId: string;
  /** The text as typed ("/tycho up -n …", env values masked), kept on the objects for whoever inspects them. */
  typed: string;
  /** "/tycho " (or whatever the command is called in this workspace). */
  prefix: string;
  io: SlackIO;
  /** Tells only the person who typed the command. */
  tell: (m: Message) => Promise<void>;
}

export async function launch(req: LaunchRequest, ctx: BotContext): Promise<void> {
  // The notices in the team channel are news of the launch, not steps of it: they are posted
  // meanwhile, and its place among the launches at work goes to the next one while they are.
  // A team channel Slack holds back (one post a second per channel) then holds back no launch.
  const { notices } = await ctx.launches(
    () => launchNow(req, ctx),
    // Beyond the launches at work at once: the requester hears, only they, that theirs waits and where.
    (position) => void req.tell(queuedMessage(req.command.args.name, position)).catch((e: unknown) => ctx.log.warn('could not tell the requester their launch is queued', { error: e instanceof Error ? e.message : String(e) })),
  );
  await notices;
}

/** "Queued": the launch waits for a place among those at work (TYCHO_LAUNCH_CONCURRENCY). */
export function queuedMessage(name: string, position: number): Message {
  const ahead = position === 1 ? 'it is next' : `${position - 1} other launches wait before it`;
  return plainMessage(md`Your launch of ${code(name)} is queued at position ${String(position)} (${ahead}): Tycho runs a few launches at a time, and starts it as soon as a place is free.`);
}

/** The launch's notices still being posted (SlackIO.notify keeps one thread's in order). */
interface Launched {
  notices: Promise<unknown>;
}

async function launchNow(req: LaunchRequest, ctx: BotContext): Promise<Launched> {
  const { args } = req.command;
  const caller = slackCaller(req.userId, ctx.admins);
  const facts: RootFacts = { name: args.name, image: args.image, owner: caller.owner };
  // One id from here to the reconciler's last reply: it is recorded on the Deployment.
  const launchId = newLogId();
  const log = ctx.log.child({ launchId, system: args.name });
  log.info('launch requested', { user: req.userId, channel: req.channelId, image: args.image });

  // The root message comes first: its ts is the thread, and it is recorded on the Deployment.
  const root = await req.io.tryPost(req.channelId, rootMessage(facts, { kind: 'launching' }));
  if (root.kind !== 'posted') {
    // Refused: the bot is not in the channel. Otherwise Slack was busy (rate limited past the
    // budget) or unreachable: inviting the bot would not help, trying again later will.
    await req.tell(
      root.kind === 'refused'
        ? plainMessage(md`I can't post in this channel, so I did not launch ${code(args.name)}. Invite me to the channel (\`/invite @Tycho\`) or use a channel I am in, and try again.`)
        : plainMessage(md`Slack is not taking my messages in this channel right now, so I did not launch ${code(args.name)}. Try again in a minute.`),
    );
    return { notices: Promise.resolve() };
  }
  const thread: ThreadRef = { channel: req.channelId, ts: root.ts };
  // Handled at once: it is awaited only after the creates, and a rejection left unhandled meanwhile would end the process.
  const noticed = (p: Promise<void>) => p.catch((e: unknown) => log.warn('could not post the notice in the team channel', { error: e instanceof Error ? e.message : String(e) }));
  const notices = [noticed(req.io.notify(ctx, facts, { kind: 'launching' }, thread))];

  try {
    // Intent only: the objects, carrying where their thread is. The reconciler (reconciler.ts)
    // follows the system from here and tells the thread, whichever replica or process runs it.
    await runCommand(req.command, {
      ...slackRunContext(req.userId, ctx, req.prefix, { channel: req.channelId, via: 'slack' }),
      originalText: req.typed,
      // The replies start unclaimed (empty): a claim is then one JSON patch that tests for empty,
      // with no read first and no conflict with the controllers' status writes (claims.ts).
      annotations: { [ANN_SLACK_CHANNEL]: thread.channel, [ANN_SLACK_TS]: thread.ts, [ANN_SLACK_READY_TS]: UNCLAIMED, [ANN_SLACK_FAILED_TS]: UNCLAIMED },
      launchId,
      wait: false,
    });
  } catch (e) {
    // Refused before anything existed (name in use, quota, RBAC), or undone: no system, so no
    // reconciler will ever tell this thread; say it here. An undo that could not finish (the API
    // server went away mid-launch) says what is still in the cluster, and the thread says so too.
    const { title, text } = explain(e, log, `launch "${args.name}"`);
    const left = isTychoError(e) && !!e.leftInPlace;
    // This reply is the thread's last word: its record is closed with it, so that the system's
    // undo, seen by a reconciler that missed its mark (a watch gap), adds no "torn down".
    const undone = isTychoError(e) ? e.undoneUid : undefined;
    if (undone && ctx.records) {
      await ctx.records
        .take(undone, { name: args.name, channel: thread.channel, ts: thread.ts, image: args.image, owner: caller.owner.display, ownerId: caller.owner.id })
        .catch((err: unknown) => log.warn('could not close the record of the failed launch\'s thread', { error: (err as Error).message }));
    }
    await req.io.post(thread.channel, failedReply(args.name, text, left, req.prefix), thread.ts);
    await req.io.update(thread, rootMessage(facts, { kind: 'failed', title, reason: text, exists: left }));
    notices.push(noticed(req.io.notify(ctx, facts, { kind: 'failed', title }, thread)));
  }
  return { notices: Promise.all(notices) };
}
