/**
 * How the CLI follows the one system it launches or tears down: with one watch, as `kubectl wait`
 * does, rather than a live view of it (API discovery, then a list and a watch each of its
 * Deployments, Pods, Services and Endpoints: nine requests before anything happens). A one-shot
 * process has no cache to keep warm, so it asks only what it cannot know otherwise.
 *
 * A launch (LaunchWatch): its Deployment and Service are what its own creates answered, so only
 * its pods are watched. They say how far it got, why it failed (the pod's own words), and where
 * it runs (a NodePort URL names the node). The Service routes to the ready pods its selector
 * picks, and it picks exactly the pods watched (the system's labels), so the addresses it routes
 * to are those pods' addresses: what its Endpoints list once the endpoints controller has caught
 * up. An earlier system's pod still serving under the name holds the first Ready back, as in the
 * view (system-model.ts). Then the URL check opens the URL, which waits out the controllers:
 * Ready still means the URL answered. Its record on the Deployment is the launch's last request.
 *
 * A launch whose pods the namespace's quota refuses has no pod to watch: while none of it is
 * seen, the Deployment is read every few seconds for the ReplicaFailure condition that says so
 * (pod-verdict.ts). A launch whose pod appears within that time asks nothing more.
 *
 * A teardown: one JSON patch that both proves the Deployment is Tycho's and records who asked,
 * the delete, and one watch of that Deployment (by name) until it is gone.
 *
 * A watch that ends (the API server's timeout, a lost connection) is opened again from the last
 * resourceVersion seen: more requests only when something went wrong.
 */
import { ApiException, PatchStrategy, setHeaderOptions, Watch, type AppsV1Api, type KubeConfig, type V1Deployment, type V1Pod, type V1Service } from '@kubernetes/client-node';
import * as labels from './labels.js';
import { apiCode, isNotFound, toTychoError } from './kube.js';
import { Timeout, TornDownWhileLaunching, type TychoError } from './errors.js';
import { podsOf, systemState, type SystemState } from './view/system-model.js';
import { backoffMs } from '../concurrency.js';

/** What a launch or a teardown reads of the system it follows: the live view, or a LaunchWatch. */
export interface FollowedSystem {
  /** Whether it follows Ingresses (so a system's lack of one means something). */
  readonly followsIngresses: boolean;
  system(name: string): SystemState | undefined;
  /** True once the Deployment with this uid is known to be gone. */
  isGone(uid: string): boolean;
  /** The first value `test` gives for the system's state, evaluated now and after every change. */
  waitFor<R>(name: string, test: (state: SystemState | undefined) => R | undefined, signal: AbortSignal): Promise<R>;
}

type WatchEvent = (type: string, obj: WatchedObject) => void;
interface WatchedObject {
  metadata?: { name?: string; uid?: string; resourceVersion?: string; deletionTimestamp?: Date | string };
  /** An ERROR event's Status: 410 when the resourceVersion asked for is too old. */
  code?: number;
}

interface OpenWatch {
  stop(): void;
  /** Settles when the watch ends: with the error it ended with, or null when the server closed it. */
  ended: Promise<unknown>;
}

/** Whom a refused watch names, so the refusal reads like any other (kube.ts toTychoError). */
interface Watched {
  resource: string;
  group: string;
  namespace: string;
}

/**
 * Opens one watch; resolves once the API server has accepted it. Rejects with client-node's
 * error (its `statusCode` says a refusal) when it did not.
 */
async function openWatch(kc: KubeConfig, path: string, params: Record<string, string | number | boolean | undefined>, onEvent: WatchEvent): Promise<OpenWatch> {
  let end!: (err: unknown) => void;
  const ended = new Promise<unknown>((resolve) => (end = resolve));
  let opening = true;
  let refused: unknown;
  const controller = await new Watch(kc).watch(
    path,
    params,
    (type: string, obj: WatchedObject) => onEvent(type, obj),
    (err: unknown) => {
      if (opening && err) refused = err;
      end(err ?? null);
    },
  );
  opening = false;
  if (refused) throw refused;
  return { stop: () => controller.abort(), ended };
}

const statusOf = (e: unknown): number | undefined => {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
};

/**
 * A failed watch in words. client-node drops the body of a refused watch, so the refusal says
 * what the API server would have (as the live view does).
 */
