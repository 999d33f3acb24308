/**
 * Slack as a level-triggered reconciler. Every Slack thread Tycho keeps is rendered from the
 * current state of its system (the live view) plus the system's annotations, whoever changed
 * it: Slack, the CLI, REST, kubectl, a crash, a restart. Front ends only write intent.
 *
 * - What changes is a chat.update of the root message: safe to repeat, so after a restart or a
 *   failover the root simply shows the truth again.
 * - The few new posts (the Ready or Failed reply, the torn-down reply, notices) go through
 *   claim → post → record (src/k8s/claims.ts, src/k8s/thread-ledger.ts), so each appears at
 *   most once across restarts and replicas.
 * - Work for one system is serialised; systems proceed independently.
 * - Only the leader writes (isLeader is checked before every root update and before every
 *   claim); the claims still fence, since a Lease alone cannot guarantee a single leader. A
 *   reply once claimed is posted by its claimant, whose claim no one else can take.
 */
import { KeyedQueue } from '../concurrency.js';
import type { LiveView, Transition } from '../k8s/view/live-view.js';
import type { SystemState } from '../k8s/view/system-model.js';
import type { SystemInfo } from '../k8s/spec.js';
import { currentUrlCheck, urlCheckAnnotation } from '../k8s/url-check-record.js';
import type { UrlVerdict } from '../k8s/url-probe.js';
import * as labels from '../k8s/labels.js';
import { podFailureError, Timeout } from '../k8s/errors.js';
import { CLAIMED, type DeploymentClaims } from '../k8s/claims.js';
import type { ThreadEntry, ThreadLedger } from '../k8s/thread-ledger.js';
import { urlWarning } from '../commands/format.js';
import { failedReply, readyReply, rootMessage, tornDownReply, type RootFacts, type RootState } from './blocks.js';
import { md, plain } from './slack-text.js';
import type { Owner } from '../k8s/spec.js';
import type { BotContext, ThreadRef } from './context.js';
import { explain } from './error-text.js';
import type { SlackIO } from './slack-io.js';
import type { Logger } from '../log.js';

export interface ReconcilerDeps {
  view: LiveView;
  io: SlackIO;
  claims: DeploymentClaims;
  /** Absent when there is no Lease to keep it in (then deletions while stopped go unreported). */
  ledger?: ThreadLedger;
  /** Checked before every Slack write. */
  isLeader: () => boolean;
  /**
   * True while this process holds the Lease but its renewal is late (isLeader() is false until it
   * renews). Work held back then is tried again shortly: no event or new leadership would bring
   * it back.
   */
  lapsed?: () => boolean;
  /** The launcher's view of a system (URL, URL check) from the cached objects. */
  systemInfo: (s: SystemState) => SystemInfo;
  /** Opens the URL of a serving system before it is announced (the verdict is recorded with the Ready claim). */
  checkServing: (s: SystemState) => Promise<UrlVerdict>;
  /** The launcher's view of a system once `verdict` is recorded on it. */
  describeChecked: (s: SystemState, verdict: UrlVerdict) => SystemInfo;
  ctx: Pick<BotContext, 'notifyChannel'>;
  log: Logger;
  readyTimeoutSeconds: number;
  /** "/tycho " for the hints in failure replies. */
  prefix: string;
}

/** Slack message metadata: which system and which message, for whoever reads the channel later. */
const EVENT_TYPE = 'tycho_system_message';
/** Recorded instead of a ts when Slack refused the post (so it is not tried again). */
const NOT_POSTED = 'not-posted';
/** How soon work held back by a late Lease renewal is tried again (a renewal is tried every retry period). */
const LAPSE_RETRY_MS = 500;

export class SlackReconciler {
  /** One system's work at a time; systems proceed side by side. */
  private readonly chains = new KeyedQueue<string>();
  /** The last root message this process wrote per UID: repeats are skipped (they are harmless, not free). */
  private readonly lastRoot = new Map<string, string>();
  /** The last state of systems seen going, for their closing words. */
  private readonly goneStates = new Map<string, SystemState>();
  private readonly ledgered = new Set<string>();
  private readonly closed = new Set<string>();
  /** Ready replies this process posted, for closing words even before their record landed. */
  private readonly postedReady = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  /** Systems with a reconcile waiting to start. */
  private readonly queued = new Set<string>();
  private readonly onTransition = (t: Transition) => {
    if (t.to === 'gone') this.goneStates.set(t.uid, t.state);
    this.enqueue(t.uid, t.name);
  };
  private stopped = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  start(): void {
    this.stopped = false;
    this.deps.view.on('transition', this.onTransition);
  }

