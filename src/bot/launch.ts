/**
 * `/tycho up` after the ack: root message → launch with progress in the thread → root message
 * updated → Ready reply (or the reason it failed). The thread's location goes onto the
 * Deployment as annotations, so `/tycho down` and the buttons find it later, from any process.
 */
import type { Command } from '../commands/parser.js';
import { runCommand } from '../commands/handlers.js';
import { isTychoError, TornDownWhileLaunching } from '../k8s/errors.js';
import { ANN_SLACK_CHANNEL, ANN_SLACK_READY_TS, ANN_SLACK_TS } from '../k8s/labels.js';
import type { Stage } from '../k8s/spec.js';
import { failedReply, plainMessage, PROGRESS_STAGES, progressReply, readyReply, rootMessage, type Message, type Notice, type RootFacts } from './blocks.js';
import { slackCaller, type BotContext, type ThreadRef } from './context.js';
import { explain } from './error-text.js';
import { code, md } from './slack-text.js';
import type { SlackIO } from './slack-io.js';

export interface LaunchRequest {
  command: Extract<Command, { kind: 'up' }>;
  userId: string;
  channelId: string;
  /** The text as typed ("/tycho up -n …"), kept on the objects for whoever inspects them. */
  typed: string;
  /** "/tycho " (or whatever the command is called in this workspace). */
  prefix: string;
  io: SlackIO;
  /** Tells only the person who typed the command. */
  tell: (m: Message) => Promise<void>;
}

export async function launch(req: LaunchRequest, ctx: BotContext): Promise<void> {
  const { args } = req.command;
  const caller = slackCaller(req.userId, ctx.admins);
  const facts: RootFacts = { name: args.name, image: args.image, owner: caller.owner };

  // The root message comes first: its ts is the thread, and it is recorded on the Deployment.
  const rootTs = await req.io.post(req.channelId, rootMessage(facts, { kind: 'launching' }));
  if (!rootTs) {
    await req.tell(
      plainMessage(md`I can't post in this channel, so I did not launch ${code(args.name)}. Invite me to the channel (\`/invite @Tycho\`) or use a channel I am in, and try again.`),
    );
    return;
  }
  const thread: ThreadRef = { channel: req.channelId, ts: rootTs };

  // Notifications go out in order but don't hold up the launch.
  let notices = Promise.resolve();
  const notify = (n: Notice) => {
    notices = notices.then(() => req.io.notify(ctx, facts, n, thread));
  };
  notify({ kind: 'launching' });

  // One reply per stage, in order: the launcher reports stage changes, this drops repeats.
  const seen = new Set<Stage>();
  let replies: Promise<unknown> = Promise.resolve();
  const onProgress = (stage: Stage) => {
    if (!PROGRESS_STAGES.includes(stage) || seen.has(stage)) return;
    seen.add(stage);
    replies = replies.then(() => req.io.post(thread.channel, progressReply(stage, args.image), thread.ts));
  };

  try {
    const outcome = await runCommand(req.command, {
      backend: ctx.backend,
      caller,
      prefix: req.prefix,
      originalText: req.typed,
      annotations: { [ANN_SLACK_CHANNEL]: thread.channel, [ANN_SLACK_TS]: thread.ts },
      onProgress,
    });
    if (outcome.kind !== 'up') return;
    const { url } = outcome.system;
    await replies;
    // The root goes to ready before the Ready reply is posted: the Tear down buttons first appear
    // with this update, and it is the launch's last write to the root, so a teardown (which can
    // only be clicked after it) always has the last word on the root message.
    await req.io.update(thread, rootMessage(facts, { kind: 'ready', url }));
    const readyTs = await req.io.post(thread.channel, readyReply(args.name, url), thread.ts);
    // Recorded so a teardown from anywhere can take that message's buttons away too.
    if (readyTs) {
      await ctx.backend.annotate?.(args.name, { [ANN_SLACK_READY_TS]: readyTs }).catch(async (e: unknown) => {
        // Torn down (from the root's buttons or `/tycho down`) before this message was recorded:
        // no teardown will find it, so its buttons go here.
        if (isTychoError(e) && e.code === 'not_found') {
          await req.io.update({ channel: thread.channel, ts: readyTs }, readyReply(args.name, url, 'gone'));
          return;
        }
        ctx.log.warn('could not record the Ready message on the Deployment', { system: args.name, error: (e as Error).message });
      });
    }
    notify({ kind: 'ready', url });
  } catch (e) {
    await replies;
    if (e instanceof TornDownWhileLaunching) {
      // Not a failure: someone asked for it. A teardown through this bot writes the root
      // message, the thread reply and the notice; one from the CLI or REST API writes nothing
      // to Slack, so the root must not be left saying "launching".
      await req.io.post(thread.channel, plainMessage(md`Launch stopped: it was torn down while starting.`), thread.ts);
      if (!ctx.tearingDown.has(args.name)) await req.io.update(thread, rootMessage(facts, { kind: 'stopped', at: new Date() }));
      await notices;
      return;
    }
    const { title, text } = explain(e, ctx.log, `launch "${args.name}"`);
    // A pod failure leaves the system in place (unless TYCHO_ON_FAILURE=delete); a name clash
    // or a refused create does not. Only offer to tear down what this launch created.
    const exists = await launchedHere(ctx, args.name, thread);
    await req.io.post(thread.channel, failedReply(args.name, text, exists, req.prefix), thread.ts);
    await req.io.update(thread, rootMessage(facts, { kind: 'failed', title, reason: text, exists }));
    notify({ kind: 'failed', title });
  }
  await notices;
}

/** True when a system of that name exists and belongs to this thread (not someone else's). */
async function launchedHere(ctx: BotContext, name: string, thread: ThreadRef): Promise<boolean> {
  try {
    const s = await ctx.backend.status(name);
    return s.annotations[ANN_SLACK_TS] === thread.ts && s.annotations[ANN_SLACK_CHANNEL] === thread.channel;
  } catch {
    return false;
  }
}
