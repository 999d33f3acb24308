/**
 * Tearing a system down, for the button and for `/tycho down` alike: run the `down` command for
 * the person (it checks them on every request), remove the buttons once it has, delete, then
 * say so in the thread and on the root message. Where the thread is comes from the
 * Deployment's annotations, never from this process.
 */
import { runCommand } from '../commands/registry.js';
import { AlreadyTerminating, isTychoError } from '../k8s/errors.js';
import { ANN_SLACK_CHANNEL, ANN_SLACK_READY_TS, ANN_SLACK_TS } from '../k8s/labels.js';
import type { SystemInfo } from '../k8s/spec.js';
import { stateText } from '../commands/format.js';
import { ownerOf, plainMessage, rootMessage, withoutActions, type Message, type RootFacts } from './blocks.js';
import { slackRunContext, type BotContext, type ThreadRef } from './context.js';
import { errorText } from './error-text.js';
import { code, link, md } from './slack-text.js';
import type { SlackIO } from './slack-io.js';

export interface TeardownRequest {
  name: string;
  userId: string;
  /** Where it was asked (the command's channel, the clicked message's): policy channels.allow, the audit line. */
  channelId?: string;
  /** The audit line's front end: slack (the command, the default) or slack-button. */
  via?: 'slack' | 'slack-button';
  io: SlackIO;
  /** Tells only the person who asked (ephemeral). */
  tell: (m: Message) => Promise<void>;
  /** The message whose button was clicked, with its blocks, so its buttons can go too. */
  clicked?: ThreadRef & { blocks?: unknown[] };
  /** `/tycho down` confirms to the person; a click is answered by the thread itself. */
  confirm: boolean;
}

export type TeardownResult = 'torn-down' | 'refused' | 'gone' | 'busy' | 'failed';

function threadOf(s: SystemInfo): ThreadRef | undefined {
  const channel = s.annotations[ANN_SLACK_CHANNEL];
  const ts = s.annotations[ANN_SLACK_TS];
  return channel && ts ? { channel, ts } : undefined;
}

export async function teardown(req: TeardownRequest, ctx: BotContext): Promise<TeardownResult> {
  // One at a time per system: a double click runs after the first and finds it gone.
  const before = ctx.tearingDown.get(req.name) ?? Promise.resolve();
  const mine = before.then(() => teardownNow(req, ctx));
  const tail = mine.catch(() => undefined);
  ctx.tearingDown.set(req.name, tail);
  try {
    return await mine;
  } finally {
    if (ctx.tearingDown.get(req.name) === tail) ctx.tearingDown.delete(req.name);
  }
}

async function teardownNow(req: TeardownRequest, ctx: BotContext): Promise<TeardownResult> {
  const { name, io } = req;
  // The manifest's name: `/tycho down` passes its own prefix through its usage lines only.
  const run = slackRunContext(req.userId, ctx, undefined, { channel: req.channelId, via: req.via ?? 'slack' });
  const by = run.caller.owner;
  const stripClicked = async () => {
    if (req.clicked) await io.update(req.clicked, { text: code(name).text, blocks: withoutActions(req.clicked.blocks) });
  };

  // Set once every rule of `down` has passed (who may tear it down, and whatever else the
  // command checks), just before the delete: the system as it was, and where its thread is.
  let checked: { system: SystemInfo; thread: ThreadRef | undefined; facts: RootFacts } | undefined;
  const beforeChange = async (system: SystemInfo): Promise<void> => {
    // Another process (or one before a restart) started deleting it.
    // Thrown here, it stops the teardown and is audited as a refusal of its own kind.
    if (system.stage === 'terminating') throw new AlreadyTerminating(name);
    const thread = threadOf(system);
    const readyTs = system.annotations[ANN_SLACK_READY_TS];
    const ready = thread && readyTs ? { channel: thread.channel, ts: readyTs } : undefined;
    const facts: RootFacts = { name, image: system.image, owner: ownerOf(system) };
    checked = { system, thread, facts };
    // Take the buttons away first, so there is nothing left to click twice.
    const known = new Set([thread?.ts, ready?.ts]);
    await Promise.all([
      thread ? io.update(thread, rootMessage(facts, { kind: 'tearing-down', by })) : undefined,
      req.clicked && !known.has(req.clicked.ts) ? stripClicked() : undefined,
    ]);
  };

  try {
    // The button's value is only a name and anyone in the channel can click: the command checks
    // the person on every request, as it does for `/tycho down`. Who asked is written on the
    // Deployment before the delete: the reconciler's torn-down reply, root message and notice
    // say it, whichever replica posts them.
    await runCommand({ kind: 'down', name }, { ...run, beforeChange });
  } catch (e) {
    if (e instanceof AlreadyTerminating) {
      await req.tell(plainMessage(md`${code(name)} is already being torn down.`));
      return 'busy';
    }
    const gone = isTychoError(e) && e.code === 'not_found';
    if (!checked) {
      // Refused, or the look before it failed: nothing has changed.
      if (gone) {
        await stripClicked();
        await req.tell(plainMessage(md`${code(name)} is already gone: there is nothing to tear down.`));
        return 'gone';
      }
      await req.tell(plainMessage(md`:no_entry: ${errorText(e, ctx.log, `check who may tear down "${name}"`)}`));
      return isTychoError(e) && (e.code === 'not_owner' || e.code === 'policy' || e.code === 'usage' || e.code === 'unauthorized') ? 'refused' : 'failed';
    }
    // Someone else finished it in the meantime: it is gone, which is what was asked.
    if (!gone) {
      const { system, thread, facts } = checked;
      // Still there: put the root message (and its buttons) back so they can try again.
      if (thread) {
        const state = system.ready
          ? ({ kind: 'ready', url: system.url } as const)
          : ({ kind: 'failed', title: 'not ready', reason: md`${stateText(system)}`, exists: true } as const);
        await io.update(thread, rootMessage(facts, state));
      }
      await req.tell(plainMessage(md`:x: ${code(name)} was not torn down. ${errorText(e, ctx.log, `tear down "${name}"`)}`));
      return 'failed';
    }
  }
  const thread = checked?.thread;
  if (req.confirm || !thread) {
    const permalink = thread ? await io.permalink(thread) : undefined;
    await req.tell(plainMessage(md`Tore down ${code(name)}.${permalink ? md` ${link(permalink, 'See its thread.')}` : md``}`));
  }
  return 'torn-down';
}
