/**
 * The live view of one namespace: informers over Tycho's own Deployments, Pods, Services,
 * Endpoints (or EndpointSlices, endpoints-source.ts) and, with an ingress domain, Ingresses, and
 * the systems they make up. Every wait reads this cache (KubeSpawner's shared reflector), so a
 * server holds four or five watches however many launches are in flight, and
 * `status`/`list` cost no API call once it has synced.
 *
 * Each informer lists in pages and keeps one cache of slimmed objects (supervised-informer.ts,
 * list-page.ts, slim.ts), so a server that follows thousands of systems holds a fraction of what
 * the API server sends.
 *
 * It emits one `transition` per real change of a system's stage, keyed by the Deployment's UID,
 * not one per watch event. Informer handlers only enqueue the system's name; a reconcile
 * then reads the cache, so a burst of watch events is one evaluation.
 */
import { EventEmitter } from 'node:events';
import {
  ApiException,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1Ingress,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import * as labels from '../labels.js';
import { toTychoError } from '../kube.js';
import { reuseConnections } from '../connections.js';
import { ClusterUnreachable, Forbidden } from '../errors.js';
import { statusOf, SupervisedInformer } from './supervised-informer.js';
import { listPage } from './list-page.js';
import { discoverEndpointsApi, endpointsSource, type EndpointsApi, type EndpointsSource } from './endpoints-source.js';
import { slimDeployment, slimPod, withoutManagedFields } from './slim.js';
import { ownedChild, podsOf, systemState, type SystemState } from './system-model.js';
import type { Stage } from '../spec.js';
import { backoffMs } from '../../concurrency.js';

export type LiveStage = Stage | 'gone';

export interface Transition {
  uid: string;
  name: string;
  from: LiveStage | undefined;
  to: LiveStage;
  /** The state after the change; for `gone`, the last state seen before it went. */
  state: SystemState;
}

export interface LiveViewOptions {
  /** Defaults to every system Tycho manages; the CLI narrows it to the one system it follows. */
  labelSelector?: string;
  /** Also follow Tycho's Ingresses (when an ingress domain is configured): their hosts and published addresses. */
  ingresses?: boolean;
  watchTimeoutSeconds?: number;
  backoffMaxMs?: number;
  onRestart?: (kind: string, why: string, delayMs: number) => void;
  /** Skips API discovery (see endpoints-source.ts): a launcher that already knows passes it on. */
  endpointsApi?: EndpointsApi;
}

type Waiter = () => boolean;

/**
 * - `transition`: a system's stage moved (the Slack reconciler renders these);
 * - `changed`: anything about a system that exists may have changed, its stage or not (a child
 *   deleted by hand, say, which moves no stage: an Ingress): the system repair watches these;
 * - `fatal`: the view cannot follow the namespace (a refused list or watch), in words;
 * - `recovered`: every refused informer has listed since (the RBAC was fixed): the view is whole.
 */
export class LiveView extends EventEmitter<{ transition: [Transition]; changed: [SystemState]; fatal: [string]; recovered: [] }> {
  private readonly deployments: SupervisedInformer<V1Deployment>;
  private readonly pods: SupervisedInformer<V1Pod>;
  private readonly services: SupervisedInformer<V1Service>;
  /** Endpoints or EndpointSlices, whichever the cluster serves: known once start() has asked it. */
  private endpoints: SupervisedInformer<KubernetesObject> | undefined;
  private endpointsApi: EndpointsApi | undefined;
  private source: EndpointsSource | undefined;
  /** Ready IPs per Service, rebuilt from the endpoints cache after it changed. */
  private readyIpsByService: Map<string, Set<string>> | undefined;
  /** Pods by their system, rebuilt only after the pods cache changed: a burst's reconciles share one. */
  private podsBySystem: Map<string, V1Pod[]> | undefined;
  private readonly ingresses: SupervisedInformer<V1Ingress> | undefined;
  private readonly all: SupervisedInformer<KubernetesObject>[];
  private readonly makeInformer: <T extends KubernetesObject>(kind: string, path: string, slim: (obj: T) => T) => SupervisedInformer<T>;
  private readonly kc: KubeConfig;
  /**
   * Per system name, the last state seen of each Deployment UID under it (for `gone`): a
   * reconcile reads its own name's entry, never every system's.
   */
  private readonly known = new Map<string, Map<string, SystemState>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly dirty = new Set<string>();
  /** Deployment UIDs seen deleted, so a wait can tell "gone" from "not in the cache yet". */
  private readonly goneUids = new Set<string>();
  private flushScheduled = false;
  private started = false;
  /** Set when Kubernetes refused a list or watch, until each refused one has listed again: /readyz says why. */
  problem: string | undefined;
  /** The informers whose list or watch was refused, until they list again. */
  private readonly refused = new Set<string>();

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
    private readonly opts: LiveViewOptions = {},
  ) {
    super();
    reuseConnections(kc);
    const labelSelector = opts.labelSelector ?? labels.MANAGED_SELECTOR;
    this.endpointsApi = opts.endpointsApi;
    const ns = namespace;
    const common = (this.makeInformer = <T extends KubernetesObject>(kind: string, path: string, slim: (obj: T) => T = withoutManagedFields) =>
      new SupervisedInformer<T>({
        kc,
        path,
        labelSelector,
        list: (page) => listPage<T>(kc, path, labelSelector, page),
        slim,
        onChange: (obj, verb) => {
          if (verb === 'delete' && kind === 'deployments') this.rememberGone(obj.metadata?.uid);
          this.invalidate(kind);
          this.enqueue(systemNameOf(obj));
        },
        onResync: () => {
          this.invalidate(kind);
          this.enqueueEverything();
          this.recovered(kind);
        },
        onFatal: (err, status) => this.fail(err, status, path, kind),
        ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
        ...(opts.backoffMaxMs ? { backoffMaxMs: opts.backoffMaxMs } : {}),
        ...(opts.onRestart ? { onRestart: (why: string, delayMs: number) => opts.onRestart!(kind, why, delayMs) } : {}),
      }));
    this.deployments = common<V1Deployment>('deployments', `/apis/apps/v1/namespaces/${ns}/deployments`, slimDeployment);
    this.pods = common<V1Pod>('pods', `/api/v1/namespaces/${ns}/pods`, slimPod);
    this.services = common<V1Service>('services', `/api/v1/namespaces/${ns}/services`);
    if (opts.ingresses) this.ingresses = common<V1Ingress>('ingresses', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`);
    // Endpoints or EndpointSlices are made in start(), once the cluster has said which it serves.
    this.all = [this.deployments, this.pods, this.services, ...(this.ingresses ? [this.ingresses] : [])] as SupervisedInformer<KubernetesObject>[];
    this.kc = kc;
  }

  /** Which API the view reads a Service's addresses from; undefined until start() has asked. */
  /** Whether this view follows Tycho's Ingresses (so a system's lack of one means something). */
  get followsIngresses(): boolean {
    return !!this.ingresses;
  }

  get endpointsKind(): EndpointsApi | undefined {
    return this.endpointsApi;
  }

  /** Starts the informers and resolves once all have listed; rejects if one is refused. */
  async start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      for (const i of this.all) i.start();
      this.startEndpoints();
    }
    await new Promise<void>((resolve, reject) => {
      const onFatal = (why: string) => reject(new Error(why));
      if (this.problem) return reject(new Error(this.problem));
      this.once('fatal', onFatal);
      void Promise.all([...this.all.map((i) => i.whenSynced()), this.endpointsStarted.then((i) => i.whenSynced())]).then(() => {
        this.off('fatal', onFatal);
        resolve();
      });
    });
  }

  private resolveEndpointsStarted!: (i: SupervisedInformer<KubernetesObject>) => void;
  private readonly endpointsStarted = new Promise<SupervisedInformer<KubernetesObject>>((r) => (this.resolveEndpointsStarted = r));

  /**
   * Asks the cluster whether it serves EndpointSlices (unless told), then starts the endpoints
   * informer. A failed discovery is retried with the informers' backoff: it says nothing about
   * the cluster's version. A refusal (401/403) is fatal, as for a watch.
   */
  private startEndpoints(attempt = 0): void {
    if (!this.started) return;
    if (this.endpoints) {
      this.endpoints.start();
      return;
    }
    const known = this.endpointsApi ? Promise.resolve(this.endpointsApi) : discoverEndpointsApi(this.kc);
    known.then(
      (api) => {
        if (!this.started || this.endpoints) return;
        this.endpointsApi = api;
        const source = (this.source = endpointsSource(api));
        const ns = this.namespace;
        this.endpoints = this.makeInformer('endpoints', source.path(ns), source.slim);
        this.all.push(this.endpoints);
        this.endpoints.start();
        this.resolveEndpointsStarted(this.endpoints);
      },
      (e: unknown) => {
        const status = statusOf(e) ?? 0;
        if (status === 401 || status === 403) {
          this.fail(e, status, '/apis/discovery.k8s.io/v1', 'endpoints');
          setTimeout(() => this.startEndpoints(attempt + 1), this.backoffMaxMs).unref();
          return;
        }
        const delay = backoffMs(attempt, 250, this.backoffMaxMs);
        this.opts.onRestart?.('endpoints', `API discovery failed: ${e instanceof Error ? e.message : String(e)}`, delay);
        setTimeout(() => this.startEndpoints(attempt + 1), delay / 2 + Math.random() * (delay / 2)).unref();
      },
    );
  }

  private get backoffMaxMs(): number {
    return this.opts.backoffMaxMs ?? 30_000;
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.all.map((i) => i.stop()));
    for (const set of this.waiters.values()) for (const w of set) w();
  }

  get synced(): boolean {
    return !!this.endpoints && this.all.every((i) => i.synced);
  }

  /** The current system of that name, read from the cache. */
  system(name: string): SystemState | undefined {
    const d = this.deployments.get(name, this.namespace);
    return d ? this.stateOf(d) : undefined;
  }

  systems(): SystemState[] {
    return this.deployments.list().map((d) => this.stateOf(d));
  }

  /**
   * Resolves with the first non-undefined value `test` returns for the system's state (undefined
   * when there is no such system), evaluated now and after every change to it. Rejects if
   * `test` throws or the signal aborts. Opens no watch: it reads the shared cache.
   */
  waitFor<R>(name: string, test: (state: SystemState | undefined) => R | undefined, signal: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let set = this.waiters.get(name);
      if (!set) this.waiters.set(name, (set = new Set()));
      const done = () => {
        set!.delete(check);
        if (set!.size === 0) this.waiters.delete(name);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const check: Waiter = () => {
        if (signal.aborted) return true;
        if (this.problem || !this.started) {
          done();
          reject(
            this.problem
              ? new Forbidden(this.problem)
              : new ClusterUnreachable(`Tycho is shutting down; "${name}" goes on without it. Follow it with \`status ${name}\` (or in its Slack thread).`),
          );
          return true;
        }
        try {
          const r = test(this.system(name));
          if (r === undefined) return false;
          done();
          resolve(r);
        } catch (e) {
          done();
          reject(e);
        }
        return true;
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      set.add(check);
      // A change to this system is queued: the reconcile evaluates the wait right after it
      // announces the transition, so a wait never resolves ahead of the events it implies.
      if (!this.dirty.has(name)) check();
    });
  }

  /** True once the Deployment with this UID has been seen deleted (recent ones only). */
  isGone(uid: string): boolean {
    return this.goneUids.has(uid);
  }

  private rememberGone(uid: string | undefined): void {
    if (!uid) return;
    this.goneUids.add(uid);
    // Bounded: waits last minutes, so the oldest entries are never asked about again.
    if (this.goneUids.size > 10_000) this.goneUids.delete(this.goneUids.values().next().value!);
  }

  private stateOf(d: V1Deployment): SystemState {
    const name = d.metadata?.name ?? '';
    const ns = this.namespace;
    const service = ownedChild(d.metadata?.uid, this.services.get(name, ns));
    const readyIps = service ? this.readyIpsOf(name) : undefined;
    const ingress = ownedChild(d.metadata?.uid, this.ingresses?.get(name, ns));
    return systemState({ deployment: d, ...(service ? { service } : {}), pods: podsOf(d, this.podsNamed(name)), ...(readyIps ? { readyIps } : {}), ...(ingress ? { ingress } : {}) });
  }

  /** The indexes built from a cache are rebuilt on their next use after it changes. */
  private invalidate(kind: string): void {
    if (kind === 'endpoints') this.readyIpsByService = undefined;
    if (kind === 'pods') this.podsBySystem = undefined;
  }

  /** The pods labelled as this system's (podsOf then drops any of an earlier system of the name). */
  private podsNamed(name: string): V1Pod[] {
    if (!this.podsBySystem) {
      this.podsBySystem = new Map();
      for (const p of this.pods.list()) {
        const system = p.metadata?.labels?.[labels.LABEL_SYSTEM];
        if (system === undefined) continue;
        const list = this.podsBySystem.get(system);
        if (list) list.push(p);
        else this.podsBySystem.set(system, [p]);
      }
    }
    return this.podsBySystem.get(name) ?? [];
  }

  /** From an index rebuilt only after the endpoints cache changed: a Service may have several slices. */
  private readyIpsOf(service: string): ReadonlySet<string> | undefined {
    if (!this.endpoints || !this.source) return undefined;
    this.readyIpsByService ??= this.source.readyIps(this.endpoints.list());
    return this.readyIpsByService.get(service);
  }

  private enqueue(name: string | undefined): void {
    if (!name) return;
    this.dirty.add(name);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private enqueueEverything(): void {
    for (const name of this.known.keys()) this.enqueue(name);
    for (const i of this.all) for (const o of i.list()) this.enqueue(systemNameOf(o));
  }

  private flush(): void {
    this.flushScheduled = false;
    const names = [...this.dirty];
    this.dirty.clear();
    for (const name of names) {
      try {
        this.reconcile(name);
      } catch {
        // Never let one system's surprise stop the others; the next change retries it.
      }
    }
  }

  private reconcile(name: string): void {
    const current = this.system(name);
    const byUid = this.known.get(name) ?? new Map<string, SystemState>();
    // Any other UID under this name is gone: deleted, or deleted and re-created.
    for (const [uid, last] of byUid) {
      if (uid === current?.uid) continue;
      byUid.delete(uid);
      this.rememberGone(uid);
      this.announce('transition', { uid, name, from: last.stage, to: 'gone', state: last });
    }
    if (!current) this.known.delete(name);
    else {
      const last = byUid.get(current.uid);
      byUid.set(current.uid, current);
      this.known.set(name, byUid);
      if (last?.stage !== current.stage) this.announce('transition', { uid: current.uid, name, from: last?.stage, to: current.stage, state: current });
      this.announce('changed', current);
    }
    for (const w of [...(this.waiters.get(name) ?? [])]) w();
  }

  /** A subscriber that throws must not stop the view, nor the other subscribers and waits. */
  private announce<E extends 'transition' | 'changed'>(event: E, what: E extends 'transition' ? Transition : SystemState): void {
    for (const listener of this.listeners(event) as ((w: typeof what) => void)[]) {
      try {
        listener(what);
      } catch {
        // its own problem; the view goes on
      }
    }
  }

  /** A refused informer has listed again: once none is refused, the view is whole again. */
  private recovered(kind: string): void {
    if (!this.refused.delete(kind) || this.refused.size > 0 || !this.problem) return;
    this.problem = undefined;
    if (this.synced) this.emit('recovered');
  }

  private fail(err: unknown, status: number, path: string, kind: string): void {
    this.refused.add(kind);
    // A refused list carries the API server's own words; a refused watch loses them in
    // client-node, so say what the server would have said.
    const refusal =
      err instanceof ApiException
        ? err
        : new ApiException(status, 'watch refused', { message: `${kind} is forbidden: cannot watch resource "${kind}" in API group "${/^\/apis\/([^/]+)\//.exec(path)?.[1] ?? ''}" in the namespace "${this.namespace}"` }, {});
    this.problem = toTychoError(refusal, 'follow its systems').message;
    this.emit('fatal', this.problem);
    for (const set of this.waiters.values()) for (const w of [...set]) w();
  }
}

/** Every object Tycho makes carries the system label; Endpoints and EndpointSlices inherit it from the Service. */
function systemNameOf(obj: KubernetesObject): string | undefined {
  return obj.metadata?.labels?.[labels.LABEL_SYSTEM] ?? obj.metadata?.name;
}