function watchFailure(e: unknown, w: Watched, doing: string): TychoError {
  const status = statusOf(e);
  if (status === undefined) return toTychoError(e, doing);
  const message = `${w.resource} is forbidden: cannot watch resource "${w.resource}" in API group "${w.group}" in the namespace "${w.namespace}"`;
  return toTychoError(new ApiException(status, 'watch refused', { message }, {}), doing);
}

const isRefusal = (e: unknown): boolean => statusOf(e) === 401 || statusOf(e) === 403;
/** 410: the resourceVersion to resume from is older than the server keeps history for. */
const isExpired = (e: unknown): boolean => statusOf(e) === 410;

/** Waits `ms` (less if the signal aborts first). */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Between two attempts at a watch that ended: 250 ms, doubling, at most 10 s, with jitter. */
const jitteredBackoffMs = (attempt: number) => {
  const d = backoffMs(attempt, 250, 10_000);
  return d / 2 + Math.random() * (d / 2);
};

/**
 * How long a launch waits for a pod of it before it reads its Deployment for a quota refusal
 * (and between reads). A pod normally appears well within it, so a launch asks nothing more.
 */
const REFUSAL_CHECK_MS = 3000;

/** A pod the Service's Endpoints list as ready: Ready, with an address, not being deleted. */
function routable(p: V1Pod): boolean {
  return !p.metadata?.deletionTimestamp && !!p.status?.podIP && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Follows one launch through one watch of its pods (see the top of this file). Started before
 * the creates, so a watch Kubernetes refuses creates nothing; told what the creates made
 * (`hold`), since it watches nothing else.
 */
export class LaunchWatch implements FollowedSystem {
  readonly followsIngresses = false;
  /** The pods with the system's labels, by name: this launch's, and any of an earlier system of the name. */
  private readonly pods = new Map<string, V1Pod>();
  private made: { deployment: V1Deployment; service: V1Service } | undefined;
  private gone = false;
  private checking = false;
  private problem: TychoError | undefined;
  private readonly waiters = new Set<() => void>();
  private watch: OpenWatch | undefined;
  private resourceVersion: string | undefined;
  private attempts = 0;
  private readonly stopping = new AbortController();
  private readonly watched: Watched;
  private refusalCheck: NodeJS.Timeout | undefined;

  constructor(
    private readonly kc: KubeConfig,
    private readonly apps: AppsV1Api,
    readonly namespace: string,
    readonly name: string,
  ) {
    this.watched = { resource: 'pods', group: '', namespace };
  }

  /** Opens the watch; rejects, in one sentence, when Kubernetes refuses it or cannot be reached. */
  async start(): Promise<void> {
    try {
      await this.open();
    } catch (e) {
      throw watchFailure(e, this.watched, 'follow the system');
    }
  }

  /** Ends the watch, and resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.refusalCheck);
    this.watch?.stop();
    await this.watch?.ended;
  }

  /**
   * What the launch's creates answered. Held only once both are made, and a --secret-env launch
   * has been started by then (secret-env.ts), so its Deployment is no longer the paused one its
   * create answered with.
   */
  hold(deployment: V1Deployment, service: V1Service): void {
    const started = deployment.spec?.paused ? { ...deployment, spec: { ...deployment.spec, paused: false } } : deployment;
    this.made = { deployment: started, service };
    this.scheduleRefusalCheck();
    this.notify();
  }

  /**
   * While no pod of the launch is seen, reads its Deployment every REFUSAL_CHECK_MS: a quota or
   * limit refusal leaves no pod to tell of it, only the Deployment's ReplicaFailure condition.
   */
  private scheduleRefusalCheck(): void {
    clearTimeout(this.refusalCheck);
    this.refusalCheck = setTimeout(() => void this.checkRefusal(), REFUSAL_CHECK_MS);
  }

  private async checkRefusal(): Promise<void> {
    const made = this.made;
    if (!made || this.stopping.signal.aborted || this.gone || podsOf(made.deployment, [...this.pods.values()]).length > 0) return;
    const d = await this.apps.readNamespacedDeployment({ namespace: this.namespace, name: this.name }).catch(() => undefined);
    if (this.stopping.signal.aborted || !this.made) return;
    if (d && d.metadata?.uid === this.made.deployment.metadata?.uid) {
      // Only the status is taken: the spec stays the started one `hold` was given.
      this.made = { ...this.made, deployment: { ...this.made.deployment, ...(d.status ? { status: d.status } : {}) } };
      this.notify();
    }
    this.scheduleRefusalCheck();
  }

  system(name: string): SystemState | undefined {
    if (name !== this.name || !this.made) return undefined;
    const { deployment, service } = this.made;
    const all = [...this.pods.values()];
    const readyIps = new Set(all.filter(routable).map((p) => p.status!.podIP!));
    return systemState({ deployment, service, pods: podsOf(deployment, all), readyIps });
  }

  isGone(uid: string): boolean {
    return this.gone && this.made?.deployment.metadata?.uid === uid;
  }

  waitFor<R>(name: string, test: (state: SystemState | undefined) => R | undefined, signal: AbortSignal): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const finish = () => {
        this.waiters.delete(check);
        signal.removeEventListener('abort', onAbort);
      };
      const check = () => {
        if (this.problem) {
          finish();
          reject(this.problem);
          return;
        }
        try {
          const r = test(this.system(name));
          if (r === undefined) return;
          finish();
          resolve(r);
        } catch (e) {
          finish();
          reject(e);
        }
      };
      const onAbort = () => {
        finish();
        void this.whyNotReady(signal.reason).then(reject);
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(check);
      check();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private async open(): Promise<void> {
    // From where the last watch ended; from scratch, its first events are every pod there is now.
    if (this.resourceVersion === undefined) this.pods.clear();
    const params = { labelSelector: labels.systemSelector(this.name), allowWatchBookmarks: true, ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}) };
    const w = await openWatch(this.kc, `/api/v1/namespaces/${this.namespace}/pods`, params, (type, obj) => this.onEvent(type, obj));
    if (this.stopping.signal.aborted) return w.stop();
    this.watch = w;
    this.attempts = 0;
    void w.ended.then((err) => this.reopen(err));
  }

  /** The watch ended: open it again, unless Kubernetes refused it (then every wait hears why). */
  private async reopen(err: unknown): Promise<void> {
    while (!this.stopping.signal.aborted) {
      if (isRefusal(err)) {
        this.problem = watchFailure(err, this.watched, 'follow the system');
        this.notify();
        return;
      }
      // Too old to resume from: start from scratch.
      if (isExpired(err)) this.resourceVersion = undefined;
      else await pause(jitteredBackoffMs(this.attempts++), this.stopping.signal);
      if (this.stopping.signal.aborted) return;
      try {
        await this.open();
        return;
      } catch (e) {
        err = e;
      }
    }
  }

  private onEvent(type: string, obj: WatchedObject): void {
    if (type === 'ERROR') {
      // The resourceVersion asked for is gone from the server's history: the stream ends, and
      // the next one starts from scratch.
      if (obj.code === 410) this.resourceVersion = undefined;
      return;
    }
    this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
    if (type === 'BOOKMARK') return;
    const pod = obj as V1Pod;
    const key = pod.metadata?.name ?? '';
    if (type === 'DELETED') this.pods.delete(key);
    else this.pods.set(key, pod);
    // A launch's pods go only when it is being torn down (or a node goes): one read tells which.
    if ((type === 'DELETED' || pod.metadata?.deletionTimestamp) && this.made && podsOf(this.made.deployment, [pod]).length) this.checkDeployment();
    this.notify();
  }

  /** Reads the Deployment once: gone, or replaced, or being deleted means torn down. */
  private checkDeployment(): void {
    if (this.checking || this.gone || !this.made) return;
    this.checking = true;
    const uid = this.made.deployment.metadata?.uid;
    void this.apps
      .readNamespacedDeployment({ namespace: this.namespace, name: this.name })
      .then(
        (d) => {
          if (d.metadata?.uid !== uid) this.gone = true;
          else if (d.metadata?.deletionTimestamp && this.made) this.made = { ...this.made, deployment: d };
        },
        (e: unknown) => {
          if (isNotFound(e)) this.gone = true;
        },
      )
      .finally(() => {
        this.checking = false;
        this.notify();
      });
  }

  /**
   * Why a wait ended unanswered. A launch torn down before any pod of it was made leaves the pods
   * watched nothing to tell; at its timeout one read says whether that is what happened.
   */
  private async whyNotReady(reason: unknown): Promise<unknown> {
    if (!(reason instanceof Timeout) || !this.made) return reason;
    const uid = this.made.deployment.metadata?.uid;
    const tornDown = await this.apps.readNamespacedDeployment({ namespace: this.namespace, name: this.name }).then(
      (d) => d.metadata?.uid !== uid || !!d.metadata?.deletionTimestamp,
      (e: unknown) => isNotFound(e),
    );
    return tornDown ? new TornDownWhileLaunching(this.name) : reason;
  }
}

