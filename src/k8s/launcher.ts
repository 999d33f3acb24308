/**
 * The one launcher. Slack, REST and the CLI all call this. Kubernetes holds all state:
 * labels and annotations on the Deployment are the only record of a system.
 */
import { DEFAULT_LAUNCH_CONCURRENCY, limiter, type Limiter } from '../concurrency.js';
import { type V1Deployment, type V1Ingress, type V1Pod, type V1Service } from '@kubernetes/client-node';
import * as labels from './labels.js';
import { buildDeployment, buildIngress, buildService } from './manifests.js';
import { hostFor, ingressHost, ingressProbeAddress, ingressUrl, isDnsName, type IngressSettings } from './ingress.js';
import { checkClaims } from './volumes.js';
import { STAGE_ORDER } from './pod-verdict.js';
import { clusterAddress, resolveUrl } from './url.js';
import { apiCode, ignoreNotFound, isConflict, isNotFound, callKubernetes, makeClients, toTychoError, type KubeClients } from './kube.js';
import { rollBack, type HalfMade } from './rollback.js';
import { LiveView } from './view/live-view.js';
import { LaunchWatch, markForTeardown, waitUntilDeleted, type FollowedSystem } from './one-watch.js';
import { discoverEndpointsApi, endpointsSource, type EndpointsApi } from './view/endpoints-source.js';
import { missingParts, ownedChild, podsOf, systemState, type SystemState } from './view/system-model.js';
import { patchDeploymentAnnotations } from './deployment-annotations.js';
import { writeExtendedExpiry } from './extend-expiry.js';
import { rolloutRestart } from './rollout-restart.js';
import { currentUrlCheck, urlCheckAnnotation } from './url-check-record.js';
import { probeUntilGone, probeUrl, urlToCheck, type UrlCheckMode, type UrlVerdict, type UrlChecked } from './url-probe.js';
import { createSecretAndStart } from './secret-env.js';
import { podForLogs, readPodLog, type LogRequest, type SystemLogs } from './pod-logs.js';
import { checkLaunchSpec } from './validate.js';
import {
  InvalidSpec,
  NameInUse,
  NotFound,
  Timeout,
  TornDownWhileLaunching,
  TychoError,
  Forbidden,
  ClusterUnreachable,
  podFailureError,
} from './errors.js';
import { exposeOfServiceType, serviceTypeOf, type ExposeMode, type LaunchSpec, type ServiceType, type Stage, type SystemInfo } from './spec.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { LauncherConfig } from '../config.js';
import type { Extended, SystemLauncher, UpOptions } from './system-launcher.js';
import { expiryFor, extendedExpiry, parseDuration, readExpirySettings, type ExpirySettings } from './expiry.js';
import { newLogId, silentLogger, type Logger } from '../log.js';

export type OnFailure = 'keep' | 'delete';

export interface LauncherOptions {
  namespace: string;
  /**
   * Launches that create their objects at once; the rest queue in order (default 8). A class
   * launching together then keeps the event loop free for Slack's acks: each launch's writes,
   * and the view events and Slack calls they set off, come a few at a time.
   */
  launchConcurrency?: number;
  /** How a launch without --expose is reached; default nodeport. */
  expose?: ExposeMode;
  /** The older spelling of `expose`, used when it is unset. */
  serviceType?: ServiceType;
  /** An ingress domain is configured: `ingress` launches get an Ingress, and the view follows them. */
  ingress?: IngressSettings;
  /** Only claims whose names start with this may be mounted. */
  volumeClaimPrefix?: string;
  publicHost?: string;
  readyTimeoutSeconds?: number;
  onFailure?: OnFailure;
  /** How long `down` waits for pods to finish terminating before it reports success anyway. */
  deleteWaitSeconds?: number;
  /**
   * How long a launch that failed half-way keeps trying to remove what it made before its caller
   * hears what was left (default 30 s; rollback.ts). A launcher with the server's shared view
   * goes on trying in the background for ten minutes more.
   */
  rollbackSeconds?: number;
  /** The server's shared live view of the namespace; without one, each operation follows its system with a short-lived view. */
  view?: LiveView;
  /** Which address to open before calling a system ready (see url-probe.ts). */
  urlCheck?: UrlCheckMode;
  urlCheckSeconds?: number;
  /** Tycho runs in a pod: node and load-balancer URLs may be unreachable from here. */
  inCluster?: boolean;
  /** What it did in the cluster, one line per write, each with its launch id (the server's; the CLI logs nothing). */
  log?: Logger;
  /**
   * Without a shared view, follow a launch or a teardown with one watch instead of a short-lived
   * view (one-watch.ts): the CLI's one-shot process, whose `up` then makes 4 requests and `down` 3.
   */
  oneWatch?: boolean;
  /** How long systems live (expiry.ts); default the defaults of TYCHO_DEFAULT_TTL and TYCHO_MAX_TTL. */
  expiry?: ExpirySettings;
}

/** The launcher options an operator configures (the server and the CLI build launchers the same way). */
export function launcherOptionsFrom(cfg: LauncherConfig, namespace: string): LauncherOptions {
  return {
    namespace,
    expose: cfg.expose,
    ...(cfg.ingress ? { ingress: cfg.ingress } : {}),
    ...(cfg.volumeClaimPrefix ? { volumeClaimPrefix: cfg.volumeClaimPrefix } : {}),
    ...(cfg.publicHost ? { publicHost: cfg.publicHost } : {}),
    readyTimeoutSeconds: cfg.readyTimeoutSeconds,
    onFailure: cfg.onFailure,
    urlCheck: cfg.urlCheck,
    urlCheckSeconds: cfg.urlCheckSeconds,
    launchConcurrency: cfg.launchConcurrency,
    expiry: cfg.expiry,
    // The service account's environment: Tycho runs in a pod.
    inCluster: !!process.env.KUBERNETES_SERVICE_HOST,
  };
}

