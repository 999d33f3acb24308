/**
 * Slack as a level-triggered reconciler. Every Slack thread Tycho keeps is rendered from the
 * current state of its system (the live view) plus the system's annotations, whoever changed
 * it: Slack, the CLI, REST, kubectl, a crash, a restart. Front ends only write intent.
 *
 * - What changes is a chat.update of the root message: safe to repeat, so after a restart or a
 *   failover the root simply shows the truth again.
 * - The few new posts (the Ready or Failed reply, the torn-down reply, notices) go through
 *   claim → post → record (src/k8s/claims.ts, src/k8s/thread-records.ts), so each appears at
 *   most once across restarts and replicas.
 * - A served system that stops serving for less than the grace period is no incident; a longer
 *   outage is one reply, and its end one more ("serving again"), for every incident.
 * - What it keeps per system lives in one map entry, dropped when the system is gone and its
 *   closing words are said (or left to the leader): nothing grows with systems that came and went.
 * - Work for one system is serialised; systems proceed independently.
 * - Only the leader writes (isLeader is checked before every root update and before every
 *   claim); the claims still fence, since a Lease alone cannot guarantee a single leader. A
 *   reply once claimed is posted by its claimant, whose claim no one else can take.
 */
import { backoffMs, KeyedQueue } from '../concurrency.js';
import type { LiveView, Transition } from '../k8s/view/live-view.js';
import type { SystemState } from '../k8s/view/system-model.js';
import type { SystemInfo } from '../k8s/spec.js';
import { currentUrlCheck, urlCheckAnnotation } from '../k8s/url-check-record.js';
import type { UrlVerdict } from '../k8s/url-probe.js';
import * as labels from '../k8s/labels.js';
import { isTychoError, podFailureError, Timeout } from '../k8s/errors.js';
import { CLAIMED, type DeploymentClaims } from '../k8s/claims.js';
import { performance } from 'node:perf_hooks';
import type { ThreadEntry, ThreadRecord, ThreadRecords } from '../k8s/thread-records.js';
import { urlWarning } from '../commands/format.js';
import { crashAlert, expiredReply, expiryWarningReply, warningExtended, failedReply, outageReply, readyReply, recoveredReply, rootMessage, tornDownReply, urlChangedReply, type LogExcerpt, type Message, type Notice, type RootFacts, type RootState } from './blocks.js';
import { lastCrash, type Crash } from '../k8s/crash.js';
import { formatIncident, NO_CRASH, parseIncident, type Incident } from './incident.js';
import type { LogRequest } from '../k8s/pod-logs.js';
import { redactSecrets } from '../commands/redact.js';
import { formatDuration, msUntil, type ExpirySettings } from '../k8s/expiry.js';
import { ANN_URL_CHANGED } from '../k8s/node-ports.js';
import { md, plain } from './slack-text.js';
import type { Owner } from '../k8s/spec.js';
import type { BotContext, ThreadRef } from './context.js';
import { explain } from './error-text.js';
import { systemMessage, type PostOutcome, type SlackIO } from './slack-io.js';
import { markedBy, parsePending, withoutPending, withPending } from './pending-replies.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';

export interface ReconcilerDeps {
  view: LiveView;
  io: SlackIO;
  claims: DeploymentClaims;
  /** Absent when there is nowhere to keep them (then deletions while stopped go unreported). */
  records?: ThreadRecords;
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
  /**
   * How long a served system may stop serving before it is an incident (TYCHO_INCIDENT_GRACE_SECONDS);
   * also how long it must serve again before a crash's incident is over.
   */
  incidentGraceSeconds: number;
  /**
   * The last lines of a system's log as written (the reconciler redacts them), for incident
   * replies; absent: the replies carry none.
   */
  readLog?: (name: string, req: LogRequest) => Promise<string>;
  /** "/tycho " for the hints in failure replies. */
  prefix: string;
  /** This process's monotonic clock, in ms (tests drive it). Never compared with the API server's timestamps. */
  now?: () => number;
  /**
   * When to warn a thread of its system's expiry (`warningMs` before it), and what its Extend
   * button adds (`defaultTtlMs`). Absent: no warnings.
   */
  expiry?: Pick<ExpirySettings, 'warningMs' | 'defaultTtlMs'>;
  /** Wall-clock ms, to compare with expiries (which Tycho wrote by its own wall clock). */
  wallNow?: () => number;
}

/** A post's outcome as a pending reply's settlement: Slack has it (its ts) or refused it; undefined: still to be known. */
function settled(outcome: PostOutcome): { ts?: string } | undefined {
  if (outcome.kind === 'posted') return { ts: outcome.ts };
  return outcome.kind === 'refused' ? {} : undefined;
}

/** The key under which the update of a warning whose expiry moved counts its tries (it is no pending reply). */
const RETIRE_WARNING = 'retire-warning';
/** The key under which a reconcile that failed (the API away) counts its tries. */
const FAILED_RECONCILE = 'reconcile';
/** The key under which a Ready post given up counts its tries (its claim is the Ready record, not a pending mark). */
const READY_REPLY = 'ready';

/** Recorded instead of a ts when Slack refused the post (so it is not tried again). */
const NOT_POSTED = 'not-posted';
/** How soon work held back by a late Lease renewal is tried again (a renewal is tried every retry period). */
const LAPSE_RETRY_MS = 500;
/** A closing claim the API could not answer is tried again with this backoff (it never posts unclaimed). */
const CLOSE_RETRY_FIRST_MS = 500;
const CLOSE_RETRY_MAX_MS = 30_000;
/** How long a system gone before it served, with no one named as taking it, waits before its thread is closed. */
const UNEXPLAINED_GONE_WAIT_MS = 3_000;
/** setTimeout's longest delay (about 24.8 days); a warning due later is looked at again then. */
const LONGEST_WAKE_MS = 2 ** 31 - 1 - 1000;
/** Beyond the longest post attempt, before a claim is taken to be its dead writer's. */
const CLAIM_RECOVERY_MARGIN_MS = 2_000;
/** How many of the last log lines an incident reply carries. */
const INCIDENT_LOG_LINES = 20;
/** Pauses before this process tries again a Ready reply it gave up (Slack unreachable): they double up to the last. */
const READY_RETRY_FIRST_MS = 1_000;
const READY_RETRY_MAX_MS = 30_000;

/**
 * What this process keeps about one system with a Slack thread, in one place, so that one delete
 * forgets it: it lives while the system does (or while its closing words are still to be said).
 */