/** A JSON pointer to a label or annotation. */
const pointer = (field: 'labels' | 'annotations', key: string) => `/metadata/${field}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;

/**
 * The first request of a teardown, which is also its read: one JSON patch that tests that the
 * name's Deployment is Tycho's and records who asked (`deleted-by`: the DELETED event carries it
 * to every watcher, and the Slack thread's closing reply names them). The marked Deployment, or
 * undefined when the name has no Deployment of Tycho's (none, or someone else's: the failed test
 * is a 422, and nothing was written).
 */
export async function markForTeardown(apps: AppsV1Api, namespace: string, name: string, by: string): Promise<V1Deployment | undefined> {
  const ops = [
    { op: 'test', path: pointer('labels', labels.LABEL_MANAGED_BY), value: labels.MANAGED_BY_VALUE },
    { op: 'add', path: pointer('annotations', labels.ANN_DELETED_BY), value: by },
  ];
  try {
    return await apps.patchNamespacedDeployment({ namespace, name, body: ops }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  } catch (e) {
    if (isNotFound(e) || apiCode(e) === 422) return undefined;
    throw toTychoError(e, 'annotate the Deployment');
  }
}

/**
 * Waits, through one watch of the Deployment by name from `resourceVersion` on, until the one
 * with this uid is gone (deleted, or replaced by a new one of the name), at most `seconds`.
 * False when it is still there then (it is marked for deletion and will go), or when Kubernetes
 * refuses the watch: the teardown was accepted either way.
 */
export async function waitUntilDeleted(kc: KubeConfig, apps: AppsV1Api, o: { namespace: string; name: string; uid: string; resourceVersion: string | undefined; seconds: number }): Promise<boolean> {
  const signal = AbortSignal.timeout(o.seconds * 1000);
  let from = o.resourceVersion;
  let gone = false;
  for (let attempt = 0; !signal.aborted; attempt++) {
    if (from === undefined) {
      // No point to go on from (its history expired): one read tells whether it is gone already.
      const d = await apps.readNamespacedDeployment({ namespace: o.namespace, name: o.name }).catch((e: unknown) => (isNotFound(e) ? null : undefined));
      if (d === null || (d && d.metadata?.uid !== o.uid)) return true;
      from = d?.metadata?.resourceVersion;
      if (from === undefined) {
        await pause(jitteredBackoffMs(attempt), signal);
        continue;
      }
    }
    let w: OpenWatch | undefined;
    const onEvent: WatchEvent = (type, obj) => {
      if (type === 'ERROR') {
        if (obj.code === 410) from = undefined;
        return;
      }
      from = obj.metadata?.resourceVersion ?? from;
      if (type === 'BOOKMARK') return;
      if (type === 'DELETED' || obj.metadata?.uid !== o.uid) {
        gone = true;
        w?.stop();
      }
    };
    try {
      w = await openWatch(kc, `/apis/apps/v1/namespaces/${o.namespace}/deployments`, { fieldSelector: `metadata.name=${o.name}`, resourceVersion: from, allowWatchBookmarks: true }, onEvent);
    } catch (e) {
      if (isRefusal(e)) return false;
      if (isExpired(e)) from = undefined;
      else await pause(jitteredBackoffMs(attempt), signal);
      continue;
    }
    const stop = () => w!.stop();
    signal.addEventListener('abort', stop, { once: true });
    if (gone) w.stop();
    const err = await w.ended;
    signal.removeEventListener('abort', stop);
    if (gone) return true;
    if (isRefusal(err)) return false;
    if (err && !signal.aborted) await pause(jitteredBackoffMs(attempt), signal);
  }
  return gone;
}