export class Launcher implements SystemLauncher {
  readonly namespace: string;
  private readonly clients: KubeClients;
  private readonly expose: ExposeMode;
  private readonly readyTimeout: number;
  private readonly onFailure: OnFailure;
  private readonly view: LiveView | undefined;
  private readonly log: Logger;
  private readonly launchWrites: Limiter;
  /** Every system this launcher makes gets an expiry from these (expiry.ts). */
  readonly expiry: ExpirySettings;
  /** The launches followed by one watch of their pods, by name, to be told what their creates made. */
  private readonly launchWatches = new Map<string, LaunchWatch>();

  constructor(
    kc: KubeConfig,
    private readonly opts: LauncherOptions,
  ) {
    this.clients = makeClients(kc);
    this.namespace = opts.namespace;
    this.expose = opts.expose ?? exposeOfServiceType(opts.serviceType ?? 'NodePort');
    this.readyTimeout = opts.readyTimeoutSeconds ?? 300;
    this.onFailure = opts.onFailure ?? 'keep';
    this.view = opts.view;
    this.log = opts.log ?? silentLogger;
    this.launchWrites = limiter(opts.launchConcurrency ?? DEFAULT_LAUNCH_CONCURRENCY);
    this.expiry = opts.expiry ?? readExpirySettings(() => undefined).settings;
  }

  /** Used by /readyz: any cheap authorised call in our namespace proves the cluster is reachable. */
  async ping(): Promise<void> {
    if (this.view?.problem) throw new Forbidden(this.view.problem);
    if (this.view && !this.view.synced) throw new ClusterUnreachable('Tycho is still reading the cluster into its live view.');
    await callKubernetes('reach the cluster', () => this.clients.core.listNamespacedService({ namespace: this.namespace, limit: 1, labelSelector: labels.MANAGED_SELECTOR }));
  }

