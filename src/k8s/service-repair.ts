/**
 * A launch is two creates: the Deployment, then the Service it owns. A process killed between
 * them (kill -9, an OOM, a node lost) leaves a Deployment whose pod runs but that nothing
 * routes to, and whose launch no one is waiting on any more. The Deployment is the intent, and
 * it records everything the Service needs (its ports, and the Service type in
 * `tycho.renci.org/service-type`), so the server makes the Service again rather than failing
 * the system. The same holds for a Service deleted by hand (kubectl) while its Deployment lives.
 *
 * Every replica does this, not only the leader: a create is safe to repeat (the second gets
 * 409 AlreadyExists), and a REST-only server, which elects no leader, must repair too. A grace
 * period keeps it from racing a launch that is only slow between its two creates; if it races
 * one anyway, the launcher takes the Service it finds when that Service is owned by its
 * Deployment (launcher.ts).
 *
 * The repair finishes what the cut-short launch would have done: once the view says the
 * system serves, its URL is opened and the verdict recorded (`confirm`, the launcher's
 * confirmServing), so `status` says whether the URL answers, not only that the pod is routed.
 * A kube-proxy (or ingress) programs its rules after the Endpoints change, so "routed" alone
 * can come a moment before the URL answers.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiCode } from './kube.js';
import * as labels from './labels.js';
import { serviceForDeployment } from './manifests.js';
import type { ServiceType } from './spec.js';
import type { LiveView, Transition } from './view/live-view.js';
import type { SystemState } from './view/system-model.js';
import type { Logger } from '../log.js';

export interface ServiceRepairOptions {
  /** How long a Deployment must have been seen without its Service before it is repaired. */
  graceMs?: number;
  /** The type for Deployments launched before the type was recorded on them. */
  defaultServiceType: ServiceType;
  /** Opens the URL of a repaired system once it serves, and records the verdict on it. */
  confirm?: (serving: SystemState, signal: AbortSignal) => Promise<unknown>;
  /** How long to follow a repaired system to serving before leaving it to `status`. */
  followSeconds?: number;
  log: Logger;
}

export class ServiceRepair {
  private readonly core: CoreV1Api;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly graceMs: number;
  private readonly onTransition = (t: Transition) => this.consider(t);
  /** Aborts the follow-ups of repaired systems when the server stops. */
  private readonly stopping = new AbortController();

  constructor(
    kc: KubeConfig,
    private readonly view: LiveView,
    private readonly o: ServiceRepairOptions,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.graceMs = o.graceMs ?? 10_000;
  }

  /** The view's first sync announces every system, so one found broken at startup is repaired too. */
  start(): void {
    this.view.on('transition', this.onTransition);
  }

  stop(): void {
    this.view.off('transition', this.onTransition);
    this.stopping.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private consider(t: Transition): void {
    if (this.timers.has(t.uid) || !lacksService(t)) return;
    const timer = setTimeout(() => {
      this.timers.delete(t.uid);
      void this.repair(t.uid, t.name);
    }, this.graceMs);
    timer.unref();
    this.timers.set(t.uid, timer);
  }

  private async repair(uid: string, name: string): Promise<void> {
    // Still the same system, still without its Service, after the grace period?
    const s = this.view.system(name);
    if (!s || s.uid !== uid || s.service || s.stage === 'terminating' || s.deployment.metadata?.deletionTimestamp) return;
    const body = serviceForDeployment(s.deployment, this.view.namespace, this.o.defaultServiceType);
    if (!body) return;
    const log = this.o.log.child({ system: name, uid, ...labels.launchFields(s.deployment.metadata?.annotations) });
    try {
      await this.core.createNamespacedService({ namespace: this.view.namespace, body });
      log.warn('made the missing Service of a system again (its launch was cut short between its two creates)', { type: body.spec?.type });
    } catch (e) {
      // 409: another replica (or the launch itself) made it meanwhile, and follows it.
      if (apiCode(e) === 409) return;
      log.warn('could not make the missing Service of a system again', { error: e instanceof Error ? e.message : String(e) });
      return;
    }
    await this.confirmWhenServing(uid, name).catch((e: unknown) => {
      if (!this.stopping.signal.aborted) log.info('did not confirm the URL of a repaired system', { error: e instanceof Error ? e.message : String(e) });
    });
  }

  /** Waits on the shared view (no watch of its own) for the repaired system to serve, then confirms its URL. */
  private async confirmWhenServing(uid: string, name: string): Promise<void> {
    if (!this.o.confirm) return;
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout((this.o.followSeconds ?? 300) * 1000)]);
    const serving = await this.view.waitFor(name, (s) => (!s || s.uid !== uid || s.stage === 'terminating' ? null : s.stage === 'ready' ? s : undefined), signal);
    if (serving) await this.o.confirm(serving, signal);
  }
}

function lacksService(t: Transition): boolean {
  return t.to !== 'gone' && t.to !== 'terminating' && !t.state.service;
}
