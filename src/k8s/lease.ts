/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's `leaderelection` package.
 * Written here because the npm package we found is not sound: it compares the remote renewTime
 * with the local clock, never takes over from a killed holder, and installs signal handlers.
 *
 * Why each rule holds:
 * - A follower never compares the Lease's renewTime with its own clock: clocks differ between
 *   nodes. It notes on its own MONOTONIC clock when it last saw the record change, and takes the
 *   Lease only once the record has stood still for the holder's leaseDurationSeconds.
 * - Every write is a replace guarded by metadata.resourceVersion, so of two candidates that saw
 *   the same record only one wins; the other gets 409 and reads again.
 * - A leader counts from the moment it SENT its last successful renewal (no follower can have
 *   seen that write earlier) and stops leading once the renew deadline has passed since then.
 *   The renew deadline is shorter than the lease duration, so it stops before anyone can take over.
 * - Every call is bounded by a timeout that also aborts the request, so a hung API server cannot
 *   hold the loop, or a stale leader, in place.
 * - isLeader() recomputes leadership from the monotonic clock, so a leader whose timers ran late
 *   (a blocked event loop) still answers false once its deadline has passed.
 *
 * Election alone cannot promise a single writer (a paused process may act before it checks
 * again), which is why Slack writes are still fenced by their own claim step.
 *
 * A leader that loses the Lease keeps running as a candidate and may lead again later. No process
 * signal handlers are installed: the server calls release() when it shuts down.
 */
import { CoordinationV1Api, Observable, V1MicroTime, type KubeConfig, type ObservableMiddleware, type V1Lease } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ClusterUnreachable, InternalError, type TychoError } from './errors.js';
import { isConflict, isNotFound, toTychoError } from './kube.js';

/** The three calls the elector makes; client-node's CoordinationV1Api, or a fake in tests. */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'replaceNamespacedLease' | 'createNamespacedLease'>;
type CallOptions = Parameters<CoordinationV1Api['readNamespacedLease']>[1];

export interface LeaseClock {
  /** Milliseconds from a monotonic source, which NTP steps and changed wall clocks do not move. */
  monotonicMs(): number;
  /** Wall time, only written into acquireTime/renewTime for people reading the Lease; never read back. */
  wallTime(): Date;
  /** Runs fn once after ms; returns a cancel function. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemClock: LeaseClock = {
  monotonicMs: () => performance.now(),
  wallTime: () => new Date(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref(); // the election never keeps a finished process alive on its own
    return () => clearTimeout(t);
  },
};

export interface LeaderElectionOptions {
  namespace: string;
  /** The Lease's name. The manifests pre-create it; it is created only when missing (local dev). */
  name: string;
  /** Who we are in holderIdentity. Default: the pod name ($HOSTNAME) plus a random suffix. */
  identity?: string;
  /** How long a silent Lease keeps others waiting (whole seconds; 15 s). */
  leaseDurationMs?: number;
  /** A leader that has not renewed for this long stops leading (10 s; shorter than the lease duration). */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew (2 s). */
  retryPeriodMs?: number;
  /** Bound on each API call (half the renew deadline, at most 5 s: two tries fit in one deadline). */
  callTimeoutMs?: number;
  onStartedLeading?: () => void;
  /** Called before any other candidate can acquire; `why` is for logs. */
  onStoppedLeading?: (why: string) => void;
  /** A holder other than the last one seen, ourselves included. */
  onNewLeader?: (identity: string) => void;
  /** A failed attempt, once per distinct message until an attempt succeeds again. Retries go on. */
  onError?: (err: TychoError) => void;
  clock?: LeaseClock;
}

export const LEASE_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;
/** client-go's JitterFactor: followers wait retry × (1 + rand × 1.2), so they do not all ask at once. */
const JITTER = 1.2;
/** Reads and guarded writes a holder makes in one round when other writes to the Lease keep coming first. */
const HOLDER_CONFLICT_TRIES = 5;

export function defaultIdentity(): string {
  return `${process.env.HOSTNAME || hostname()}-${randomBytes(4).toString('hex')}`;
}

const holderOf = (lease: V1Lease | undefined): string => lease?.spec?.holderIdentity ?? '';

/** Set by stop()/release() on calls still in flight, so their failure is not reported. */
class Halted extends Error {}

export class LeaderElector {
  readonly identity: string;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly callTimeoutMs: number;
  private readonly clock: LeaseClock;
  private readonly where: string;