  async up(requested: LaunchSpec, o: UpOptions = {}): Promise<SystemInfo> {
    const problem = checkLaunchSpec(requested);
    if (problem) throw new InvalidSpec(problem);
    // The launch id goes on the Deployment, so whoever follows the system later logs it too.
    const launchId = o.launchId ?? newLogId();
    // Every system gets an expiry: its --ttl (refused by the command layer when over the maximum,
    // and never more than it here), else the default TTL. The reaper (reaper.ts) enforces it.
    const ttlMs = requested.ttl === undefined ? undefined : parseDuration(requested.ttl);
    if (requested.ttl !== undefined && ttlMs === undefined) throw new InvalidSpec(`"${requested.ttl}" is not a duration such as 2h, 90m or 1d12h.`);
    const expires = requested.expires ?? expiryFor(ttlMs === undefined ? undefined : Math.min(ttlMs, this.expiry.maxTtlMs), this.expiry, Date.now());
    const spec: LaunchSpec = { ...requested, expires, annotations: { ...requested.annotations, [labels.ANN_LAUNCH_ID]: launchId } };
    const log = this.log.child({ launchId, system: spec.name });
    log.info('launching', { image: spec.image, namespace: this.namespace, wait: o.wait !== false });
    try {
      const host = this.ingressHostFor(spec);
      // Before anything is created, and in seconds: a claim that is missing or not allowed.
      await checkClaims(this.clients, this.namespace, spec.volumes ?? [], this.opts.volumeClaimPrefix);
      if (o.wait === false) return await this.create(spec, host, o, log);
      // The view is started first (the CLI's own, or the server's shared one), so a refused watch
      // creates nothing.
      const serving = await this.withLaunchFollower(spec, host, async (view) => {
        const created = await this.create(spec, host, o, log);
        try {
          return await this.followLaunch(view, created.uid, spec, o);
        } catch (e) {
          if (this.onFailure === 'delete' && !(e instanceof TornDownWhileLaunching)) await this.removeFailedLaunch(created.uid, spec.name, e, log);
          if (this.onFailure === 'keep' && e instanceof TychoError && !(e instanceof TornDownWhileLaunching)) e.leftInPlace = spec.name;
          throw e;
        }
      });
      log.info('launch is serving', { url: serving.url });
      return serving;
    } catch (e) {
      log.info('launch failed', { code: e instanceof TychoError ? e.code : 'internal', error: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  /** The Ingress host of a launch exposed as `ingress`, else undefined; a mode this Tycho cannot serve is bad input. */
  private ingressHostFor(spec: LaunchSpec): string | undefined {
    if ((spec.expose ?? this.expose) !== 'ingress') return undefined;
    const settings = this.opts.ingress;
    if (!settings) throw new InvalidSpec('This Tycho has no ingress domain (the operator\'s setting TYCHO_INGRESS_DOMAIN), so it cannot expose a system as ingress; choose nodeport, loadbalancer or cluster.');
    const host = hostFor(settings, spec.name, this.namespace);
    if (!isDnsName(host)) throw new InvalidSpec(`The host name "${host}" made for "${spec.name}" is not a valid DNS name (at most 63 characters between dots); choose a shorter name.`);
    return host;
  }

  /**
   * The writes of a launch: the Deployment, then the Service and (exposed as ingress) the
   * Ingress it owns. A failed write undoes the ones before it.
   */
  private create(spec: LaunchSpec, host: string | undefined, o: UpOptions, log: Logger): Promise<SystemInfo & { uid: string }> {
    return this.launchWrites(() => this.createNow(spec, host, o, log));
  }

  private async createNow(spec: LaunchSpec, host: string | undefined, o: UpOptions, log: Logger): Promise<SystemInfo & { uid: string }> {
    const namespace = this.namespace;
    const mode = spec.expose ?? this.expose;
    let created: V1Deployment;
    try {
      // The mode is recorded on the Deployment (as its Service type), so a Service lost to a crash
      // is made again as it was meant (system-repair.ts).
      const recorded: LaunchSpec = { ...spec, expose: mode, ...(host ? { annotations: { ...spec.annotations, [labels.ANN_INGRESS_HOST]: host } } : {}) };
      created = await this.clients.apps.createNamespacedDeployment({ namespace, body: buildDeployment(recorded, namespace) });
    } catch (e) {
      if (isConflict(e)) throw await this.nameInUse(spec.name);
      throw toTychoError(e, 'create the Deployment');
    }
    log.info('created the Deployment', { uid: created.metadata?.uid });
    if (spec.secretEnv?.length) {
      try {
        await createSecretAndStart(this.clients, namespace, spec, created);
      } catch (e) {
        // Nothing half-made: the Deployment goes, and its Secret (if any) with it.
        throw await this.rollBack({ name: spec.name, uid: created.metadata!.uid!, left: `the Deployment "${spec.name}" (and its Secret, if it was made)` }, toTychoError(e, 'create the Secret for --secret-env'), log);
      }
    }
    o.onProgress?.('created', { describe: 'Deployment and Service created' });
    const owner = { name: spec.name, uid: created.metadata!.uid! };
    let service: V1Service;
    try {
      service = await this.createChild(owner, {
        create: () => this.clients.core.createNamespacedService({ namespace, body: buildService(spec, namespace, owner, serviceTypeOf(mode)) }),
        read: () => this.clients.core.readNamespacedService({ namespace, name: spec.name }),
        remove: (uid) => this.clients.core.deleteNamespacedService({ namespace, name: spec.name, body: { preconditions: { uid } } }),
      });
    } catch (e) {
      // Never leave a Deployment without its Service: undo, then report the real cause.
      // Unanswered (the connection was lost), the create may have been made all the same.
      const left = `the Deployment "${spec.name}" (with its pods${apiCode(e) === undefined ? ', and its Service if Kubernetes made it before the connection was lost' : ''})`;
      throw await this.rollBack({ name: spec.name, uid: owner.uid, left }, isConflict(e) ? new NameInUse(spec.name) : toTychoError(e, 'create the Service'), log);
    }
    log.info('created the Service', { type: service.spec?.type });
    let ingress: V1Ingress | undefined;
    if (host) {
      try {
        ingress = await this.createChild(owner, {
          create: () => this.clients.networking.createNamespacedIngress({ namespace, body: buildIngress(spec, namespace, owner, this.opts.ingress!, host) }),
          read: () => this.clients.networking.readNamespacedIngress({ namespace, name: spec.name }),
          remove: (uid) => this.clients.networking.deleteNamespacedIngress({ namespace, name: spec.name, body: { preconditions: { uid } } }),
        });
      } catch (e) {
        // Like the Service: no Deployment or Service without the Ingress that makes its URL. The
        // Service (and an Ingress made unanswered) are the Deployment's, and go with it.
        const left = `the Deployment "${spec.name}" (with its pods and its Service${apiCode(e) === undefined ? ', and its Ingress if Kubernetes made it before the connection was lost' : ''})`;
        throw await this.rollBack({ name: spec.name, uid: owner.uid, left }, isConflict(e) ? new NameInUse(spec.name) : toTychoError(e, 'create the Ingress'), log);
      }
      log.info('created the Ingress', { host });
    }
    this.launchWatches.get(spec.name)?.hold(created, service);
    return { ...this.toSystemInfo(created, service, [], undefined, ingress), uid: created.metadata!.uid! };
  }

  /**
   * Follows one launch on the live view until its URL answers (or it fails, is torn down, or
   * times out). Reads the shared cache; opens no watch of its own.
   */
  private async followLaunch(view: FollowedSystem, uid: string, spec: LaunchSpec, o: UpOptions): Promise<SystemInfo> {
    const seconds = o.timeoutSeconds ?? this.readyTimeout;
    const ac = new AbortController();
    let last = 'waiting for a pod';
    const timer = setTimeout(() => ac.abort(new Timeout(spec.name, seconds, last)), seconds * 1000);
    let reported: Stage = 'created';
    try {
      const serving = await view.waitFor(
        spec.name,
        (s) => {
          if (view.isGone(uid) || (s && s.uid !== uid)) throw new TornDownWhileLaunching(spec.name);
          if (!s || s.uid !== uid) return undefined; // not in the cache yet
          if (s.stage === 'terminating') throw new TornDownWhileLaunching(spec.name);
          last = s.describe;
          if (s.stage === 'failed' && s.failure) throw podFailureError(spec.name, spec.image, s.failure);
          // Progress only moves forward: a pod being replaced must not read as "created" again.
          const stage: Stage = s.stage === 'unready' ? 'started' : s.stage;
          if (STAGE_ORDER.indexOf(stage) > STAGE_ORDER.indexOf(reported)) {
            reported = stage;
            o.onProgress?.(stage, { describe: s.describe });
          }
          // Ready, and the cache holds the Service and Ingress this launch made: the URL check
          // is recorded as made through them (url-check-record.ts).
          return s.stage === 'ready' && missingParts(s, view.followsIngresses).length === 0 ? s : undefined;
        },
        ac.signal,
      );
      const info = await this.confirmServing(serving, ac.signal);
      // Read-your-writes: return once the shared view holds the recorded verdict, so a `status`
      // that follows (answered from the view) says what this answer says. A launch's own view or
      // watch ends with it, and a later `status` reads afresh.
      if (view === this.view) {
        await view
          .waitFor(spec.name, (s) => (!s || s.uid !== uid || s.deployment.metadata?.annotations?.[labels.ANN_URL_CHECK] ? true : undefined), AbortSignal.timeout(5000))
          .catch(() => undefined);
      }
      return info;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A system the view says is serving: open its URL (once per system; the verdict is recorded
   * on the Deployment in one merged patch, so every replica and `status` report the same) and
   * describe it. The waiting caller and the Slack reconciler both come through here.
   */
  async confirmServing(serving: SystemState, signal?: AbortSignal): Promise<SystemInfo> {
    if (currentUrlCheck(serving.deployment.metadata?.annotations?.[labels.ANN_URL_CHECK], serving)) return this.describeState(serving);
    const verdict = await this.checkUrl(serving, signal ?? new AbortController().signal);
    const dep = await this.patchAnnotations(serving.name, { [labels.ANN_URL_CHECK]: urlCheckAnnotation(verdict, serving) }).catch(() => undefined);
    // Recorded or not (gone meanwhile), the caller hears what was found.
    return dep ? this.toSystemInfo(dep, serving.service, serving.pods, serving.readyIps, serving.ingress) : this.describeChecked(serving, verdict);
  }

  /**
   * Opens the URL of a serving system, recording nothing: for a caller that records the verdict
   * in a write it makes anyway (the Slack reconciler's claim on the Ready reply).
   */
  async checkServing(serving: SystemState): Promise<UrlVerdict> {
    return this.checkUrl(serving, new AbortController().signal);
  }

  /** A system as it will read once `verdict` is recorded on it. */
  describeChecked(s: SystemState, verdict: UrlVerdict): SystemInfo {
    const d = s.deployment;
    const recorded = { ...d, metadata: { ...d.metadata, annotations: { ...d.metadata?.annotations, [labels.ANN_URL_CHECK]: urlCheckAnnotation(verdict, s) } } };
    // Only an annotation differs, which no stage depends on: the view's state still holds.
    return this.toSystemInfo(recorded, s.service, s.pods, s.readyIps, s.ingress, s);
  }

  /** Opens the URL about to be handed out (or the in-cluster address), as a user would. */
  private async checkUrl(s: SystemState, signal: AbortSignal): Promise<UrlVerdict> {
    const target = this.urlTarget(s);
    if (target.url === null) return { checked: target.checked, verified: false, reason: target.reason };
    const r = await probeUrl(target.url, { totalSeconds: this.opts.urlCheckSeconds ?? 20, signal, ...(target.via ? { via: target.via } : {}) });
    return r.ok ? { checked: target.checked, verified: true } : { checked: target.checked, verified: false, reason: r.reason ?? 'it did not answer' };
  }

  /**
   * Which address a check opens. Exposed through an Ingress: https://HOST/ through the ingress
   * controller where Tycho can reach it (the configured address, else the one the controller
   * published on the Ingress), with the host as Host and SNI; otherwise the Service inside the
   * cluster, and the verdict says the public URL was not the one checked. Else the URL handed
   * out, or the in-cluster address (url-probe.ts urlToCheck).
   */
  private urlTarget(s: SystemState): { checked: UrlChecked; url: string; via?: { host: string; port: number } } | { checked: UrlChecked; url: null; reason: string } {
    const mode = this.opts.urlCheck ?? 'auto';
    if (mode === 'off') return { checked: 'none', url: null, reason: 'URL checks are turned off (TYCHO_URL_CHECK=off)' };
    const unknown = 'no address is known for it yet';
    const host = ingressHost(s.ingress) ?? s.deployment.metadata?.annotations?.[labels.ANN_INGRESS_HOST];
    if (host) {
      const via = mode === 'cluster' ? undefined : ingressProbeAddress(this.opts.ingress, s.ingress);
      if (via) return { checked: 'public', url: ingressUrl(host), via };
      const clusterUrl = s.service ? clusterAddress(s.service) : null;
      return clusterUrl ? { checked: 'cluster', url: clusterUrl } : { checked: 'cluster', url: null, reason: unknown };
    }
    const publicUrl = s.service ? resolveUrl(s.service, s.servingPods, this.opts.publicHost) : null;
    const clusterUrl = s.service ? clusterAddress(s.service) : null;
    const { checked, url } = urlToCheck(mode, publicUrl, clusterUrl, this.opts.inCluster ?? false);
    return url ? { checked, url } : { checked, url: null, reason: unknown };
  }

  /** After a teardown: waits (bounded) until the address a check would open no longer answers. */
  private async waitUntilUrlGone(s: SystemState): Promise<void> {
    const target = this.urlTarget(s);
    if (target.url === null) return;
    const r = await probeUntilGone(target.url, { totalSeconds: this.opts.urlCheckSeconds ?? 20, ...(target.via ? { via: target.via } : {}) });
    if (!r.gone) this.log.warn('torn down, but its URL still answers', { system: s.name, url: target.url, reason: r.reason });
  }

  /**
   * The shared live view when this launcher has one (the server), else a short-lived one that
   * follows just this system (the CLI's one-shot process).
   */
  private async withView<R>(name: string, fn: (view: LiveView) => Promise<R>): Promise<R> {
    if (this.view) return fn(this.view);
    const api = this.discovered ? await this.discovered.catch(() => undefined) : undefined;
    const view = new LiveView(this.clients.kc, this.namespace, { labelSelector: labels.systemSelector(name), ingresses: !!this.opts.ingress, ...(api ? { endpointsApi: api } : {}) });
    try {
      await view.start().catch((e: unknown) => {
        throw view.problem ? new Forbidden(view.problem) : toTychoError(e, 'follow the system');
      });
      return await fn(view);
    } finally {
      await view.stop();
    }
  }

  /**
   * What follows a launch. With `oneWatch` (the CLI), when the pods alone tell its URL (a NodePort
   * or ClusterIP Service, no Ingress), one watch of its pods, told what the creates made
   * (one-watch.ts); else a view, as withView.
   */
  private async withLaunchFollower<R>(spec: LaunchSpec, host: string | undefined, fn: (view: FollowedSystem) => Promise<R>): Promise<R> {
    // A LoadBalancer's address is in its Service's status, which only a watch of it would show.
    if (!this.opts.oneWatch || this.view || host || (spec.expose ?? this.expose) === 'loadbalancer') return this.withView(spec.name, fn);
    const watch = new LaunchWatch(this.clients.kc, this.clients.apps, this.namespace, spec.name);
    await watch.start();
    this.launchWatches.set(spec.name, watch);
    try {
      return await fn(watch);
    } finally {
      this.launchWatches.delete(spec.name);
      await watch.stop();
    }
  }

  /**
   * Creates a child (Service, Ingress) of the launch's Deployment. When its name is taken (409),
   * what holds it decides:
   * - one this very Deployment owns was made meanwhile by a server's repair (system-repair.ts),
   *   for a launch slow between its creates: it is taken;
   * - one of Tycho's owned by an earlier Deployment of this name is that system's leftover: its
   *   Deployment was deleted (`kubectl delete deployment NAME`) and the garbage collector has not
   *   reached it yet, so an `up` of the same name right after would fail for nothing. It is
   *   cleared (only that very object: a uid precondition) and the child made again, once;
   * - anything else is someone else's object: the 409 is thrown, and the name is in use.
   */
  private async createChild<T extends V1Service | V1Ingress>(
    owner: { name: string; uid: string },
    child: { create: () => Promise<T>; read: () => Promise<T>; remove: (uid: string) => Promise<unknown> },
  ): Promise<T> {
    try {
      return await child.create();
    } catch (e) {
      if (!isConflict(e)) throw e;
      const there = await child.read().catch(() => undefined);
      const repaired = ownedChild(owner.uid, there);
      if (repaired) return repaired;
      // Owned only by an earlier Deployment of this name: one that cannot exist any more, since
      // the name is this launch's Deployment's; checked, since a launch torn down underneath
      // itself and made again by someone else must not take the newer system's child.
      const owners = there?.metadata?.ownerReferences ?? [];
      const leftover =
        there?.metadata?.labels?.[labels.LABEL_MANAGED_BY] === labels.MANAGED_BY_VALUE &&
        owners.length > 0 &&
        owners.every((r) => r.kind === 'Deployment' && r.name === owner.name && r.uid !== owner.uid) &&
        (await this.clients.apps.readNamespacedDeployment({ namespace: this.namespace, name: owner.name }).then((d) => d.metadata?.uid === owner.uid, () => false));
      if (!leftover) throw e;
      this.log.info('cleared what an earlier system of this name left for the garbage collector', { system: owner.name, kind: there.kind ?? 'child' });
      await ignoreNotFound(child.remove(there.metadata!.uid!)).catch(() => undefined);
      return child.create();
    }
  }

  private async nameInUse(name: string): Promise<NameInUse> {
    const existing = await this.clients.apps.readNamespacedDeployment({ namespace: this.namespace, name }).catch(() => undefined);
    const a = existing?.metadata?.annotations ?? {};
    if (existing?.metadata?.labels?.[labels.LABEL_MANAGED_BY] !== labels.MANAGED_BY_VALUE) return new NameInUse(name);
    return new NameInUse(name, a[labels.ANN_OWNER] ?? 'someone', a[labels.ANN_CREATED], a[labels.ANN_OWNER_ID]);
  }

  /**
   * Undoes a launch that failed half-way (rollback.ts): the error its caller must see, the
   * launch's own once everything is removed, else one that says what is left. Only a server
   * (the shared view: a process that lives on) keeps trying after it has answered.
   */
  private async rollBack(made: HalfMade, failure: TychoError, log: Logger): Promise<TychoError> {
    const told = await rollBack(this.clients.apps, this.namespace, made, failure, { seconds: this.opts.rollbackSeconds ?? 30, backgroundSeconds: this.view ? 600 : 0, log });
    told.undoneUid = made.uid;
    return told;
  }

  /**
   * TYCHO_ON_FAILURE=delete: a launch that failed once made is torn down (waiting for its pods,
   * so nothing is left when the caller hears of it). A teardown that fails is retried as an undo,
   * and a caller told what is left if that fails too.
   */
  private async removeFailedLaunch(uid: string, name: string, e: unknown, log: Logger): Promise<void> {
    const failure = e instanceof TychoError ? e : toTychoError(e, 'follow the launch');
    const removed = await this.down(name).then(
      () => true,
      (d: unknown) => d instanceof NotFound,
    );
    if (!removed) throw await this.rollBack({ name, uid, left: `the Deployment "${name}" (with its pods and its Service)` }, failure, log);
  }

  /**
   * Removes the system. Missing objects are fine (a half-removed system is finished off),
   * but a name with nothing of Tycho's behind it is NotFound. Returns what was removed.
   * Who asked is written on the Deployment first, so the DELETED event everyone sees says who
   * tore it down.
   */
  async down(name: string, by = 'someone using Tycho'): Promise<SystemInfo> {
    if (this.opts.oneWatch && !this.view) {
      const removed = await this.downWithOneWatch(name, by);
      if (removed) return removed;
      // No Deployment of Tycho's by that name: what follows looks for a Service or Ingress left without one.
    }
    const namespace = this.namespace;
    // The server's synced view holds every Tycho Deployment: no read needed. A miss (a launch on
    // another replica the view has not heard of yet, or no view) reads once.
    const cached = this.view?.synced ? this.view.system(name)?.deployment : undefined;
    const dep = cached ?? (await callKubernetes('read the Deployment', () => ignoreNotFound(this.clients.apps.readNamespacedDeployment({ namespace, name }))));
    const depIsOurs = dep?.metadata?.labels?.[labels.LABEL_MANAGED_BY] === labels.MANAGED_BY_VALUE;
    const svc = depIsOurs ? undefined : await callKubernetes('read the Service', () => ignoreNotFound(this.clients.core.readNamespacedService({ namespace, name })));
    const svcIsOurs = svc?.metadata?.labels?.[labels.LABEL_MANAGED_BY] === labels.MANAGED_BY_VALUE;
    const ing = depIsOurs || !this.opts.ingress ? undefined : await callKubernetes('read the Ingress', () => ignoreNotFound(this.clients.networking.readNamespacedIngress({ namespace, name })));
    const ingIsOurs = ing?.metadata?.labels?.[labels.LABEL_MANAGED_BY] === labels.MANAGED_BY_VALUE;
    if (!depIsOurs) {
      if (!svcIsOurs && !ingIsOurs) throw new NotFound(name);
      // A Service or Ingress left without its Deployment: finish it off.
      if (svcIsOurs) await callKubernetes('delete the Service', () => ignoreNotFound(this.clients.core.deleteNamespacedService({ namespace, name })));
      if (ingIsOurs) await callKubernetes('delete the Ingress', () => ignoreNotFound(this.clients.networking.deleteNamespacedIngress({ namespace, name })));
      return this.toSystemInfo(undefined, svcIsOurs ? svc : undefined, [], undefined, ingIsOurs ? ing : undefined);
    }
    const info = this.toSystemInfo(dep, undefined, []);
    const uid = dep!.metadata!.uid!;
    this.log.info('tearing down', { system: name, by, ...labels.launchFields(dep!.metadata?.annotations) });
    await this.withView(name, async (view) => {
      // What its URL was served through, to know when it stops answering.
      const served = view.system(name);
      const marked = await this.patchAnnotations(name, { [labels.ANN_DELETED_BY]: by }).catch((e: unknown) => {
        if (e instanceof NotFound) return undefined;
        throw e;
      });
      if (marked) {
        // The uid precondition keeps this from deleting a re-created system of the same name. Not
        // the resourceVersion: the deployment controller writes status all the time, so that
        // precondition fails routinely, and a status write never drops the record made above.
        await callKubernetes('delete the Deployment', () =>
          ignoreNotFound(
            this.clients.apps.deleteNamespacedDeployment({ namespace, name, propagationPolicy: 'Foreground', body: { propagationPolicy: 'Foreground', preconditions: { uid } } }),
          ),
        );
      }
      // The Service is the Deployment's child and would go with it; deleting it now stops the URL at once.
      await callKubernetes('delete the Service', () => ignoreNotFound(this.clients.core.deleteNamespacedService({ namespace, name })));
      // Likewise its Ingress: the controller stops routing the host now, not after garbage collection.
      if (dep!.metadata?.annotations?.[labels.ANN_INGRESS_HOST]) {
        await callKubernetes('delete the Ingress', () => ignoreNotFound(this.clients.networking.deleteNamespacedIngress({ namespace, name })));
      }
      await this.waitUntilGone(view, name, uid);
      // Torn down means the URL no longer answers: the mirror of "ready means it answers".
      if (served?.uid === uid && served.stage === 'ready') await this.waitUntilUrlGone(served);
    });
    return info;
  }

  /**
   * `down` in three requests (one-watch.ts): the patch that proves the Deployment is Tycho's and
   * records who asked, the delete, and one watch of it until it is gone. Foreground deletion keeps
   * the Deployment until everything it owns with blockOwnerDeletion is gone (its Service, Ingress
   * and Secret, its ReplicaSets and their pods; manifests.ts), which the garbage collector deletes
   * at once: when it is gone, nothing of the system is left. Undefined when the name has no
   * Deployment of Tycho's.
   */
  private async downWithOneWatch(name: string, by: string): Promise<SystemInfo | undefined> {
    const namespace = this.namespace;
    const marked = await markForTeardown(this.clients.apps, namespace, name, by);
    if (!marked) return undefined;
    const uid = marked.metadata!.uid!;
    this.log.info('tearing down', { system: name, by, ...labels.launchFields(marked.metadata?.annotations) });
    await callKubernetes('delete the Deployment', () =>
      ignoreNotFound(this.clients.apps.deleteNamespacedDeployment({ namespace, name, propagationPolicy: 'Foreground', body: { propagationPolicy: 'Foreground', preconditions: { uid } } })),
    );
    await waitUntilDeleted(this.clients.kc, this.clients.apps, { namespace, name, uid, resourceVersion: marked.metadata?.resourceVersion, seconds: this.opts.deleteWaitSeconds ?? 60 });
    return this.toSystemInfo(marked, undefined, []);
  }

  /** Foreground deletion keeps the Deployment until its ReplicaSets and Pods are gone. */
  private async waitUntilGone(view: LiveView, name: string, uid: string): Promise<void> {
    // Gone before the view ever listed it (deleted between our read and the view's start): the
    // view will never see it, let alone its deletion. One GET tells. Not needed when the view
    // holds (or held) this very Deployment: then it will see it go.
    const known = view.system(name)?.uid === uid || view.isGone(uid);
    if (!known) {
      const already = await this.clients.apps
        .readNamespacedDeployment({ namespace: this.namespace, name })
        .then((d) => d.metadata?.uid !== uid, (e: unknown) => isNotFound(e));
      if (already) return;
    }
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('still terminating')), (this.opts.deleteWaitSeconds ?? 60) * 1000);
    let seen = known;
    await view
      .waitFor(
        name,
        (s) => {
          if (s?.uid === uid) seen = true;
          return view.isGone(uid) || (s !== undefined && s.uid !== uid) || (s === undefined && seen) ? true : undefined;
        },
        ac.signal,
      )
      // Still terminating after the wait: the objects are marked for deletion and will go.
      .catch(() => undefined)
      .finally(() => clearTimeout(timer));
  }

  /** A merge patch of Tycho annotations; other annotations are kept. Returns the Deployment. */
  private async patchAnnotations(name: string, annotations: Record<string, string>): Promise<V1Deployment> {
    try {
      return await patchDeploymentAnnotations(this.clients.apps, { namespace: this.namespace, name, annotations });
    } catch (e) {
      if (isNotFound(e)) throw new NotFound(name);
      throw toTychoError(e, 'annotate the Deployment');
    }
  }

  /**
   * Moves the system's expiry: `ttl` (else the default TTL) added to what is left, capped at now
   * + the maximum (expiry.ts). One merge patch of the expiry annotation, refused (AlreadyTerminating)
   * once the reaper or a teardown has marked the system, and guarded so a mark written meanwhile
   * is not lost (extend-expiry.ts); the reaper's timer and the Slack warning follow it through the live view.
   */
  async extend(name: string, o: { ttl?: string; by?: string; from?: string; retires?: string } = {}): Promise<Extended> {
    const ttlMs = o.ttl === undefined ? undefined : parseDuration(o.ttl);
    if (o.ttl !== undefined && ttlMs === undefined) throw new InvalidSpec(`"${o.ttl}" is not a duration such as 2h, 90m or 1d12h.`);
    const system = await this.status(name);
    const cached = this.view?.synced ? this.view.system(name)?.deployment : undefined;
    // `from`: the expiry a button was made for. Already moved (the same button clicked twice, a
    // double click, a retry): the extend was done, and is not done again.
    const moved = (current: string | undefined) => o.from !== undefined && current !== undefined && Date.parse(current) !== Date.parse(o.from);
    const { expires, capped, unchanged } = await writeExtendedExpiry(
      this.clients.apps,
      this.namespace,
      name,
      (current) => (moved(current) ? { expires: current!, capped: false, unchanged: true } : { ...extendedExpiry(current, ttlMs, this.expiry, Date.now()), unchanged: false }),
      cached,
      // Who, with it: the thread's warning then says who moved the expiry, whichever front end did.
      // A click on the warning retires it here (the click updates it), so it is not updated twice.
      (read) => ({
        ...(o.by ? { [labels.ANN_EXTENDED_BY]: o.by } : {}),
        ...(o.retires && read[labels.ANN_SLACK_EXPIRY_WARNING_TS] === o.retires ? { [labels.ANN_SLACK_EXPIRY_WARNING_TS]: '' } : {}),
      }),
    );
    if (unchanged) {
      this.log.info('not extended: already extended since the button was made', { system: name, by: o.by, from: o.from, expires });
      return { system: { ...system, expires }, capped: false, already: true };
    }
    this.log.info('extended', { system: name, by: o.by, from: system.expires, expires, capped, ...labels.launchFields(system.annotations) });
    return { system: { ...system, expires, annotations: { ...system.annotations, [labels.ANN_EXPIRES]: expires } }, capped };
  }

  /**
   * Replaces the system's pod as `kubectl rollout restart` does (rollout-restart.ts). Answers once
   * the Deployment has the new template; the pod is replaced after, as the live view shows.
   */
  async restart(name: string, by?: string): Promise<SystemInfo> {
    const system = await this.status(name);
    const uid = this.view?.synced ? this.view.system(name)?.uid : undefined;
    try {
      await rolloutRestart(this.clients.apps, { namespace: this.namespace, name, uid, at: new Date() });
    } catch (e) {
      if (isNotFound(e)) throw new NotFound(name);
      throw toTychoError(e, 'restart the Deployment');
    }
    this.log.info('restarted', { system: name, by, ...labels.launchFields(system.annotations) });
    return system;
  }

  /**
   * Adds Tycho annotations to a running system's Deployment (e.g. where its Slack "Ready"
   * message lives, known only after launch). A merge patch: other annotations are kept.
   */
  async annotate(name: string, annotations: Record<string, string>): Promise<void> {
    await this.patchAnnotations(name, annotations);
  }

  /**
   * From the live view once it has synced (no API call); a miss does one GET before saying "no
   * such system", so a launch made a moment ago on another replica is never reported missing.
   */
  async status(name: string): Promise<SystemInfo> {
    if (this.view?.synced) {
      const s = this.view.system(name);
      if (s) return this.describeState(s);
      const d = await callKubernetes('read the Deployment', () => ignoreNotFound(this.clients.apps.readNamespacedDeployment({ namespace: this.namespace, name })));
      if (d?.metadata?.labels?.[labels.LABEL_MANAGED_BY] !== labels.MANAGED_BY_VALUE) throw new NotFound(name);
      return this.toSystemInfo(d, undefined, []);
    }
    const [info] = await this.query(labels.systemSelector(name));
    if (!info) throw new NotFound(name);
    return info;
  }

  /**
   * The last lines of the system's log. Its pod comes from the live view once synced (no API call
   * but the log's); else one list of its objects, as `status` does.
   */
  async logs(name: string, req: LogRequest): Promise<SystemLogs> {
    const s = this.view?.synced ? this.view.system(name) : undefined;
    let pods = s?.pods;
    if (!pods) {
      const selector = labels.systemSelector(name);
      const [deps, found] = await Promise.all([
        callKubernetes('list Deployments', () => this.clients.apps.listNamespacedDeployment({ namespace: this.namespace, labelSelector: selector })),
        callKubernetes('list Pods', () => this.clients.core.listNamespacedPod({ namespace: this.namespace, labelSelector: selector })),
      ]);
      const d = deps.items[0];
      if (!d) throw new NotFound(name);
      pods = podsOf(d, found.items);
    }
    return readPodLog(this.clients.core, this.namespace, name, podForLogs(pods), req);
  }

  /** The live view's systems once synced; before that, four API calls however many systems. */
  async list(): Promise<SystemInfo[]> {
    if (this.view?.synced) return this.view.systems().map((s) => this.describeState(s)).sort((a, b) => a.created.localeCompare(b.created));
    return this.query(labels.MANAGED_SELECTOR);
  }

  private async query(labelSelector: string): Promise<SystemInfo[]> {
    const namespace = this.namespace;
    const source = endpointsSource(await this.endpointsApi());
    const [deps, svcs, pods, eps, ings] = await Promise.all([
      callKubernetes('list Deployments', () => this.clients.apps.listNamespacedDeployment({ namespace, labelSelector })),
      callKubernetes('list Services', () => this.clients.core.listNamespacedService({ namespace, labelSelector })),
      callKubernetes('list Pods', () => this.clients.core.listNamespacedPod({ namespace, labelSelector })),
      // Endpoints (or EndpointSlices) say whether the Service routes to a ready pod: what "ready" means (system-model.ts).
      callKubernetes(`list ${source.api === 'endpoints' ? 'Endpoints' : 'EndpointSlices'}`, () => source.list(this.clients.kc, namespace, labelSelector)),
      this.opts.ingress ? callKubernetes('list Ingresses', () => this.clients.networking.listNamespacedIngress({ namespace, labelSelector })) : Promise.resolve({ items: [] as V1Ingress[] }),
    ]);
    const svcByName = new Map(svcs.items.map((s) => [s.metadata?.name, s]));
    const ipsByService = source.readyIps(eps.items);
    const ingByName = new Map(ings.items.map((i) => [i.metadata?.name, i]));
    return deps.items
      .map((d) => {
        const name = d.metadata?.name ?? '';
        return this.toSystemInfo(d, svcByName.get(name), podsOf(d, pods.items), ipsByService.get(name), ownedChild(d.metadata?.uid, ingByName.get(name)));
      })
      .sort((a, b) => a.created.localeCompare(b.created));
  }

  /**
   * Endpoints or EndpointSlices (endpoints-source.ts): what the server's view found, else asked
   * once per launcher.
   */
  private endpointsApi(): Promise<EndpointsApi> {
    const known = this.view?.endpointsKind;
    if (known) return Promise.resolve(known);
    this.discovered ??= callKubernetes('discover the cluster\'s APIs', () => discoverEndpointsApi(this.clients.kc)).catch((e: unknown) => {
      this.discovered = undefined;
      throw e;
    });
    return this.discovered;
  }

  private discovered: Promise<EndpointsApi> | undefined;

  /** What front ends show for a system the live view holds (no API call). */
  describeState(s: SystemState): SystemInfo {
    return this.toSystemInfo(s.deployment, s.service, s.pods, s.readyIps, s.ingress, s);
  }

  /** `known`: the state the view already computed from these same objects, so it is not worked out again. */
  private toSystemInfo(d: V1Deployment | undefined, svc: V1Service | undefined, pods: V1Pod[], readyIps?: ReadonlySet<string>, ingress?: V1Ingress, known?: SystemState): SystemInfo {
    const meta = d?.metadata ?? svc?.metadata ?? ingress?.metadata ?? {};
    const a = meta.annotations ?? {};
    const container = d?.spec?.template.spec?.containers[0];
    const state: SystemState | undefined = known ?? (d ? systemState({ deployment: d, ...(svc ? { service: svc } : {}), pods, ...(readyIps ? { readyIps } : {}) }) : undefined);
    const ready = state?.stage === 'ready';
    const urlCheck = currentUrlCheck(a[labels.ANN_URL_CHECK], { service: svc, ingress });
    // Known from the Deployment's record even before the view holds the Ingress.
    const host = ingressHost(ingress) ?? a[labels.ANN_INGRESS_HOST];
    return {
      name: meta.name ?? '',
      namespace: meta.namespace ?? this.namespace,
      // Its Deployment's, so an audit Event can name the very object (a CLI has no view to ask).
      ...(d?.metadata?.uid ? { uid: d.metadata.uid } : {}),
      image: container?.image ?? '',
      ports: (svc?.spec?.ports ?? []).map((p) => ({ port: p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}) })),
      url: host ? ingressUrl(host) : svc ? resolveUrl(svc, state?.servingPods.length ? state.servingPods : pods, this.opts.publicHost) : null,
      ...(host ? { host } : {}),
      ready,
      stage: state?.stage ?? 'terminating',
      ...(ready ? {} : { reason: state?.describe ?? 'its Deployment is gone' }),
      ...(urlCheck ? { urlCheck } : {}),
      owner: a[labels.ANN_OWNER] ?? '',
      ownerId: a[labels.ANN_OWNER_ID] ?? '',
      origin: a[labels.ANN_ORIGIN] ?? '',
      created: a[labels.ANN_CREATED] ?? (meta.creationTimestamp ? new Date(meta.creationTimestamp).toISOString() : ''),
      expires: a[labels.ANN_EXPIRES] ?? null,
      ...(a[labels.ANN_COMMAND] ? { command: a[labels.ANN_COMMAND] } : {}),
      annotations: Object.fromEntries(Object.entries(a).filter(([k]) => k.startsWith(`${labels.PREFIX}/`))),
    };
  }
}