interface Tracked {
  /** When this process first saw the system, on its own clock: the ready timeout counts from here. */
  firstSeenMs: number;
  /** Since when (own clock) a served system has not served; undefined while it serves. */
  unservingSinceMs?: number;
  /** Since when (own clock) it serves without a break: a crash's incident ends once this is the grace period. */
  servingSinceMs?: number;
  /** The incident record and the newest crash its last reconcile saw: a change is reconciled (see onChanged). */
  incidentSeen?: string;
  crashSeen?: string;
  /** The last root message this process wrote: repeats are skipped (they are harmless, not free). */
  lastRoot?: string;
  /** The Ready reply this process posted, for closing words even before its record landed. */
  postedReady?: string;
  /** Its thread is recorded (src/k8s/thread-records.ts). */
  recorded?: boolean;
  /** Its record was found closed while it still exists: the thread had its last word (an undone launch's failure). */
  closedBefore?: boolean;
  /** The last state seen before it went, for its closing words. */
  gone?: SystemState;
  /** One wake-up: the ready timeout or the end of an outage's grace period. */
  wake?: { timer: NodeJS.Timeout; dueMs: number };
  /** When it was seen gone before it served, with no one named (see reconcile). */
  unexplainedSinceMs?: number;
  /** A Ready claim seen (its value), and since when on this process's clock: recovered once too old. */
  claimSeen?: { value: string; sinceMs: number };
  /** Work tried again later: after a late Lease renewal, or a closing claim the API could not answer. */
  retry?: NodeJS.Timeout;
  /** The expiry its last reconcile saw: a new one (an extend) is reconciled, for its own warning. */
  expiresSeen?: string;
  closeAttempts?: number;
  /** Root updates this process gave up, Slack away: the pause before the next grows with them. */
  rootTries?: number;
  /** Pending marks of replies (pending-replies.ts) seen, "KEY@TOKEN", and since when on this process's clock. */
  pendingSeen?: Map<string, number>;
  /** The pending marks last seen changing (onChanged): a change is reconciled, so their age counts from it. */
  pendingValue?: string;
  /** Per pending reply, the tries this process gave up (Slack or the API away): the pause before the next grows with them. */
  pendingTries?: Map<string, number>;
}