  /** The last Lease read or written, and (monotonic) when its record last changed. */
  private observed: V1Lease | undefined;
  private observedKey = '';
  private observedAt = 0;
  private reportedLeader = '';

  private leading = false;
  /** Monotonic time at which the last successful write as holder was sent. */
  private lastRenewAt = 0;
  private cancelDeadline: (() => void) | undefined;

  private stopped = true;
  private loopDone: Promise<void> | undefined;
  private firstAttempt: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly inFlight = new Set<AbortController>();
  private lastErrorMessage: string | undefined;
  /** Why the last attempt failed, until one succeeds again (e.g. for /readyz). */
  lastError: TychoError | undefined;

  static forCluster(kc: KubeConfig, o: LeaderElectionOptions): LeaderElector {
    return new LeaderElector(kc.makeApiClient(CoordinationV1Api), o);
  }

  constructor(
    private readonly api: LeaseApi,
    private readonly o: LeaderElectionOptions,
  ) {
    this.identity = o.identity ?? defaultIdentity();
    this.leaseMs = o.leaseDurationMs ?? LEASE_DEFAULTS.leaseDurationMs;
    this.renewDeadlineMs = o.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
    this.retryMs = o.retryPeriodMs ?? LEASE_DEFAULTS.retryPeriodMs;
    this.callTimeoutMs = o.callTimeoutMs ?? Math.min(5_000, this.renewDeadlineMs / 2);
    this.clock = o.clock ?? systemClock;
    this.where = `"${o.name}" in namespace "${o.namespace}"`;
    // client-go's NewLeaderElector checks (plus whole seconds); each is what the guarantees above rest on.
    if (!Number.isInteger(this.leaseMs / 1000) || this.leaseMs < 1000) throw new RangeError('The lease duration must be a whole number of seconds (leaseDurationSeconds is an integer).');
    if (this.renewDeadlineMs >= this.leaseMs) throw new RangeError('The renew deadline must be shorter than the lease duration, or a stale leader could overlap its successor.');
    if (this.retryMs * JITTER >= this.renewDeadlineMs) throw new RangeError('The retry period times 1.2 must be shorter than the renew deadline, or a leader gets no second try.');
    if (!(this.callTimeoutMs > 0) || this.callTimeoutMs > this.renewDeadlineMs) throw new RangeError('The call timeout must be positive and no longer than the renew deadline.');
  }

  /** Leading now, by the monotonic clock: call it right before each write only the leader may make. */
  isLeader(): boolean {
    return this.leading && this.clock.monotonicMs() - this.lastRenewAt < this.renewDeadlineMs;
  }

  /** Holding the Lease, but past the renew deadline since the last renewal: isLeader() is false until it renews or gives up. */
  get lapsed(): boolean {
    return this.leading && !this.isLeader();
  }

  /** The holder of the Lease as last seen ('' when nobody holds it or it was not read yet). */
  get leader(): string {
    return holderOf(this.observed);
  }

  /** Starts taking part. Resolves once the first attempt is over (so isLeader() is meaningful); never rejects. */
  start(): Promise<void> {
    if (!this.stopped) return this.firstAttempt!;
    this.stopped = false;
    let firstDone!: () => void;
    this.firstAttempt = new Promise<void>((r) => (firstDone = r));
    this.loopDone = this.loop(firstDone);
    return this.firstAttempt;
  }

  /**
   * Stops taking part WITHOUT handing the Lease back, as a killed process would: the others take
   * over once the lease duration has passed. Shutdown should call release() instead.
   */
  async stop(): Promise<void> {
    const halted = this.halt();
    this.stopLeading('stopped');
    await halted;
  }

  /**
   * Stops taking part and, if we hold the Lease, hands it back (holder cleared, leaseDurationSeconds 1,
   * as client-go's ReleaseOnCancel does) so another replica takes over at its next try.
   * onStoppedLeading runs before the Lease is written. Resolves true if the Lease was handed back;
   * never rejects (a failure goes to onError and the others wait out the lease duration instead).
   */
  async release(): Promise<boolean> {
    const halted = this.halt();
    this.stopLeading('released the Lease');
    const interrupted = await halted;
    try {
      let lease = this.observed;
      // A write cut short may still have reached the server and made us the holder: look.
      if (interrupted && holderOf(lease) !== this.identity) lease = await this.read();
      for (let tries = 0; tries < 2 && holderOf(lease) === this.identity; tries++) {
        if (await this.handBack(lease!)) return true;
        lease = await this.read(); // someone wrote since we last looked: is it still ours?
      }
    } catch (e) {
      this.report(e);
    }
    return false;
  }