  /** Waits for the work in flight (for a drain on shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.view.off('transition', this.onTransition);
    for (const t of [...this.timers.values(), ...this.retries.values()]) clearTimeout(t);
    await this.chains.settled();
  }

  /**
   * Level-triggered catch-up: every system with a thread, and every ledger entry whose system is
   * gone (deleted while no Tycho was running, or during a watch gap). Run once the view has
   * synced, and whenever this process becomes the leader.
   */
  async resync(): Promise<void> {
    const live = new Set<string>();
    for (const s of this.deps.view.systems()) {
      live.add(s.uid);
      this.lastRoot.delete(s.uid);
      this.enqueue(s.uid, s.name);
    }
    if (!this.deps.ledger) return;
    let entries: Map<string, ThreadEntry>;
    try {
      entries = await this.deps.ledger.entries();
    } catch (e) {
      this.deps.log.warn('could not read the ledger of Slack threads', { error: (e as Error).message });
      return;
    }
    for (const [uid, entry] of entries) {
      if (live.has(uid)) continue;
      this.chain(uid, () => this.closeThread(uid, entry, undefined, 'while Tycho was not running'));
    }
  }

  /**
   * One reconcile queued per system at most: it reads the state when it runs, so the events that
   * arrive while it waits add nothing (a burst of launches sends several per system, and each
   * would otherwise cost a render and maybe a chat.update of its own).
   */
  private enqueue(uid: string, name: string): void {
    if (this.queued.has(uid)) return;
    this.queued.add(uid);
    this.chain(uid, () => {
      this.queued.delete(uid);
      return this.reconcile(uid, name);
    });
  }

  private chain(uid: string, work: () => Promise<void>): void {
    if (this.stopped) return;
    void this.chains
      .run(uid, work)
      .catch((e: unknown) => this.deps.log.warn('could not bring a Slack thread up to date', { uid, error: e instanceof Error ? e.message : String(e) }));
  }

  /** Whether this process may write to Slack now; if its Lease renewal is only late, `again` runs shortly. */
  private mayWrite(uid: string, again: () => Promise<void>): boolean {
    if (this.deps.isLeader()) return true;
    if (this.deps.lapsed?.() && !this.retries.has(uid) && !this.stopped) {
      const t = setTimeout(() => {
        this.retries.delete(uid);
        this.chain(uid, again);
      }, LAPSE_RETRY_MS);
      t.unref();
      this.retries.set(uid, t);
    }
    return false;
  }