export class SlackReconciler {
  /** One system's work at a time; systems proceed side by side. */
  private readonly chains = new KeyedQueue<string>();
  /** Team-channel notices asked for and not yet posted (or given up): a stop waits for them. */
  private readonly notices = new Set<Promise<void>>();
  private readonly tracked = new Map<string, Tracked>();
  /** Systems with a reconcile waiting to start. */
  private readonly queued = new Set<string>();
  private readonly onTransition = (t: Transition) => {
    if (t.to === 'gone') {
      // Only systems with a thread are worth remembering; the rest are forgotten at once.
      if (threadOf(t.state.deployment.metadata?.annotations ?? {})) this.track(t.uid).gone = t.state;
      else this.forget(t.uid);
    }
    this.enqueue(t.uid, t.name);
  };
  /**
   * A change that moves no stage but the expiry (an extend): its warning is due at another time.
   * Only systems this process already follows; the rest come through transitions and resync.
   */
  private readonly onChanged = (s: SystemState) => {
    const t = this.tracked.get(s.uid);
    if (!t) return;
    const a = s.deployment.metadata?.annotations ?? {};
    // An extend; an incident opened or closed (the root shows it); a crash the stage did not show (a restart between two looks).
    // Pending marks set or settled (a reply to recover, or the next incident reply it held back).
    const pending = a[labels.ANN_SLACK_PENDING] ?? '';
    const pendingMoved = (t.pendingValue ?? '') !== pending;
    t.pendingValue = pending;
    if (t.expiresSeen !== a[labels.ANN_EXPIRES] || t.incidentSeen !== a[labels.ANN_SLACK_INCIDENT] || t.crashSeen !== lastCrash(s.pods)?.key || pendingMoved) this.enqueue(s.uid, s.name);
  };
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? (() => performance.now());
    this.wallNow = deps.wallNow ?? (() => Date.now());
  }

  private readonly wallNow: () => number;

  start(): void {
    this.stopped = false;
    this.deps.view.on('transition', this.onTransition);
    this.deps.view.on('changed', this.onChanged);
  }

  /**
   * Tells the team channel, without holding up the system's thread: a notice may wait for the
   * team channel's window (TYCHO_NOTICE_BATCH_MS) or for Slack, and the thread's next words (a
   * teardown right after Ready) must not wait with it. One thread's notices still go in the order
   * asked (SlackIO.notify queues them per thread); a stop waits for those still to go.
   */
  private tellTeam(facts: RootFacts, notice: Notice, thread: ThreadRef): void {
    const told: Promise<void> = this.deps.io
      .notify(this.deps.ctx, facts, notice, thread)
      .catch((e: unknown) => this.deps.log.warn('could not tell the team channel', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => this.notices.delete(told));
    this.notices.add(told);
  }

  /** Waits for the work in flight (for a drain on shutdown), and the notices it asked for. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.deps.view.off('transition', this.onTransition);
    this.deps.view.off('changed', this.onChanged);
    await this.chains.settled();
    await Promise.all([...this.notices]);
    for (const uid of [...this.tracked.keys()]) this.forget(uid);
    this.queued.clear();
  }

  /** Systems this process keeps anything about (for the memory tests: 0 once every system is gone). */
  get trackedCount(): number {
    return this.tracked.size + this.queued.size;
  }

  /**
   * Level-triggered catch-up: every system with a thread, and every open record whose system is
   * gone (deleted while no Tycho was running, or during a watch gap). Run once the view has
   * synced, and whenever this process becomes the leader. Never against a view that has not
   * synced: an empty cache (a refused list) says nothing about what exists.
   */
  async resync(): Promise<void> {
    if (!this.deps.view.synced) {
      this.deps.log.warn('not catching up on Slack threads: the live view has not synced', { problem: this.deps.view.problem });
      return;
    }
    let records: ThreadRecord[] | undefined;
    try {
      records = await this.deps.records?.all();
    } catch (e) {
      this.deps.log.warn('could not read the records of Slack threads', { error: (e as Error).message });
    }
    const recorded = new Set(records?.map((r) => r.uid));
    const live = new Set<string>();
    for (const s of this.deps.view.systems()) {
      live.add(s.uid);
      if (!threadOf(s.deployment.metadata?.annotations ?? {})) continue;
      const t = this.track(s.uid);
      delete t.lastRoot;
      // A new leader writes only the records that are missing, not one per open thread.
      if (records) t.recorded = recorded.has(s.uid);
      this.enqueue(s.uid, s.name);
    }
    let closing = 0;
    if (records && this.deps.records) {
      for (const r of records) {
        if (!r.open || live.has(r.uid) || this.deps.view.system(r.entry.name)?.uid === r.uid) continue;
        closing++;
        live.add(r.uid);
        this.chain(r.uid, () => this.closeThread(r.uid, r.entry, undefined, 'while Tycho was not running'));
      }
      void this.deps.records.sweep(records).catch((e: unknown) => this.deps.log.warn('could not remove old records of Slack threads', { error: (e as Error).message }));
    }
    // Said once the catch-up's work has run (tests and operators wait for it).
    await Promise.all([...live].map((uid) => this.chains.run(uid, async () => undefined)));
    this.deps.log.info('caught up on Slack threads', { systems: live.size - closing, records: records?.length, closing });
  }

  private track(uid: string): Tracked {
    let t = this.tracked.get(uid);
    if (!t) this.tracked.set(uid, (t = { firstSeenMs: this.now() }));
    return t;
  }

  /** Everything about a system, in one go: its timers too. */
  private forget(uid: string): void {
    const t = this.tracked.get(uid);
    if (!t) return;
    if (t.wake) clearTimeout(t.wake.timer);
    if (t.retry) clearTimeout(t.retry);
    this.tracked.delete(uid);
  }

  /**
   * One reconcile queued per system at most: it reads the state when it runs, so the events that
   * arrive while it waits add nothing (a burst of launches sends several per system, and each
   * would otherwise cost a render and maybe a chat.update of its own).
   */
  private enqueue(uid: string, name: string): void {
    if (this.queued.has(uid) || this.stopped) return;
    this.queued.add(uid);
    this.chain(uid, () => {
      this.queued.delete(uid);
      return this.reconcileOrRetry(uid, name);
    });
  }

  /**
   * One reconcile, from whichever way it was asked for (a change, a wake-up, a lapsed Lease's
   * retry). One the API failed under (a claim answered 503, a timeout) is tried again after a
   * growing pause: nothing else may bring this system back (a Ready system sends no more events).
   */
  private async reconcileOrRetry(uid: string, name: string): Promise<void> {
    try {
      await this.reconcile(uid, name);
      this.tracked.get(uid)?.pendingTries?.delete(FAILED_RECONCILE);
    } catch (e) {
      this.deps.log.warn('could not bring a Slack thread up to date; it will be tried again', { uid, system: name, error: e instanceof Error ? e.message : String(e) });
      if (!this.stopped) this.retryPendingLater(uid, name, FAILED_RECONCILE);
    }
  }

  private chain(uid: string, work: () => Promise<void>): void {
    if (this.stopped) return;
    void this.chains
      .run(uid, work)
      .catch((e: unknown) => this.deps.log.warn('could not bring a Slack thread up to date', { uid, error: e instanceof Error ? e.message : String(e) }));
  }

  /**
   * Whether this process may write to Slack now. If its Lease renewal is only late, `again` runs
   * shortly and the answer is 'later'; a follower's answer is 'no'.
   */
  private mayWrite(uid: string, again: () => Promise<void>): 'yes' | 'later' | 'no' {
    if (this.deps.isLeader()) return 'yes';
    if (!this.deps.lapsed?.() || this.stopped) return 'no';
    const t = this.track(uid);
    if (!t.retry) {
      t.retry = setTimeout(() => {
        delete t.retry;
        this.chain(uid, again);
      }, LAPSE_RETRY_MS);
      t.retry.unref();
    }
    return 'later';
  }

  /** Wakes the system's reconcile at `dueMs` (own clock), unless an earlier wake-up is set. */
  private wakeAt(uid: string, name: string, dueMs: number): void {
    const t = this.track(uid);
    if (t.wake && t.wake.dueMs <= dueMs) return;
    if (t.wake) clearTimeout(t.wake.timer);
    const timer = setTimeout(() => {
      delete t.wake;
      this.enqueue(uid, name);
    }, Math.max(0, dueMs - this.now()) + 50);
    timer.unref();
    t.wake = { timer, dueMs };
  }

  private async reconcile(uid: string, name: string): Promise<void> {
    const again = () => this.reconcileOrRetry(uid, name);
    const current = this.deps.view.system(name);
    const s = current?.uid === uid ? current : undefined;
    const last = s ?? this.tracked.get(uid)?.gone;
    const a = last?.deployment.metadata?.annotations ?? {};
    const thread = threadOf(a);
    if (!last || !thread) return this.forget(uid); // gone long ago, or not launched from Slack
    this.deps.log.debug('reconciling', { system: name, uid, leader: this.deps.isLeader(), stage: s?.stage ?? 'gone' });
    const t = this.track(uid);
    const facts = factsOf(last);
    // The launch id recorded on the Deployment: these lines join the launch's others.
    const log = this.deps.log.child({ system: name, uid, ...labels.launchFields(a) });
    if (!s) {
      // Gone before it ever served, and nobody said who took it: maybe a launch that failed
      // half-way and was undone, whose front end closes the thread's record with its own failure
      // reply as soon as the undo is done. Give it that moment rather than race it with a wrong
      // "torn down by someone outside Tycho" (a view that missed the undo's mark in a watch gap).
      if (!a[labels.ANN_DELETED_BY] && !a[labels.ANN_URL_CHECK] && !t.unexplainedSinceMs) {
        t.unexplainedSinceMs = this.now();
        return this.wakeAt(uid, name, t.unexplainedSinceMs + UNEXPLAINED_GONE_WAIT_MS);
      }
      if (t.unexplainedSinceMs && this.now() < t.unexplainedSinceMs + UNEXPLAINED_GONE_WAIT_MS) return;
      const entry = ledgerEntry(name, thread, facts, recordedTs(a[labels.ANN_SLACK_READY_TS]));
      return this.closeThread(uid, entry, a[labels.ANN_DELETED_BY], undefined, log);
    }
    // Followers keep only when they first saw it (for the ready timeout, should they lead).
    if (this.mayWrite(uid, again) !== 'yes') return;
    if (a[labels.ANN_DELETED_BY] === labels.LAUNCH_UNDONE) {
      // A launch that failed half-way, being undone: its thread was told it failed. The root
      // says so still (a view that saw it come back after an outage must not say "launching").
      await this.updateRoot(uid, thread, facts, UNDONE_ROOT);
      return;
    }
    if (!t.recorded && this.deps.records) {
      // Best effort: without the record only a deletion while Tycho is stopped goes unreported.
      await this.deps.records
        .open(uid, ledgerEntry(name, thread, facts, recordedTs(a[labels.ANN_SLACK_READY_TS])))
        .then((state) => {
          t.recorded = true;
          if (state === 'closed') t.closedBefore = true;
        })
        .catch((e: unknown) => log.warn('could not record the Slack thread', { error: (e as Error).message }));
    }
    // Closed before this view caught up (a launch undone while the watch was cut): its front end
    // had the last word, and a stale "launching" must not paint over it. Closed by this process's
    // front end: known at once, however the record was found when it was opened.
    if (t.closedBefore || this.deps.records?.closedHere(uid)) return;
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
    const outage = this.outage(uid, name, s, t);
    if (outage.shortGapMs !== undefined) log.info('serving again within the grace period: no incident', { gapMs: Math.round(outage.shortGapMs) });
    const overdue = this.overdue(uid, name, s, t);
    const root = this.rootState(s, info, overdue, outage, log);

    if (s.stage === 'ready' && !a[labels.ANN_SLACK_READY_TS] && this.mayWrite(uid, again) === 'yes') {
      // The claim is the fence: whoever holds it is the only one who may post this reply, so it
      // posts even if its Lease lapsed meanwhile. It is taken when the post's turn in its channel
      // comes (SlackIO.tryPost), so a claim is never older than MAX_POST_ATTEMPT_MS while its
      // writer lives: an older one is recovered (recoverReady). One write: the claim, and the URL
      // check with it. The reply and the root's update go out together: neither waits for the other.
      const alongside: Record<string, string> = {
        ...(verdict ? { [labels.ANN_URL_CHECK]: urlCheckAnnotation(verdict, s) } : {}),
        // A crash before it ever served was its launch's, not an incident: the baseline of crash alerts.
        ...(a[labels.ANN_SLACK_INCIDENT] ? {} : { [labels.ANN_SLACK_INCIDENT]: formatIncident({ n: 0, open: false, kind: 'outage', crashKey: lastCrash(s.pods)?.key ?? NO_CRASH }) }),
      };
      const claim = () => this.deps.claims.claim(name, uid, [labels.ANN_SLACK_READY_TS], { alongside, cached: s.deployment });
      const reply = async () => {
        const outcome = await this.deps.io.tryPost(thread.channel, readyReply(name, info.url, 'live', urlWarning(info)), { threadTs: thread.ts, metadata: systemMessage(uid, 'ready'), claim });
        if (outcome.kind === 'not-claimed') return false;
        await this.afterReadyPost(uid, name, thread, facts, info, outcome, t, CLAIMED, log);
        return true;
      };
      const [posted] = await Promise.all([reply(), this.updateRoot(uid, thread, facts, root)]);
      if (posted) return;
    }
    const readyClaim = a[labels.ANN_SLACK_READY_TS];
    if (s.stage === 'ready' && readyClaim?.startsWith(CLAIMED)) await this.recoverReady(uid, s, thread, facts, info, readyClaim, t, again, log);
    else delete t.claimSeen;
    if (await this.updateRoot(uid, thread, facts, root)) log.debug('updated the root message', { state: root.kind });
    await this.recoverPending(uid, s, thread, facts, info, t, again, log);
    await this.tellIncident(uid, s, thread, facts, outage, info, again, log);
    await this.tellUrlChanged(uid, s, thread, info, again, log);
    await this.warnOfExpiry(uid, s, thread, facts, t, again, log);
    if (root.kind === 'failed' && !outage.served && !a[labels.ANN_SLACK_FAILED_TS]) {
      if (this.mayWrite(uid, again) !== 'yes') return;
      // As the Ready reply: claimed at its turn in the channel; one given up unsure stays claimed
      // (at most once: a failure reply is not recovered, the root already says it failed).
      const claim = () => this.deps.claims.claim(name, uid, [labels.ANN_SLACK_FAILED_TS], { cached: s.deployment });
      const outcome = await this.deps.io.tryPost(thread.channel, failedReply(name, root.reason, true, this.deps.prefix), { threadTs: thread.ts, metadata: systemMessage(uid, 'failed'), claim });
      if (outcome.kind === 'not-claimed') return;
      if (outcome.kind === 'posted' || outcome.kind === 'refused') await this.deps.claims.record(name, { [labels.ANN_SLACK_FAILED_TS]: outcome.kind === 'posted' ? outcome.ts : NOT_POSTED });
      log.info(outcome.kind === 'posted' ? 'posted the failure reply' : 'the failure reply was not posted', { reason: root.title, outcome: outcome.kind });
      if (outcome.kind === 'posted' || outcome.kind === 'refused') this.tellTeam(facts, { kind: 'failed', title: root.title }, thread);
    }
  }

  /** What became of a Ready post: its ts recorded (or that Slack refused it); one left unsure stays claimed, to be recovered. */
  private async afterReadyPost(uid: string, name: string, thread: ThreadRef, facts: RootFacts, info: SystemInfo, outcome: PostOutcome, t: Tracked, claimValue: string, log: Logger): Promise<void> {
    if (outcome.kind === 'posted' || outcome.kind === 'refused') t.pendingTries?.delete(READY_REPLY);
    if (outcome.kind === 'posted') {
      t.postedReady = outcome.ts;
      log.info(outcome.found ? 'found the Ready reply an earlier try posted' : 'posted the Ready reply', { url: info.url });
      await Promise.all([
        this.deps.claims.record(name, { [labels.ANN_SLACK_READY_TS]: outcome.ts }),
        this.deps.records ? this.deps.records.setReadyTs(uid, outcome.ts).catch(() => undefined) : undefined,
      ]);
      this.tellTeam(facts, { kind: 'ready', url: info.url }, thread);
    } else if (outcome.kind === 'refused') {
      log.info('Slack refused the Ready reply', { url: info.url, error: outcome.error });
      await this.deps.claims.record(name, { [labels.ANN_SLACK_READY_TS]: NOT_POSTED });
    } else if (outcome.kind !== 'not-claimed') {
      // Rate limited past the budget, or Slack unreachable: the claim stays, and whoever leads
      // once it is older than the longest attempt (this process too) looks for the reply and posts it.
      log.warn('the Ready reply is not posted yet; it stays claimed and will be tried again', { outcome: outcome.kind, error: outcome.error });
      this.retryPendingLater(uid, name, READY_REPLY, claimValue);
    }
  }

  /**
   * A Ready reply claimed for longer than any writer can still be posting it (MAX_POST_ATTEMPT_MS,
   * on this process's clock, from when it first saw that claim): its writer died or gave up. The
   * claim is taken over (a resourceVersion-guarded swap, so one recoverer wins), the thread is
   * searched for the reply the writer may have posted before it died, and only then is it posted.
   * Takeover, search and post are one attempt within one budget (tryPost's claim and lookFirst), so
   * a recoverer's own claim is never older than the longest attempt while it still works on it.
   */
  private async recoverReady(uid: string, s: SystemState, thread: ThreadRef, facts: RootFacts, info: SystemInfo, claimed: string, t: Tracked, again: () => Promise<void>, log: Logger): Promise<void> {
    if (t.claimSeen?.value !== claimed) t.claimSeen = { value: claimed, sinceMs: this.now() };
    const due = t.claimSeen.sinceMs + this.deps.io.maxAttemptMs + CLAIM_RECOVERY_MARGIN_MS;
    if (this.now() < due) return this.wakeAt(uid, s.name, due);
    if (this.mayWrite(uid, again) !== 'yes') return;
    const mine = `${CLAIMED}:${randomUUID().slice(0, 8)}`;
    const takeOver = async () => {
      const taken = await this.deps.claims.swap(s.name, uid, labels.ANN_SLACK_READY_TS, claimed, mine, s.deployment);
      if (taken) log.info('recovering a Ready reply whose claim outlived its writer', { claim: claimed });
      return taken;
    };
    const outcome = await this.deps.io.tryPost(thread.channel, readyReply(s.name, info.url, 'live', urlWarning(info)), { threadTs: thread.ts, metadata: systemMessage(uid, 'ready'), claim: takeOver, lookFirst: true });
    if (outcome.kind === 'not-claimed') return;
    delete t.claimSeen;
    // Not settled (still claimed, by this process now): recovered again after a pause.
    await this.afterReadyPost(uid, s.name, thread, facts, info, outcome, t, mine, log);
  }

  /**
   * Where a served system stands: a gap in serving shorter than the grace period (a pod replaced,
   * an eviction, a rollout) is no incident, and the root keeps saying ready. A longer one is. A
   * crash (a container that exited non-zero or was OOMKilled, k8s/crash.ts) is one at once,
   * even if it is back within the grace period: what it held in memory (a notebook's kernel) is
   * lost, and its owner wants to know. A crash's incident is over once it has served for the
   * grace period again, so a crash loop with short Ready moments is one incident, not one per restart.
   */
  private outage(uid: string, name: string, s: SystemState, t: Tracked): Outage {
    const a = s.deployment.metadata?.annotations ?? {};
    const served = !!a[labels.ANN_URL_CHECK];
    const incident = parseIncident(a[labels.ANN_SLACK_INCIDENT]);
    const serving = s.stage === 'ready';
    const crash = served ? lastCrash(s.pods) : undefined;
    t.incidentSeen = a[labels.ANN_SLACK_INCIDENT];
    t.crashSeen = crash?.key;
    // Not told yet: newer than the crash the record accounts for (a record of the older form accounts for none: it is adopted, not told).
    const newCrash = crash && incident.crashKey !== undefined && crash.key !== incident.crashKey && s.stage !== 'terminating' ? crash : undefined;
    const base = { served, serving, incident, ...(crash ? { crash } : {}), ...(newCrash ? { newCrash } : {}) };
    if (serving) {
      t.servingSinceMs ??= this.now();
      const stableAt = t.servingSinceMs + this.deps.incidentGraceSeconds * 1000;
      const stable = this.now() >= stableAt;
      if (!stable && incident.open && incident.kind === 'crash') this.wakeAt(uid, name, stableAt);
      const gapMs = t.unservingSinceMs === undefined ? undefined : this.now() - t.unservingSinceMs;
      delete t.unservingSinceMs;
      return { ...base, long: false, stable, ...(gapMs !== undefined && !incident.open && !newCrash ? { shortGapMs: gapMs } : {}) };
    }
    delete t.servingSinceMs;
    if (!served || s.stage === 'terminating') {
      delete t.unservingSinceMs;
      return { ...base, long: false, stable: false };
    }
    t.unservingSinceMs ??= this.now();
    const dueMs = t.unservingSinceMs + this.deps.incidentGraceSeconds * 1000;
    const long = this.now() >= dueMs;
    if (!long) this.wakeAt(uid, name, dueMs);
    return { ...base, long, stable: false };
  }

  /**
   * The last lines of the log for an incident reply, redacted: the crashed run's (previous) when
   * the container restarted. Never throws: a log that cannot be read is said so in the reply.
   */
  private async logExcerpt(name: string, previous: boolean): Promise<LogExcerpt | undefined> {
    if (!this.deps.readLog) return undefined;
    try {
      const { text, count } = redactSecrets(await this.deps.readLog(name, { tail: INCIDENT_LOG_LINES, previous }));
      return { text, previous, redacted: count };
    } catch (e) {
      return { unavailable: isTychoError(e) ? e.message : 'Tycho could not read it.' };
    }
  }

  /**
   * One reply when an incident starts (a crash, at once; a gap in serving, past the grace
   * period), one when it ends: each move is claimed on the Deployment (a guarded swap of the
   * incident record), so of two replicas one tells it.
   */
  private async tellIncident(uid: string, s: SystemState, thread: ThreadRef, facts: RootFacts, o: Outage, info: SystemInfo, again: () => Promise<void>, log: Logger): Promise<void> {
    if (!o.served) return;
    const current = s.deployment.metadata?.annotations?.[labels.ANN_SLACK_INCIDENT];
    const i = o.incident;
    const swap = (next: Incident) => this.deps.claims.swap(s.name, uid, labels.ANN_SLACK_INCIDENT, current, formatIncident(next), s.deployment);
    const record = (next: Incident) => ({ key: labels.ANN_SLACK_INCIDENT, expected: current, next: formatIncident(next) });
    // An incident's replies go in order: none while an earlier one is still to reach Slack (recoverPending posts it first).
    if ([...parsePending(s.deployment.metadata?.annotations?.[labels.ANN_SLACK_PENDING]).keys()].some((k) => /^(crash|outage|recovered)-/.test(k))) return;
    if (i.crashKey === undefined) {
      // Served before crash alerts, or before its Ready claim recorded a baseline: what has crashed so far is adopted, quietly.
      if (this.mayWrite(uid, again) !== 'yes') return;
      await swap({ ...i, crashKey: o.crash?.key ?? NO_CRASH });
      return;
    }
    if (o.newCrash && !i.open) {
      const c = o.newCrash;
      if (this.mayWrite(uid, again) !== 'yes') return;
      // Read before the claim, so that claim and post are close together.
      const excerpt = await this.logExcerpt(s.name, true);
      const n = i.n + 1;
      const told = await this.tellOnce(uid, s, thread, `crash-${n}`, crashAlert(s.name, c, facts.owner, this.deps.prefix, excerpt ?? { unavailable: 'Tycho reads no logs here.' }), record({ n, open: true, kind: 'crash', crashKey: c.key }), log);
      if (told) log.info('posted a crash alert', { incident: n, reason: c.reason, exitCode: c.exitCode, pod: c.pod, restartCount: c.restartCount });
    } else if (o.long && !i.open) {
      if (this.mayWrite(uid, again) !== 'yes') return;
      const restarted = (s.pods.find((p) => !p.metadata?.deletionTimestamp)?.status?.containerStatuses?.[0]?.restartCount ?? 0) > 0;
      const excerpt = await this.logExcerpt(s.name, restarted);
      const n = i.n + 1;
      const told = await this.tellOnce(uid, s, thread, `outage-${n}`, outageReply(s.name, md`${plain(s.describe)}.`, facts.owner, this.deps.prefix, excerpt), record({ n, open: true, kind: 'outage', crashKey: o.crash?.key ?? i.crashKey }), log);
      if (told) log.info('posted an outage reply', { incident: n, reason: s.describe });
    } else if (o.serving && i.open && (i.kind !== 'crash' || o.stable)) {
      const n = i.n;
      if (this.mayWrite(uid, again) !== 'yes') return;
      // The crashes of this incident (a loop's restarts) are accounted for with it.
      const told = await this.tellOnce(uid, s, thread, `recovered-${n}`, recoveredReply(s.name, info.url), record({ n, open: false, kind: i.kind, crashKey: o.crash?.key ?? i.crashKey }), log);
      if (told) log.info('posted a serving-again reply', { incident: n });
    }
  }

  /**
   * A reply told once (pending-replies.ts): claimed when its turn in the channel comes, by a
   * guarded swap of its record from `expected` to `next` that also marks it pending; tried within
   * the budget; the mark removed once Slack has it or refused it. One left unsure stays marked and
   * is recovered (recoverPending): by whoever leads once the mark is older than any attempt, or
   * by this process after a growing pause. True once Slack has it.
   */
  private async tellOnce(uid: string, s: SystemState, thread: ThreadRef, key: string, message: Message, rec: { key: string; expected: string | undefined; next: string }, log: Logger): Promise<boolean> {
    const token = randomUUID().slice(0, 8);
    const claim = () =>
      this.deps.claims.guardedPatch(
        s.name,
        uid,
        (a) => a[rec.key] === rec.expected,
        (a) => ({ [rec.key]: rec.next, [labels.ANN_SLACK_PENDING]: withPending(a[labels.ANN_SLACK_PENDING], key, token) }),
        s.deployment,
        'claim a Slack reply on the Deployment',
      );
    const outcome = await this.deps.io.tryPost(thread.channel, message, { threadTs: thread.ts, metadata: systemMessage(uid, key), claim });
    if (outcome.kind === 'not-claimed') return false;
    await this.settlePending(uid, s.name, key, token, settled(outcome), log);
    return outcome.kind === 'posted';
  }

  /**
   * A pending reply settled (Slack has it, with its ts, or refused it) loses its mark; an expiry
   * warning's ts is recorded with it (so an extend from anywhere can update it). One not settled
   * is recovered later.
   */
  private async settlePending(uid: string, name: string, key: string, token: string, done: { ts?: string } | undefined, log: Logger): Promise<void> {
    if (done) {
      this.tracked.get(uid)?.pendingTries?.delete(key);
      const still = (a: Record<string, string>) => markedBy(a, key, token);
      const warning: Record<string, string> = done.ts && key.startsWith('expiry-') ? { [labels.ANN_SLACK_EXPIRY_WARNING_TS]: done.ts } : {};
      await this.deps.claims
        // Read afresh: the view has rarely caught up with the claim just written, and a stale copy costs a 409 more.
        .guardedPatch(name, uid, still, (a) => ({ ...warning, [labels.ANN_SLACK_PENDING]: withoutPending(a[labels.ANN_SLACK_PENDING], key) }), undefined, 'record a Slack reply on the Deployment')
        .catch((e: unknown) => log.warn('could not record a Slack reply; it may be looked for again', { reply: key, error: (e as Error).message }));
      return;
    }
    log.warn('a thread reply is not posted yet; it stays claimed and will be tried again', { reply: key });
    this.retryPendingLater(uid, name, key, token);
  }

  /**
   * No writer is working on this pending reply now (this process gave it up): its recovery need
   * not wait out a writer's longest attempt, only a pause that grows (per reply) while Slack or
   * the API stays away; a wake-up, since nothing else may bring this system's reconcile back.
   * (A whole reconcile that failed is tried again the same way, under FAILED_RECONCILE.)
   * `token`: the mark (for the Ready reply, its claim) as this process left it (absent: as it is, whatever it is).
   */
  private retryPendingLater(uid: string, name: string, key: string, token?: string): void {
    const t = this.track(uid);
    const tries = (t.pendingTries ??= new Map()).get(key) ?? 0;
    t.pendingTries.set(key, tries + 1);
    const pause = backoffMs(tries, READY_RETRY_FIRST_MS, READY_RETRY_MAX_MS);
    // Seen as if since a writer's longest attempt before the pause ends: recovered then.
    const sinceMs = this.now() + pause - this.deps.io.maxAttemptMs - CLAIM_RECOVERY_MARGIN_MS;
    if (token && key === READY_REPLY) t.claimSeen = { value: token, sinceMs };
    else if (token) (t.pendingSeen ??= new Map()).set(`${key}@${token}`, sinceMs);
    this.wakeAt(uid, name, this.now() + pause);
  }

  /**
   * Replies marked pending for longer than any writer can still be posting them (on this
   * process's clock, from when it first saw the mark): taken over (one recoverer wins the
   * guarded swap of the mark), looked for in the thread, and posted only if not there. A reply
   * that is no longer true (a warning for an expiry since extended) loses its mark unposted.
   */
  private async recoverPending(uid: string, s: SystemState, thread: ThreadRef, facts: RootFacts, info: SystemInfo, t: Tracked, again: () => Promise<void>, log: Logger): Promise<void> {
    const marks = parsePending(s.deployment.metadata?.annotations?.[labels.ANN_SLACK_PENDING]);
    const seen = (t.pendingSeen ??= new Map());
    // A mark gone (settled, or taken over) is forgotten; a reply marked again starts its age afresh.
    const current = new Set([...marks].map(([key, token]) => `${key}@${token}`));
    for (const mark of [...seen.keys()]) if (!current.has(mark)) seen.delete(mark);
    if (s.stage === 'terminating') return;
    for (const [key, token] of marks) {
      const mark = `${key}@${token}`;
      if (!seen.has(mark)) seen.set(mark, this.now());
      const due = seen.get(mark)! + this.deps.io.maxAttemptMs + CLAIM_RECOVERY_MARGIN_MS;
      if (this.now() < due) {
        this.wakeAt(uid, s.name, due);
        continue;
      }
      if (this.mayWrite(uid, again) !== 'yes') return;
      const mine = randomUUID().slice(0, 8);
      const takeOver = async () => {
        const taken = await this.deps.claims.guardedPatch(
          s.name,
          uid,
          (a) => markedBy(a, key, token),
          (a) => ({ [labels.ANN_SLACK_PENDING]: withPending(a[labels.ANN_SLACK_PENDING], key, mine) }),
          s.deployment,
          'recover a Slack reply on the Deployment',
        );
        if (taken) log.info('recovering a thread reply whose claim outlived its writer', { reply: key });
        return taken;
      };
      try {
        const message = await this.pendingReply(key, s, facts, info);
        if (message) {
          // Takeover, search and post in one attempt, within one budget (as recoverReady).
          const outcome = await this.deps.io.tryPost(thread.channel, message, { threadTs: thread.ts, metadata: systemMessage(uid, key), claim: takeOver, lookFirst: true });
          if (outcome.kind !== 'not-claimed') await this.settlePending(uid, s.name, key, mine, settled(outcome), log);
        } else if (await takeOver()) {
          // No longer true, so not posted; but its writer may have posted it: a warning found is recorded, so an extend updates it.
          const found = await this.deps.io.findPosted(thread.channel, thread.ts, uid, key);
          await this.settlePending(uid, s.name, key, mine, found.kind === 'posted' ? { ts: found.ts } : found.kind === 'unknown' ? undefined : {}, log);
        }
      } catch (e) {
        // The API could not take the mark over (a 503, a timeout): looked at again after a pause.
        log.warn('could not recover a thread reply; it will be tried again', { reply: key, error: (e as Error).message });
        this.retryPendingLater(uid, s.name, key);
      }
    }
  }

  /** A pending reply made again from the system as it is now; undefined when it is no longer true. */
  private async pendingReply(key: string, s: SystemState, facts: RootFacts, info: SystemInfo): Promise<Message | undefined> {
    const a = s.deployment.metadata?.annotations ?? {};
    const [, kind, what = ''] = /^(crash|outage|recovered|expiry|url)-(.+)$/.exec(key) ?? [];
    const crash = lastCrash(s.pods);
    switch (kind) {
      case 'crash':
        if (crash) return crashAlert(s.name, crash, facts.owner, this.deps.prefix, (await this.logExcerpt(s.name, true)) ?? { unavailable: 'Tycho reads no logs here.' });
        return outageReply(s.name, md`${plain(s.describe)}.`, facts.owner, this.deps.prefix, await this.logExcerpt(s.name, false));
      case 'outage':
        return outageReply(s.name, md`${plain(s.describe)}.`, facts.owner, this.deps.prefix, await this.logExcerpt(s.name, false));
      case 'recovered':
        return recoveredReply(s.name, info.url);
      case 'expiry':
        if (!this.deps.expiry || what !== a[labels.ANN_EXPIRES] || a[labels.ANN_DELETED_BY]) return undefined;
        return expiryWarningReply(s.name, facts.owner, new Date(what), formatDuration(this.deps.expiry.defaultTtlMs), this.deps.prefix);
      case 'url':
        return s.service?.metadata?.uid === what ? urlChangedReply(s.name, info.url) : undefined;
      default:
        return undefined;
    }
  }

  /**
   * A Service the repair made again with other ports (its old one taken meanwhile): the URL in the
   * Ready reply is wrong now, so the thread is told the new one, once per remade Service.
   */
  private async tellUrlChanged(uid: string, s: SystemState, thread: ThreadRef, info: SystemInfo, again: () => Promise<void>, log: Logger): Promise<void> {
    const a = s.deployment.metadata?.annotations ?? {};
    const service = urlChangedService(a[ANN_URL_CHANGED]);
    if (!service || a[labels.ANN_SLACK_URL_TOLD] === service || s.service?.metadata?.uid !== service) return;
    if (this.mayWrite(uid, again) !== 'yes') return;
    const told = await this.tellOnce(uid, s, thread, `url-${service}`, urlChangedReply(s.name, info.url), { key: labels.ANN_SLACK_URL_TOLD, expected: a[labels.ANN_SLACK_URL_TOLD], next: service }, log);
    if (told) log.info('told the thread its URL changed', { url: info.url });
  }

  /**
   * TYCHO_EXPIRY_WARNING before its expiry, the thread is told once, its owner tagged and offered
   * an Extend button. Once per expiry value: the swap of the warned-for expiry is the claim, so
   * of two replicas one posts it, and after an extend the new expiry may have its own warning.
   * Nothing once it is past (the reaper's turn) or while it is being torn down.
   */
  private async warnOfExpiry(uid: string, s: SystemState, thread: ThreadRef, facts: RootFacts, t: Tracked, again: () => Promise<void>, log: Logger): Promise<void> {
    const a = s.deployment.metadata?.annotations ?? {};
    const expires = a[labels.ANN_EXPIRES];
    t.expiresSeen = expires;
    const rules = this.deps.expiry;
    await this.retireWarning(uid, s, thread, again, log);
    const left = msUntil(expires, this.wallNow());
    if (!rules || !expires || left === undefined || left <= 0 || s.stage === 'terminating' || a[labels.ANN_DELETED_BY]) return;
    if (a[labels.ANN_SLACK_EXPIRY_WARNED] === expires) return;
    // Due later: wake then (on this process's own clock, which the wall clock only sets the distance for).
    if (left > rules.warningMs) return this.wakeAt(uid, s.name, this.now() + Math.min(left - rules.warningMs, LONGEST_WAKE_MS));
    if (this.mayWrite(uid, again) !== 'yes') return;
    const warning = expiryWarningReply(s.name, facts.owner, new Date(expires), formatDuration(rules.defaultTtlMs), this.deps.prefix);
    const told = await this.tellOnce(uid, s, thread, `expiry-${expires}`, warning, { key: labels.ANN_SLACK_EXPIRY_WARNED, expected: a[labels.ANN_SLACK_EXPIRY_WARNED], next: expires }, log);
    if (told) log.info('warned the thread of its expiry', { expires });
  }

  /**
   * A warning whose expiry has moved since (an extend, from anywhere: a typed command, the CLI,
   * REST, the button) is updated to say who moved it and to when, and loses its Extend button;
   * then its ts is forgotten, so it is updated once.
   */
  private async retireWarning(uid: string, s: SystemState, thread: ThreadRef, again: () => Promise<void>, log: Logger): Promise<void> {
    const a = s.deployment.metadata?.annotations ?? {};
    const ts = a[labels.ANN_SLACK_EXPIRY_WARNING_TS];
    const warnedFor = a[labels.ANN_SLACK_EXPIRY_WARNED];
    if (!ts || !warnedFor || warnedFor === a[labels.ANN_EXPIRES] || s.stage === 'terminating') return;
    if (this.mayWrite(uid, again) !== 'yes') return;
    const by = a[labels.ANN_EXTENDED_BY];
    const outcome = await this.deps.io.tryUpdate({ channel: thread.channel, ts }, warningExtended(s.name, by ? { id: by, display: by.replace(/^[a-z]+:/, '') } : { id: '', display: 'someone' }, a[labels.ANN_EXPIRES] ?? null));
    // Slack away: tried again after a growing pause (nothing else may bring this system back for hours).
    if (outcome === 'not-updated') return this.retryPendingLater(uid, s.name, RETIRE_WARNING);
    this.tracked.get(uid)?.pendingTries?.delete(RETIRE_WARNING);
    const still = (now: Record<string, string>) => now[labels.ANN_SLACK_EXPIRY_WARNING_TS] === ts;
    await this.deps.claims
      .guardedPatch(s.name, uid, still, { [labels.ANN_SLACK_EXPIRY_WARNING_TS]: '' }, s.deployment, 'record a Slack reply on the Deployment')
      .catch((e: unknown) => log.warn('could not record the updated expiry warning', { error: (e as Error).message }));
    log.info('updated the expiry warning: extended since', { expires: a[labels.ANN_EXPIRES], by });
  }

  /** The root message's state, from the system's state. */
  private rootState(s: SystemState, info: SystemInfo, overdue: boolean, outage: Outage, log: Logger): RootState {
    const a = s.deployment.metadata?.annotations ?? {};
    const crashed = outage.incident.open && outage.incident.kind === 'crash' && s.stage !== 'terminating' ? outage.crash : undefined;
    if (outage.served && !outage.serving && s.stage !== 'terminating') {
      if (crashed) return { kind: 'failed', title: 'it crashed', reason: md`Its container crashed (${plain(crashed.reason)}, exit code ${String(crashed.exitCode)}): ${plain(s.describe)}.`, exists: true };
      // Within the grace period, and no incident open: the root does not flap.
      if (!outage.long && !outage.incident.open) return { kind: 'ready', url: info.url };
      return { kind: 'failed', title: 'it stopped serving', reason: md`It no longer answers: ${plain(s.describe)}.`, exists: true };
    }
    // Serving again after a crash, its incident not over yet.
    if (crashed && s.stage === 'ready') return { kind: 'ready', url: info.url, note: md`:warning: it crashed (${plain(crashed.reason)}, exit code ${String(crashed.exitCode)}) and restarted` };
    switch (s.stage) {
      case 'ready':
        return { kind: 'ready', url: info.url };
      case 'failed': {
        const { title, text } = explain(podFailureError(s.name, info.image, s.failure!), log, `launch "${s.name}"`);
        return { kind: 'failed', title, reason: text, exists: true };
      }
      case 'terminating':
        return a[labels.ANN_DELETED_BY] === labels.EXPIRED_BY ? { kind: 'expiring' } : { kind: 'tearing-down', by: deleter(a[labels.ANN_DELETED_BY]) };
      default: {
        if (overdue) {
          const { title, text } = explain(new Timeout(s.name, this.deps.readyTimeoutSeconds, s.describe), log, `launch "${s.name}"`);
          return { kind: 'failed', title, reason: text, exists: true };
        }
        return { kind: 'launching', progress: s.describe };
      }
    }
  }

  /**
   * Past the ready timeout without ever being ready; otherwise a re-check is scheduled for then.
   * Counted from when this process first saw the system, on its own clock: the API server's
   * creationTimestamp is another machine's clock, and a fast local clock would fail every launch.
   */
  private overdue(uid: string, name: string, s: SystemState, t: Tracked): boolean {
    if (s.stage === 'ready' || s.stage === 'failed' || s.deployment.metadata?.annotations?.[labels.ANN_URL_CHECK]) return false;
    const due = t.firstSeenMs + this.deps.readyTimeoutSeconds * 1000;
    if (this.now() >= due) return true;
    this.wakeAt(uid, name, due);
    return false;
  }

  /** True when it wrote to Slack (unchanged roots are not written again). */
  private async updateRoot(uid: string, thread: ThreadRef, facts: RootFacts, state: RootState): Promise<boolean> {
    const m = rootMessage(facts, state);
    const key = JSON.stringify(m);
    const t = this.track(uid);
    if (t.lastRoot === key) return false;
    if (this.mayWrite(uid, () => this.reconcile(uid, facts.name)) !== 'yes') return false;
    const outcome = await this.deps.io.tryUpdate(thread, m);
    if (outcome === 'not-updated') {
      // Slack away: the root is painted again later, with the state as it is then.
      const tries = (t.rootTries = (t.rootTries ?? 0) + 1);
      this.wakeAt(uid, facts.name, this.now() + backoffMs(tries - 1, READY_RETRY_FIRST_MS, READY_RETRY_MAX_MS));
    }
    if (outcome !== 'updated') return false;
    delete t.rootTries;
    t.lastRoot = key;
    return true;
  }

  /**
   * The system is gone: the root says so, the Ready reply loses its buttons, and the thread gets
   * one closing reply. Closing its record is the claim (one writer wins): as with every claim, a
   * crash right after it loses the closing words rather than ever doubling them. When the API
   * cannot say who wins, nothing is posted: the claim is tried again with backoff, and the
   * closing words (naming who tore it down) come once it answers.
   */
  private async closeThread(uid: string, entry: ThreadEntry, by: string | undefined, when?: string, log = this.deps.log.child({ system: entry.name, uid })): Promise<void> {
    // Seen going by this process's view, rather than found in the records after the fact.
    const seen = when === undefined;
    const again = () => this.closeThread(uid, entry, by, when, log);
    const may = this.mayWrite(uid, again);
    if (may !== 'yes') {
      // A follower says nothing: the leader's view saw it go too, or its catch-up will find the record.
      if (may === 'no') this.forget(uid);
      return;
    }
    if (this.deps.records) {
      let won: boolean;
      try {
        won = await this.deps.records.take(uid, entry);
      } catch (e) {
        const t = this.track(uid);
        const attempt = (t.closeAttempts = (t.closeAttempts ?? 0) + 1);
        const delay = backoffMs(attempt - 1, CLOSE_RETRY_FIRST_MS, CLOSE_RETRY_MAX_MS);
        log.warn('could not claim the closing of the Slack thread; trying again', { error: (e as Error).message, attempt, delayMs: delay });
        if (t.retry) clearTimeout(t.retry);
        t.retry = setTimeout(() => {
          delete t.retry;
          this.chain(uid, again);
        }, delay);
        t.retry.unref();
        return;
      }
      if (!won) return this.forget(uid);
    } else if (!seen) {
      return this.forget(uid);
    }
    const facts: RootFacts = { name: entry.name, image: entry.image ?? '', owner: { id: entry.ownerId ?? '', display: entry.owner ?? '' } };
    const thread = { channel: entry.channel, ts: entry.ts };
    const who = by ? deleter(by) : { id: '', display: when ? `someone ${when}` : 'someone outside Tycho' };
    const at = new Date();
    const readyTs = recordedTs(entry.readyTs) ?? this.tracked.get(uid)?.postedReady;
    this.forget(uid);
    if (by === labels.LAUNCH_UNDONE) {
      // Its failure was told when it happened; the undo finishing is no news, only its root's last word.
      await this.deps.io.updatePatiently(thread, rootMessage(facts, { ...UNDONE_ROOT, reason: md`The launch failed, and nothing of it is left.` }));
      log.info('closed the Slack thread of an undone launch');
      return;
    }
    // The thread's last words: forgotten here, so nothing would paint them again; they wait for Slack.
    // Removed by the reaper: the thread and the team channel say it expired, not who tore it down.
    const expired = by === labels.EXPIRED_BY;
    await this.deps.io.updatePatiently(thread, rootMessage(facts, expired ? { kind: 'expired', at } : { kind: 'torn-down', by: who, at }));
    if (readyTs) await this.deps.io.updatePatiently({ channel: thread.channel, ts: readyTs }, readyReply(entry.name, null, 'gone'));
    await this.deps.io.post(thread.channel, expired ? expiredReply(at) : tornDownReply(who, at), thread.ts, systemMessage(uid, 'gone'));
    this.tellTeam(facts, expired ? { kind: 'expired' } : { kind: 'torn-down', by: who }, thread);
    log.info('closed the Slack thread', { by: who.id || who.display });
  }
}