  /**
   * Stops the loop at once (the flag is set before the first await) and waits for it to end.
   * Resolves true if a call was cut short.
   */
  private async halt(): Promise<boolean> {
    this.stopped = true;
    const interrupted = this.inFlight.size > 0;
    for (const call of this.inFlight) call.abort(new Halted());
    this.wake?.();
    await this.loopDone;
    this.loopDone = undefined;
    return interrupted;
  }

  private async loop(firstDone: () => void): Promise<void> {
    while (!this.stopped) {
      await this.attempt();
      firstDone();
      if (this.stopped) break;
      // A leader renews on the beat; followers spread out so they do not all ask at once.
      await this.sleep(this.leading ? this.retryMs : this.retryMs * (1 + Math.random() * JITTER));
    }
    firstDone();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.clock.setTimeout(() => done(), ms);
      const done = () => {
        cancel();
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
    });
  }

  /** One round of client-go's tryAcquireOrRenew. Never throws. */
  private async attempt(): Promise<void> {
    try {
      // As leader, write over our own last write without reading first: one request per renewal.
      const fast = this.leading && holderOf(this.observed) === this.identity && (await this.write(this.observed!));
      if (!fast) await this.acquireOrRenew();
      this.lastErrorMessage = undefined;
      this.lastError = undefined;
    } catch (e) {
      if (!this.stopped) this.report(e);
    }
  }

  private async acquireOrRenew(): Promise<void> {
    for (let tries = 1; ; tries++) {
      const lease = await this.read();
      if (!lease) return this.create();
      this.observe(lease);
      const holder = holderOf(lease);
      if (holder && holder !== this.identity) {
        this.stopLeading(`${holder} holds the Lease`);
        const durationMs = (lease.spec?.leaseDurationSeconds ?? this.leaseMs / 1000) * 1000;
        if (this.clock.monotonicMs() - this.observedAt < durationMs) return; // the holder may still be alive
      }
      if (await this.write(lease)) return;
      // 409 on a Lease we hold: someone else's write came between our read and ours (an
      // operator's annotation, kubectl apply), which must not make the holder miss its renew
      // deadline, so it reads again at once. Each
      // write is still guarded by the resourceVersion of a read that showed us as holder.
      // A candidate waits for its next round instead, as client-go does.
      if (holder !== this.identity || tries >= HOLDER_CONFLICT_TRIES) return;
    }
  }

  /** Renews (when we hold it) or acquires the Lease; false when another write came first. */
  private async write(base: V1Lease): Promise<boolean> {
    const spec = base.spec ?? {};
    const renewal = spec.holderIdentity === this.identity;
    const now = new V1MicroTime(this.clock.wallTime().getTime());
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: base.metadata, // its resourceVersion is the guard
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseMs / 1000,
        renewTime: now,
        acquireTime: renewal ? spec.acquireTime : now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (renewal ? 0 : 1),
      },
    };
    const sentAt = this.clock.monotonicMs();
    try {
      this.wrote(await this.call(`update the Lease ${this.where}`, (opts) => this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body }, opts)), sentAt);
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  /** Only when the Lease is missing: the manifests create it, so this is for local development. */
  private async create(): Promise<void> {
    const now = new V1MicroTime(this.clock.wallTime().getTime());
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.o.name, namespace: this.o.namespace },
      spec: { holderIdentity: this.identity, leaseDurationSeconds: this.leaseMs / 1000, acquireTime: now, renewTime: now, leaseTransitions: 0 },
    };
    const sentAt = this.clock.monotonicMs();
    try {
      const doing = `create the Lease ${this.where}, which Tycho's manifests normally create`;
      this.wrote(await this.call(doing, (opts) => this.api.createNamespacedLease({ namespace: this.o.namespace, body }, opts)), sentAt);
    } catch (e) {
      if (!isConflict(e)) throw e; // another replica created it first: read it next round
    }
  }

  private async handBack(lease: V1Lease): Promise<boolean> {
    const now = new V1MicroTime(this.clock.wallTime().getTime());
    const { holderIdentity: _ours, ...rest } = lease.spec ?? {};
    const body: V1Lease = { ...lease, spec: { ...rest, leaseDurationSeconds: 1, acquireTime: now, renewTime: now } };
    try {
      this.observe(await this.call(`release the Lease ${this.where}`, (opts) => this.api.replaceNamespacedLease({ name: this.o.name, namespace: this.o.namespace, body }, opts)));
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.call(`read the Lease ${this.where}`, (opts) => this.api.readNamespacedLease({ name: this.o.name, namespace: this.o.namespace }, opts));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** A write as holder succeeded: we lead until the renew deadline, counted from when it was sent. */
  private wrote(lease: V1Lease, sentAt: number): void {
    this.observe(lease);
    if (this.stopped) return; // stop()/release() won the race; release() uses the observed Lease
    this.lastRenewAt = sentAt;
    this.cancelDeadline?.();
    this.cancelDeadline = this.clock.setTimeout(() => this.checkDeadline(), Math.max(0, sentAt + this.renewDeadlineMs - this.clock.monotonicMs()));
    if (!this.leading) {
      this.leading = true;
      this.notify(() => this.o.onStartedLeading?.());
    }
  }

  private checkDeadline(): void {
    const left = this.lastRenewAt + this.renewDeadlineMs - this.clock.monotonicMs();
    if (left > 0) this.cancelDeadline = this.clock.setTimeout(() => this.checkDeadline(), left);
    else this.stopLeading('could not renew the Lease within the renew deadline');
  }

  private stopLeading(why: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.cancelDeadline?.();
    this.cancelDeadline = undefined;
    this.notify(() => this.o.onStoppedLeading?.(why));
  }

  /** Notes the local time of every change to the record: the only clock expiry is measured on. */
  private observe(lease: V1Lease): void {
    const s = lease.spec ?? {};
    const key = JSON.stringify([lease.metadata?.resourceVersion, s.holderIdentity ?? '', String(s.renewTime ?? ''), s.leaseTransitions ?? 0, s.leaseDurationSeconds]);
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAt = this.clock.monotonicMs();
    }
    this.observed = lease;
    const holder = holderOf(lease);
    if (holder && holder !== this.reportedLeader) this.notify(() => this.o.onNewLeader?.(holder));
    this.reportedLeader = holder;
  }

  /**
   * Runs one call with a timeout that aborts the request itself (through the generated client's
   * middleware) and, in case the transport ignores the signal, stops waiting for it too.
   * 404 and 409 come back as they are, for the caller to decide; anything else as a TychoError.
   */
  private async call<T>(doing: string, request: (opts: CallOptions) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    this.inFlight.add(abort);
    const seconds = Math.round(this.callTimeoutMs / 100) / 10;
    const cancelTimer = this.clock.setTimeout(() => abort.abort(new ClusterUnreachable(`Kubernetes did not answer within ${seconds} s when Tycho tried to ${doing}.`)), this.callTimeoutMs);
    const withSignal: ObservableMiddleware = {
      pre: (ctx) => {
        ctx.setSignal(abort.signal);
        return new Observable(Promise.resolve(ctx));
      },
      post: (ctx) => new Observable(Promise.resolve(ctx)),
    };
    const aborted = new Promise<never>((_, reject) => abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true }));
    try {
      return await Promise.race([request({ middleware: [withSignal], middlewareMergeStrategy: 'append' }), aborted]);
    } catch (e) {
      if (abort.signal.aborted) throw abort.signal.reason;
      if (isNotFound(e) || isConflict(e)) throw e;
      throw toTychoError(e, doing);
    } finally {
      cancelTimer();
      this.inFlight.delete(abort);
    }
  }

  private report(e: unknown): void {
    if (e instanceof Halted) return;
    const err = toTychoError(e, `take part in leader election on the Lease ${this.where}`);
    this.lastError = err;
    if (err.message === this.lastErrorMessage) return;
    this.lastErrorMessage = err.message;
    this.notify(() => this.o.onError?.(err));
  }

  /** Callbacks run inline but can never break the election: a throw goes to onError. */
  private notify(callback: () => unknown): void {
    const failed = (e: unknown) => {
      try {
        this.o.onError?.(new InternalError(`A leader-election callback failed: ${e instanceof Error ? e.message : String(e)}.`));
      } catch {
        // onError itself threw: nowhere left to report it
      }
    };
    try {
      const r = callback();
      if (r instanceof Promise) r.catch(failed);
    } catch (e) {
      failed(e);
    }
  }
}
