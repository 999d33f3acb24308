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
 * Only the leader repairs (`isLeader`; a REST-only server, which elects no leader, repairs on
 * its own). A grace period keeps it from racing a launch that is only slow between its creates;
 * if it races one anyway, the launcher takes the child it finds when it is owned by its
 * Deployment (launcher.ts).
 *
 * It does not fight people:
 * - a Service made again asks for the NodePorts the lost one had, so the URL already handed out
 *   stays right; if one was taken meanwhile, the change is recorded for the thread (node-ports.ts);
 * - a repair that fails (a quota that refuses the create) is tried again after a wait that
 *   doubles with each failure, per system, not on every change the view sees;
 * - `tycho.renci.org/repair: off` on a Deployment stops it for that system.
 *
 * The repair finishes what the cut-short launch would have done: once the view says the system
 * serves, its URL is opened and the verdict recorded (`confirm`, the launcher's
 * confirmServing), so `status` says whether the URL answers, not only that the pod is routed. A
 * kube-proxy (or ingress controller) programs its rules after the Endpoints change, so "routed"
 * alone can come a moment before the URL answers.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, NetworkingV1Api, type V1Service } from '@kubernetes/client-node';
import { patchDeploymentAnnotations } from './deployment-annotations.js';
import type { IngressSettings } from './ingress.js';
import { apiCode } from './kube.js';
import * as labels from './labels.js';
import { ingressForDeployment, serviceForDeployment } from './manifests.js';
import { ANN_URL_CHANGED, isNodePortTaken, nodePortsOf, sameNodePorts, urlChangedRecord, withNodePorts, type NodePorts } from './node-ports.js';
import { startPausedDeployment } from './secret-env.js';
import type { ServiceType } from './spec.js';
import type { LiveView, Transition } from './view/live-view.js';
import { missingParts, type MissingPart, type SystemState } from './view/system-model.js';
import type { Logger } from '../log.js';

/**
 * `tycho.renci.org/repair: "off"` on a Deployment stops the repair for that one system (an
 * operator's choice: `kubectl annotate deployment NAME tycho.renci.org/repair=off`). A launch
 * whose undo was refused leaves it too (rollback.ts). Any other value, or none, means on.
 */
export const ANN_REPAIR = `${labels.PREFIX}/repair`;
export const REPAIR_OFF = 'off';

/** The longest wait between two tries of a repair that keeps failing (5 min). */
export const MAX_BACKOFF_MS = 300_000;

export interface SystemRepairOptions {
  /** How long a Deployment must have been seen without a child before it is repaired (10 s); also the first wait after a failed repair. */
  graceMs?: number;
  /** The longest wait between tries of a repair that keeps failing. */
  maxBackoffMs?: number;
  /** Whether this replica holds the Lease: only the leader repairs. Without it, this one does (a REST-only server elects no leader). */
  isLeader?: () => boolean;
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

/** The writes a repair makes: client-node's, or fakes in a test. */
export interface RepairClients {
  apps: AppsV1Api;
  core: CoreV1Api;
  networking: NetworkingV1Api;
}

export class SystemRepair {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly networking: NetworkingV1Api;
  /** The next try of each system waiting for one (after the grace period, or a failure's backoff). */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Failed tries in a row, per system. */
  private readonly failures = new Map<string, number>();
  /** The NodePorts each system's Service had when last seen, to make a lost one again with them. */
  private readonly nodePorts = new Map<string, NodePorts>();
  /** Systems whose repair is off, said once in the log. */
  private readonly toldOff = new Set<string>();
  private readonly graceMs: number;
  private readonly maxBackoffMs: number;
  private readonly onChanged = (s: SystemState) => this.consider(s);
  private readonly onTransition = (t: Transition) => {
    if (t.to === 'gone') this.forget(t.uid);
  };
  /** Aborts the follow-ups of repaired systems when the server stops. */
  private readonly stopping = new AbortController();

  constructor(
    kc: KubeConfig | RepairClients,
    private readonly view: LiveView,
    private readonly o: SystemRepairOptions,
  ) {
    const c = kc instanceof KubeConfig ? { apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), networking: kc.makeApiClient(NetworkingV1Api) } : kc;
    this.apps = c.apps;
    this.core = c.core;
    this.networking = c.networking;
    this.graceMs = o.graceMs ?? 10_000;
    this.maxBackoffMs = o.maxBackoffMs ?? MAX_BACKOFF_MS;
  }

  /**
   * Follows every change the view sees (not only stage transitions: an Ingress deleted by hand
   * moves no stage), and looks at every system it already holds, so one found broken at
   * startup, whose view synced before this started, is repaired too.
   */
  start(): void {
    this.view.on('changed', this.onChanged);
    this.view.on('transition', this.onTransition);
    for (const s of this.view.systems()) this.consider(s);
  }

