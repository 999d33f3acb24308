/**
 * The reaper removes systems whose expiry (labels.ANN_EXPIRES, set by every launch and moved by
 * `extend`) has passed. It keeps no state of its own: the expiries are on the Deployments, and
 * its timers are made from the live view's cache (its `changed` events and, at start, every
 * system it holds), so a restart or a failover loses nothing: the new process's view lists the
 * same annotations. No watch or list of its own.
 *
 * Only the Lease holder removes (`isLeader`; a REST-only server, which elects no leader, removes on
 * its own). Every replica keeps the timers (one per system, cheap); a follower whose timer fires
 * looks again a little later, so whichever replica leads by then removes it.
 *
 * A removal is marked first: `deleted-by: tycho:expiry`, written with the resourceVersion of a
 * read that found the expiry still past and nobody deleting it, so an extend that lands in
 * between wins (the write fails with 409, and the read after it finds the new expiry), and of two
 * reapers only one marks it. Then the launcher's teardown (the same as `down`) removes it, and
 * the Slack reconciler's closing words say it expired.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { DeploymentClaims } from './claims.js';
import { msUntil } from './expiry.js';
import * as labels from './labels.js';
import type { LiveView, Transition } from './view/live-view.js';
import type { SystemState } from './view/system-model.js';
import type { Logger } from '../log.js';
import { backoffMs } from '../concurrency.js';

/** setTimeout's longest delay is about 24.8 days; a later expiry is looked at again then. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** How soon a follower (or a removal that failed) looks at an expired system again. */
const RETRY_MS = 2_000;
const RETRY_MAX_MS = 60_000;

export interface ReaperOptions {
  /** Whether this replica holds the Lease; without it, this one removes (a REST-only server). */
  isLeader?: () => boolean;
  /** Tears the system down once it is marked (the launcher's down, recording `by`). */
  remove: (name: string, by: string) => Promise<unknown>;
  log: Logger;
  /** Wall-clock ms (expiries are wall-clock times, written by Tycho's own clock). */
  now?: () => number;
}

interface Timer {
  name: string;
  /** The expiry the timer is for; a changed one (an extend) sets a new timer. */
  expires: string;
  timer: NodeJS.Timeout;
  /** Tries in a row that found it expired but could not remove it (a follower, a failed removal). */
  tries: number;
}

export class Reaper {
  private readonly claims: DeploymentClaims;
  private readonly timers = new Map<string, Timer>();
  /** Removals in flight, by uid: one at a time per system. */
  private readonly removing = new Set<string>();
  private readonly now: () => number;
  private stopped = false;
  private readonly onChanged = (s: SystemState) => this.consider(s);
  private readonly onTransition = (t: Transition) => {
    if (t.to === 'gone') this.forget(t.uid);
  };

  constructor(
    kc: KubeConfig,
    private readonly view: LiveView,
    namespace: string,
    private readonly o: ReaperOptions,
  ) {
    this.claims = new DeploymentClaims(kc, namespace);
    this.now = o.now ?? (() => Date.now());
  }

  start(): void {
    this.stopped = false;
    this.view.on('changed', this.onChanged);
    this.view.on('transition', this.onTransition);
    this.sweep();
  }

  stop(): void {
    this.stopped = true;
    this.view.off('changed', this.onChanged);
    this.view.off('transition', this.onTransition);
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
  }

  /** Looks at every system the view holds: at start, and when this replica becomes the leader. */
  sweep(): void {
    for (const s of this.view.systems()) {
      const t = this.timers.get(s.uid);
      // A follower's timer for an expired system waits its retry; the new leader need not.
      if (t && this.expired(t.expires)) this.forget(s.uid);
      this.consider(s);
    }
  }

  /** Systems with a timer (for tests and the log). */
  get trackedCount(): number {
    return this.timers.size;
  }

  private expired(expires: string): boolean {
    const ms = msUntil(expires, this.now());
    return ms !== undefined && ms <= 0;
  }

  private consider(s: SystemState): void {
    if (this.stopped) return;
    const expires = s.deployment.metadata?.annotations?.[labels.ANN_EXPIRES];
    const ms = msUntil(expires, this.now());
    // No expiry (launched before expiries existed, or not a time), or already being torn down.
    if (ms === undefined || s.stage === 'terminating' || s.deployment.metadata?.annotations?.[labels.ANN_DELETED_BY]) return this.forget(s.uid);
    if (this.timers.get(s.uid)?.expires === expires) return;
    this.forget(s.uid);
    this.arm(s.uid, s.name, expires!, ms, 0);
  }

  private arm(uid: string, name: string, expires: string, delayMs: number, tries: number): void {
    const timer = setTimeout(() => void this.fire(uid), Math.min(Math.max(0, delayMs), LONGEST_TIMER_MS));
    timer.unref();
    this.timers.set(uid, { name, expires, timer, tries });
  }

  private forget(uid: string): void {
    const t = this.timers.get(uid);
    if (t) clearTimeout(t.timer);
    this.timers.delete(uid);
  }

  private async fire(uid: string): Promise<void> {
    const t = this.timers.get(uid);
    if (!t || this.stopped) return;
    const s = this.view.system(t.name);
    if (!s || s.uid !== uid) return this.forget(uid);
    const expires = s.deployment.metadata?.annotations?.[labels.ANN_EXPIRES];
    const ms = msUntil(expires, this.now());
    if (ms === undefined) return this.forget(uid);
    // Not yet: an extend moved it, or a timer capped at setTimeout's longest delay.
    if (ms > 0) return this.arm(uid, t.name, expires!, ms, 0);
    const again = () => this.arm(uid, t.name, expires!, backoffMs(t.tries, RETRY_MS, RETRY_MAX_MS), t.tries + 1);
    if (this.o.isLeader && !this.o.isLeader()) return again();
    if (this.removing.has(uid)) return;
    this.removing.add(uid);
    try {
      if (!(await this.mark(t.name, uid))) return this.forget(uid);
      this.o.log.info('expired: removing the system', { system: t.name, uid, expires, ...labels.launchFields(s.deployment.metadata?.annotations) });
      await this.o.remove(t.name, labels.EXPIRED_BY);
      this.forget(uid);
    } catch (e) {
      this.o.log.warn('could not remove an expired system; trying again', { system: t.name, error: e instanceof Error ? e.message : String(e) });
      if (!this.stopped) again();
    } finally {
      this.removing.delete(uid);
    }
  }

  /**
   * Writes `deleted-by: tycho:expiry` on this very Deployment if, as read now, it is still
   * expired and nobody is deleting it; guarded by that read's resourceVersion (claims.ts: another
   * write since, such as an extend, means read and decide again). False when it is no longer to
   * be removed by this reaper: extended, gone, replaced, or being deleted by someone else; or when
   * it kept changing, and then its next change in the view arms its timer again.
   */
  private mark(name: string, uid: string): Promise<boolean> {
    const stillExpired = (a: Record<string, string>) => !a[labels.ANN_DELETED_BY] && this.expired(a[labels.ANN_EXPIRES] ?? '');
    return this.claims.guardedPatch(name, uid, stillExpired, { [labels.ANN_DELETED_BY]: labels.EXPIRED_BY }, undefined, 'mark the expired Deployment');
  }
}