/** The root of a launch that failed half-way and is being undone (rollback.ts marks it). */
const UNDONE_ROOT = { kind: 'failed', title: 'its launch failed', reason: md`The launch failed; Tycho is removing what it had made.`, exists: false } as const satisfies RootState;

interface Outage {
  /** It served once (its URL check is recorded). */
  served: boolean;
  serving: boolean;
  /** Not serving for longer than the grace period: an incident. */
  long: boolean;
  /** Serving for the grace period without a break: a crash's incident is over. */
  stable: boolean;
  incident: Incident;
  /** The newest crash its pods show, told or not. */
  crash?: Crash;
  /** A crash not told yet. */
  newCrash?: Crash;
  /** It serves again after a gap shorter than the grace period, which lasted this long. */
  shortGapMs?: number;
}

/** The remade Service's uid in a url-changed record (node-ports.ts), if it reads as one. */
function urlChangedService(v: string | undefined): string | undefined {
  if (!v) return undefined;
  try {
    const service = (JSON.parse(v) as { service?: unknown }).service;
    return typeof service === 'string' && service ? service : undefined;
  } catch {
    return undefined;
  }
}

/** A reply's ts as recorded, or undefined while it is only claimed or could not be posted. */
function recordedTs(v: string | undefined): string | undefined {
  return v && !v.startsWith(CLAIMED) && v !== NOT_POSTED ? v : undefined;
}

/** A thread's record, built in one place so that every writer writes the same one. */
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