  stop(): void {
    this.view.off('changed', this.onChanged);
    this.view.off('transition', this.onTransition);
    this.stopping.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private consider(s: SystemState): void {
    const ports = nodePortsOf(s.service);
    if (ports) this.nodePorts.set(s.uid, ports);
    // A try already waits (the grace period, or a failure's backoff): a change does not hurry it.
    if (this.timers.has(s.uid) || s.stage === 'terminating' || this.missing(s).length === 0) return;
    this.tryAfter(s.uid, s.name, this.graceMs);
  }

  private tryAfter(uid: string, name: string, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(uid);
      void this.repair(uid, name);
    }, ms);
    timer.unref();
    this.timers.set(uid, timer);
  }

  private forget(uid: string): void {
    clearTimeout(this.timers.get(uid));
    this.timers.delete(uid);
    this.failures.delete(uid);
    this.nodePorts.delete(uid);
    this.toldOff.delete(uid);
  }

  /** The children the Deployment records that the view does not hold, and a start never made. */
  private missing(s: SystemState): MissingPart[] {
    return missingParts(s, !!this.o.ingress && this.view.followsIngresses);
  }

  private async repair(uid: string, name: string): Promise<void> {
    // Still the same system, still missing a child, after the grace period?
    const s = this.view.system(name);
    if (!s || s.uid !== uid || s.stage === 'terminating' || s.deployment.metadata?.deletionTimestamp) return;
    const missing = this.missing(s);
    if (missing.length === 0) {
      this.failures.delete(uid);
      return;
    }
    // Not the leader (now): looked at again later, since the Lease may come here.
    if (this.o.isLeader && !this.o.isLeader()) {
      this.tryAfter(uid, name, this.graceMs);
      return;
    }
    const log = this.o.log.child({ system: name, uid, ...labels.launchFields(s.deployment.metadata?.annotations) });
    if (s.deployment.metadata?.annotations?.[ANN_REPAIR] === REPAIR_OFF) {
      if (!this.toldOff.has(uid)) log.info(`not repairing a system: ${ANN_REPAIR} is "${REPAIR_OFF}" on its Deployment`, { missing });
      this.toldOff.add(uid);
      return;
    }
    this.toldOff.delete(uid);
    let made = 0;
    let failed = false;
    for (const what of missing) {
      try {
        if (!(await this.make(what, s, log))) continue;
        made++;
        log.warn('repaired a system: its launch was cut short, or a part of it was deleted by hand', { repaired: what });
      } catch (e) {
        // 409: another replica (or the launch itself) made it meanwhile, and follows it.
        if (apiCode(e) === 409) continue;
        failed = true;
        log.warn('could not repair a system', { repairing: what, error: e instanceof Error ? e.message : String(e) });
      }
    }
    if (failed) {
      // Tried again without waiting for a change, but less often each time it fails.
      const failures = (this.failures.get(uid) ?? 0) + 1;
      this.failures.set(uid, failures);
      const waitMs = Math.min(this.graceMs * 2 ** failures, this.maxBackoffMs);
      log.info('will try the repair again', { failures, retryInSeconds: Math.round(waitMs / 1000) });
      this.tryAfter(uid, name, waitMs);
    } else this.failures.delete(uid);
    if (made === 0) return;
    await this.confirmWhenServing(uid, name).catch((e: unknown) => {
      if (!this.stopping.signal.aborted) log.info('did not confirm the URL of a repaired system', { error: e instanceof Error ? e.message : String(e) });
    });
  }

  /** Creates one child from what the Deployment records (false when it records too little to), or unpauses it. */
  private async make(what: MissingPart, s: SystemState, log: Logger): Promise<boolean> {
    const namespace = this.view.namespace;
    if (what === 'unpause') {
      await startPausedDeployment(this.apps, namespace, s.name);
      return true;
    }
    if (what === 'Service') {
      const body = serviceForDeployment(s.deployment, namespace, this.o.defaultServiceType);
      if (body) await this.makeService(body, s, log);
      return !!body;
    }
    const body = ingressForDeployment(s.deployment, namespace, this.o.ingress!);
    if (body) await this.networking.createNamespacedIngress({ namespace, body });
    return !!body;
  }

  /**
   * The Service, with the NodePorts its lost one had, so the URL already handed out stays right.
   * If one is taken now, it gets new ones; a system that had served (its URL was handed out) then
   * records that its URL changed.
   */
  private async makeService(body: V1Service, s: SystemState, log: Logger): Promise<void> {
    const namespace = this.view.namespace;
    const had = this.nodePorts.get(s.uid);
    let made: V1Service;
    try {
      made = await this.core.createNamespacedService({ namespace, body: withNodePorts(body, had) });
    } catch (e) {
      if (!had || !isNodePortTaken(e)) throw e;
      made = await this.core.createNamespacedService({ namespace, body });
    }
    const now = nodePortsOf(made);
    if (!now || sameNodePorts(had, now) || !s.deployment.metadata?.annotations?.[labels.ANN_URL_CHECK]) return;
    log.warn('a repaired system has a new URL: its NodePort was taken', { was: had ? [...had.values()] : 'unknown', now: [...now.values()] });
    await patchDeploymentAnnotations(this.apps, { namespace, name: s.name, annotations: { [ANN_URL_CHANGED]: urlChangedRecord(made, had) } }).catch((e: unknown) =>
      log.warn('could not record the new URL of a repaired system', { error: e instanceof Error ? e.message : String(e) }),
    );
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