  private async reconcile(uid: string, name: string): Promise<void> {
    const again = () => this.reconcile(uid, name);
    this.deps.log.debug('reconciling', { system: name, uid, leader: this.deps.isLeader(), stage: this.deps.view.system(name)?.stage ?? 'gone' });
    if (!this.mayWrite(uid, again)) return;
    const current = this.deps.view.system(name);
    const s = current?.uid === uid ? current : undefined;
    const last = s ?? this.goneStates.get(uid);
    if (!last) return;
    const a = last.deployment.metadata?.annotations ?? {};
    const thread = threadOf(a);
    if (!thread) return; // not launched from Slack
    const facts = factsOf(last);
    // The launch id recorded on the Deployment: these lines join the launch's others.
    const log = this.deps.log.child({ system: name, uid, ...labels.launchFields(a) });
    if (!s) {
      this.goneStates.delete(uid);
      await this.closeThread(uid, { name, channel: thread.channel, ts: thread.ts, image: facts.image, owner: facts.owner.display, ownerId: facts.owner.id, ...(a[labels.ANN_SLACK_READY_TS] ? { readyTs: a[labels.ANN_SLACK_READY_TS] } : {}) }, a[labels.ANN_DELETED_BY], undefined, log);
      return;
    }
    if (!this.ledgered.has(uid) && this.deps.ledger) {
      // Best effort: without the entry only a deletion while Tycho is stopped goes unreported.
      // The Ready reply already recorded goes in too: a new leader's put must not drop it, or
      // closing words after a later deletion could not take that reply's buttons away.
      await this.deps.ledger
        .put(uid, ledgerEntry(name, thread, facts, recordedTs(a[labels.ANN_SLACK_READY_TS])))
        .then(() => this.ledgered.add(uid))
        .catch((e: unknown) => log.warn('could not record the Slack thread in the ledger', { error: (e as Error).message }));
    }
    // The URL is announced (root and Ready reply) only once it answers, or with a warning that
    // it did not: it is opened once per system, and the verdict is recorded with the Ready claim.
    let info = this.deps.systemInfo(s);
    let verdict: UrlVerdict | undefined;
    // A Ready reply already claimed was announced with the check made then; only a reply still to
    // come needs one (a Service made again since voids the old one: url-check-record.ts).
    if (s.stage === 'ready' && !a[labels.ANN_SLACK_READY_TS] && !currentUrlCheck(a[labels.ANN_URL_CHECK], s)) {
      verdict = await this.deps.checkServing(s);
      info = this.deps.describeChecked(s, verdict);
    }
    const overdue = this.overdue(uid, name, s);
    const root = this.rootState(s, info, overdue, log);

    if (s.stage === 'ready' && !a[labels.ANN_SLACK_READY_TS]) {
      // The claim is the fence: whoever holds it is the only one who may post this reply, so it
      // posts even if its Lease lapsed meanwhile. Giving up here would lose the reply for good,
      // since every later leader finds it claimed. One write: the claim, and the URL check with it.
      const alongside: Record<string, string> = verdict ? { [labels.ANN_URL_CHECK]: urlCheckAnnotation(verdict, s) } : {};
      if (this.mayWrite(uid, again) && (await this.deps.claims.claim(name, uid, [labels.ANN_SLACK_READY_TS], { alongside, cached: s.deployment }))) {
        // The reply and the root's update go out together: neither waits for the other.
        const reply = async () => {
          const ts = await this.deps.io.post(thread.channel, readyReply(name, info.url, 'live', urlWarning(info)), thread.ts, { event_type: EVENT_TYPE, event_payload: { uid, key: 'ready' } });
          if (ts) this.postedReady.set(uid, ts);
          log.info(ts ? 'posted the Ready reply' : 'Slack refused the Ready reply', { url: info.url });
          await Promise.all([
            this.deps.claims.record(name, { [labels.ANN_SLACK_READY_TS]: ts ?? NOT_POSTED }),
            ts && this.deps.ledger ? this.deps.ledger.put(uid, ledgerEntry(name, thread, facts, ts)).catch(() => undefined) : undefined,
            this.deps.io.notify(this.deps.ctx, facts, { kind: 'ready', url: info.url }, thread),
          ]);
        };
        await Promise.all([reply(), this.updateRoot(uid, thread, facts, root)]);
        return;
      }
    }
    if (await this.updateRoot(uid, thread, facts, root)) log.debug('updated the root message', { state: root.kind });
    if (root.kind === 'failed' && !a[labels.ANN_SLACK_FAILED_TS]) {
      if (!this.mayWrite(uid, again) || !(await this.deps.claims.claim(name, uid, [labels.ANN_SLACK_FAILED_TS], { cached: s.deployment }))) return; // as above: claimed is posted
      const ts = await this.deps.io.post(thread.channel, failedReply(name, root.reason, true, this.deps.prefix), thread.ts, { event_type: EVENT_TYPE, event_payload: { uid, key: 'failed' } });
      await this.deps.claims.record(name, { [labels.ANN_SLACK_FAILED_TS]: ts ?? NOT_POSTED });
      log.info(ts ? 'posted the failure reply' : 'Slack refused the failure reply', { reason: root.title });
      await this.deps.io.notify(this.deps.ctx, facts, { kind: 'failed', title: root.title }, thread);
    }
  }

  /** The root message's state, from the system's state. */
  private rootState(s: SystemState, info: SystemInfo, overdue: boolean, log: Logger): RootState {
    const a = s.deployment.metadata?.annotations ?? {};
    switch (s.stage) {
      case 'ready':
        return { kind: 'ready', url: info.url };
      case 'failed': {
        const { title, text } = explain(podFailureError(s.name, info.image, s.failure!), log, `launch "${s.name}"`);
        return { kind: 'failed', title, reason: text, exists: true };
      }
      case 'unready':
        return { kind: 'failed', title: 'it stopped serving', reason: md`It no longer answers: ${plain(s.describe)}.`, exists: true };
      case 'terminating':
        return { kind: 'tearing-down', by: deleter(a[labels.ANN_DELETED_BY]) };
      default: {
        if (overdue) {
          const { title, text } = explain(new Timeout(s.name, this.deps.readyTimeoutSeconds, s.describe), log, `launch "${s.name}"`);
          return { kind: 'failed', title, reason: text, exists: true };
        }
        return { kind: 'launching', progress: s.describe };
      }
    }
  }

  /** Past the ready timeout without being ready; otherwise a re-check is scheduled for then. */
  private overdue(uid: string, name: string, s: SystemState): boolean {
    if (s.stage === 'ready' || s.stage === 'failed') return false;
    const created = Date.parse(s.deployment.metadata?.creationTimestamp as unknown as string) || Date.now();
    const due = created + this.deps.readyTimeoutSeconds * 1000;
    if (Date.now() >= due) return true;
    if (!this.timers.has(uid)) {
      const t = setTimeout(() => {
        this.timers.delete(uid);
        this.enqueue(uid, name);
      }, due - Date.now() + 100);
      t.unref();
      this.timers.set(uid, t);
    }
    return false;
  }

