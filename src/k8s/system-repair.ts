/**
 * A launch is up to three creates: the Deployment, then the Service and (exposed as ingress) the
 * Ingress it owns. A process killed between them (kill -9, an OOM, a node lost) leaves a
 * Deployment whose pod runs but that nothing routes to, and whose launch no one is waiting on
 * any more. The Deployment is the intent, and it records everything its children need (its
 * ports, the Service type in `tycho.renci.org/service-type`, the host in
 * `tycho.renci.org/ingress-host`), so the server makes the missing ones again rather than failing
 * the system. The same holds for a Service or Ingress deleted by hand (kubectl) while its
 * Deployment lives. A launch with --secret-env creates its Deployment paused and unpauses it once
 * the Secret exists (secret-env.ts); one cut short in between is unpaused here. If the Secret was
 * never made (the values died with the process), its pod then fails with the kubelet's own
 * `secret "NAME-env" not found`, which the system reports, rather than waiting for ever.
 *
 * Every replica does this, not only the leader: a create is safe to repeat (the second gets
 * 409 AlreadyExists), and a REST-only server, which elects no leader, must repair too. A grace
 * period keeps it from racing a launch that is only slow between its creates; if it races one
 * anyway, the launcher takes the child it finds when it is owned by its Deployment (launcher.ts).
 *
 * The repair finishes what the cut-short launch would have done: once the view says the system
 * serves, its URL is opened and the verdict recorded (`confirm`, the launcher's
 * confirmServing), so `status` says whether the URL answers, not only that the pod is routed. A
 * kube-proxy (or ingress controller) programs its rules after the Endpoints change, so "routed"
 * alone can come a moment before the URL answers.
 */
import { AppsV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { IngressSettings } from './ingress.js';
import { apiCode } from './kube.js';
import * as labels from './labels.js';
import { ingressForDeployment, serviceForDeployment } from './manifests.js';
import { startPausedDeployment } from './secret-env.js';
import type { ServiceType } from './spec.js';
import type { LiveView } from './view/live-view.js';
import { missingParts, type MissingPart, type SystemState } from './view/system-model.js';
import type { Logger } from '../log.js';

/**
 * `tycho.renci.org/repair: "off"` on a Deployment stops the repair for that one system (an
 * operator's choice: `kubectl annotate deployment NAME tycho.renci.org/repair=off`). A launch
 * whose undo was refused leaves it too (rollback.ts). Any other value, or none, means on.
 */
export const ANN_REPAIR = `${labels.PREFIX}/repair`;
export const REPAIR_OFF = 'off';

export interface SystemRepairOptions {
  /** How long a Deployment must have been seen without a child before it is repaired. */
  graceMs?: number;
  /** The type for Deployments launched before the type was recorded on them. */
  defaultServiceType: ServiceType;
  /** The operator's ingress settings; without them (and without the view following Ingresses) no Ingress is repaired. */
  ingress?: IngressSettings;
  /** Opens the URL of a repaired system once it serves, and records the verdict on it (one made through the lost object no longer counts: url-check-record.ts). */
  confirm?: (serving: SystemState, signal: AbortSignal) => Promise<unknown>;
  /** How long to follow a repaired system to serving before leaving it to `status`. */
  followSeconds?: number;
  log: Logger;
}

export class SystemRepair {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly networking: NetworkingV1Api;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly graceMs: number;
  private readonly onChanged = (s: SystemState) => this.consider(s);
  /** Aborts the follow-ups of repaired systems when the server stops. */
  private readonly stopping = new AbortController();

  constructor(
    kc: KubeConfig,
    private readonly view: LiveView,
    private readonly o: SystemRepairOptions,
  ) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.networking = kc.makeApiClient(NetworkingV1Api);
    this.graceMs = o.graceMs ?? 10_000;
  }

  /**
   * Follows every change the view sees (not only stage transitions: an Ingress deleted by hand
   * moves no stage), and looks at every system it already holds, so one found broken at
   * startup, whose view synced before this started, is repaired too.
   */
  start(): void {
    this.view.on('changed', this.onChanged);
    for (const s of this.view.systems()) this.consider(s);
  }

  stop(): void {
    this.view.off('changed', this.onChanged);
    this.stopping.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private consider(s: SystemState): void {
    if (this.timers.has(s.uid) || s.stage === 'terminating' || this.missing(s).length === 0) return;
    const timer = setTimeout(() => {
      this.timers.delete(s.uid);
      void this.repair(s.uid, s.name);
    }, this.graceMs);
    timer.unref();
    this.timers.set(s.uid, timer);
  }

  /** The children the Deployment records that the view does not hold, and a start never made. */
  private missing(s: SystemState): MissingPart[] {
    return missingParts(s, !!this.o.ingress && this.view.followsIngresses);
  }

  private async repair(uid: string, name: string): Promise<void> {
    // Still the same system, still missing a child, after the grace period?
    const s = this.view.system(name);
    if (!s || s.uid !== uid || s.stage === 'terminating' || s.deployment.metadata?.deletionTimestamp) return;
    const log = this.o.log.child({ system: name, uid, ...labels.launchFields(s.deployment.metadata?.annotations) });
    let made = 0;
    for (const what of this.missing(s)) {
      try {
        if (!(await this.make(what, s))) continue;
        made++;
        log.warn('repaired a system: its launch was cut short, or a part of it was deleted by hand', { repaired: what });
      } catch (e) {
        // 409: another replica (or the launch itself) made it meanwhile, and follows it.
        if (apiCode(e) !== 409) log.warn('could not repair a system', { repairing: what, error: e instanceof Error ? e.message : String(e) });
      }
    }
    if (made === 0) return;
    await this.confirmWhenServing(uid, name).catch((e: unknown) => {
      if (!this.stopping.signal.aborted) log.info('did not confirm the URL of a repaired system', { error: e instanceof Error ? e.message : String(e) });
    });
  }

  /** Creates one child from what the Deployment records (false when it records too little to), or unpauses it. */
  private async make(what: MissingPart, s: SystemState): Promise<boolean> {
    const namespace = this.view.namespace;
    if (what === 'unpause') {
      await startPausedDeployment(this.apps, namespace, s.name);
      return true;
    }
    if (what === 'Service') {
      const body = serviceForDeployment(s.deployment, namespace, this.o.defaultServiceType);
      if (body) await this.core.createNamespacedService({ namespace, body });
      return !!body;
    }
    const body = ingressForDeployment(s.deployment, namespace, this.o.ingress!);
    if (body) await this.networking.createNamespacedIngress({ namespace, body });
    return !!body;
  }

  /**
   * Waits on the shared view (no watch of its own) for the repaired system to serve through the
   * children just made, then confirms its URL. "Serving" alone is not enough: the pods may have
   * been routed all along (only the Ingress was lost), and a view that has not yet seen the new
   * Ingress would judge a verdict recorded through the lost one as still current, and open nothing.
   */
  private async confirmWhenServing(uid: string, name: string): Promise<void> {
    if (!this.o.confirm) return;
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout((this.o.followSeconds ?? 300) * 1000)]);
    const serving = await this.view.waitFor(
      name,
      (s) => (!s || s.uid !== uid || s.stage === 'terminating' ? null : s.stage === 'ready' && this.missing(s).length === 0 ? s : undefined),
      signal,
    );
    if (serving) await this.o.confirm(serving, signal);
  }
}