  /** True when it wrote to Slack (unchanged roots are not written again). */
  private async updateRoot(uid: string, thread: ThreadRef, facts: RootFacts, state: RootState): Promise<boolean> {
    const m = rootMessage(facts, state);
    const key = JSON.stringify(m);
    if (this.lastRoot.get(uid) === key) return false;
    if (!this.mayWrite(uid, () => this.reconcile(uid, facts.name))) return false;
    if (!(await this.deps.io.update(thread, m))) return false;
    this.lastRoot.set(uid, key);
    return true;
  }

  /**
   * The system is gone: the root says so, the Ready reply loses its buttons, and the thread gets
   * one closing reply. Removing the ledger entry is the claim (one writer wins): as with every
   * claim, a crash right after it loses the closing words rather than ever doubling them.
   */
  private async closeThread(uid: string, entry: ThreadEntry, by: string | undefined, when?: string, log = this.deps.log.child({ system: entry.name, uid })): Promise<void> {
    // Seen going by this process's view, rather than found in the ledger after the fact.
    const seen = when === undefined;
    if (this.closed.has(uid) || !this.mayWrite(uid, () => this.closeThread(uid, entry, by, when, log))) return;
    const clock = this.timers.get(uid);
    if (clock) clearTimeout(clock);
    if (this.deps.ledger) {
      let won: boolean;
      try {
        // Taking the entry out of the ledger is the claim. No entry at all, for a system this
        // process saw go and never recorded: it went before any reconcile got to it, so no one
        // else can be closing it.
        won = (await this.deps.ledger.take(uid)) || (seen && !this.ledgered.has(uid));
      } catch (e) {
        // No ledger to claim in: this process saw it go, and it alone is leader.
        log.warn('could not claim the Slack thread in the ledger', { error: (e as Error).message });
        won = seen;
      }
      if (!won) return;
    }
    this.closed.add(uid);
    const facts: RootFacts = { name: entry.name, image: entry.image ?? '', owner: { id: entry.ownerId ?? '', display: entry.owner ?? '' } };
    const thread = { channel: entry.channel, ts: entry.ts };
    const who = by ? deleter(by) : { id: '', display: when ? `someone ${when}` : 'someone outside Tycho' };
    const at = new Date();
    const readyTs = recordedTs(entry.readyTs) ?? this.postedReady.get(uid);
    this.postedReady.delete(uid);
    await this.deps.io.update(thread, rootMessage(facts, { kind: 'torn-down', by: who, at }));
    if (readyTs) await this.deps.io.update({ channel: thread.channel, ts: readyTs }, readyReply(entry.name, null, 'gone'));
    await this.deps.io.post(thread.channel, tornDownReply(who, at), thread.ts, { event_type: EVENT_TYPE, event_payload: { uid, key: 'gone' } });
    await this.deps.io.notify(this.deps.ctx, facts, { kind: 'torn-down', by: who }, thread);
    log.info('closed the Slack thread', { by: who.id || who.display });
    this.lastRoot.delete(uid);
    this.ledgered.delete(uid);
  }
}

/** A reply's ts as recorded, or undefined while it is only claimed or could not be posted. */
function recordedTs(v: string | undefined): string | undefined {
  return v && v !== CLAIMED && v !== NOT_POSTED ? v : undefined;
}

/** The ledger's entry for a thread, built in one place so that every writer writes the same entry. */
function ledgerEntry(name: string, thread: ThreadRef, facts: RootFacts, readyTs: string | undefined): ThreadEntry {
  return { name, channel: thread.channel, ts: thread.ts, image: facts.image, owner: facts.owner.display, ownerId: facts.owner.id, ...(readyTs ? { readyTs } : {}) };
}

function threadOf(a: Record<string, string>): ThreadRef | undefined {
  const channel = a[labels.ANN_SLACK_CHANNEL];
  const ts = a[labels.ANN_SLACK_TS];
  return channel && ts ? { channel, ts } : undefined;
}

function factsOf(s: SystemState): RootFacts {
  const a = s.deployment.metadata?.annotations ?? {};
  return { name: s.name, image: s.deployment.spec?.template.spec?.containers[0]?.image ?? '', owner: { id: a[labels.ANN_OWNER_ID] ?? '', display: a[labels.ANN_OWNER] ?? '' } };
}

/** Who tore it down, from the owner id recorded before the delete ("slack:U…", "cli:alice"). */
function deleter(id: string | undefined): Owner {
  if (!id) return { id: '', display: 'someone outside Tycho' };
  return { id, display: id.replace(/^[a-z]+:/, '') };
}
