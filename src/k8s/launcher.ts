/**
 * The one launcher. Slack, REST and the CLI all call this. Kubernetes holds all state:
 * labels and annotations on the Deployment are the only record of a system.
 */
import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1Pod, type V1Service } from '@kubernetes/client-node';
import * as L from './labels.js';
import { buildDeployment, buildService } from './manifests.js';
import { bestVerdict, STAGE_ORDER, type PodVerdict } from './pod-verdict.js';
import { resolveUrl } from './url.js';
import { ignoreNotFound, isConflict, isNotFound, kube, makeClients, toTychoError, type KubeClients } from './kube.js';
import { watchUntil } from './watch.js';
import { checkLaunchSpec } from './validate.js';
import {
  ContainerConfigError,
  CrashLooping,
  ImagePullFailed,
  InvalidSpec,
  NameInUse,
  NotFound,
  Timeout,
  TornDownWhileLaunching,
  TychoError,
  Unschedulable,
} from './errors.js';
import type { LaunchSpec, ServiceType, Stage, SystemInfo } from './spec.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Backend, UpOptions } from './backend.js';

export type OnFailure = 'keep' | 'delete';

export interface LauncherOptions {
  namespace: string;
  serviceType?: ServiceType;
  publicHost?: string;
  readyTimeoutSeconds?: number;
  onFailure?: OnFailure;
  /** How long `down` waits for pods to finish terminating before it reports success anyway. */
  deleteWaitSeconds?: number;
}

export class Launcher implements Backend {
  readonly namespace: string;
  private readonly c: KubeClients;
  private readonly serviceType: ServiceType;
  private readonly readyTimeout: number;
  private readonly onFailure: OnFailure;

  constructor(
    kc: KubeConfig,
    private readonly opts: LauncherOptions,
  ) {
    this.c = makeClients(kc);
    this.namespace = opts.namespace;
    this.serviceType = opts.serviceType ?? 'NodePort';
    this.readyTimeout = opts.readyTimeoutSeconds ?? 300;
    this.onFailure = opts.onFailure ?? 'keep';
  }

  /** Used by /readyz: any cheap authorised call in our namespace proves the cluster is reachable. */
  async ping(): Promise<void> {
    await kube('reach the cluster', () => this.c.core.listNamespacedService({ namespace: this.namespace, limit: 1, labelSelector: L.MANAGED_SELECTOR }));
  }

  async up(spec: LaunchSpec, o: UpOptions = {}): Promise<SystemInfo> {
    const problem = checkLaunchSpec(spec);
    if (problem) throw new InvalidSpec(problem);
    const namespace = this.namespace;
    const deployment = buildDeployment(spec, namespace);
    let created: V1Deployment;
    try {
      created = await this.c.apps.createNamespacedDeployment({ namespace, body: deployment });
    } catch (e) {
      if (isConflict(e)) throw await this.nameInUse(spec.name);
      throw toTychoError(e, 'create the Deployment');
    }
    o.onProgress?.('created', { describe: 'Deployment and Service created' });

    let service: V1Service;
    try {
      service = await this.c.core.createNamespacedService({
        namespace,
        body: buildService(spec, namespace, { name: spec.name, uid: created.metadata!.uid! }, spec.serviceType ?? this.serviceType),
      });
    } catch (e) {
      // Never leave a Deployment without its Service: undo, then report the real cause.
      await this.deleteDeployment(spec.name, 'Background').catch(() => undefined);
      if (isConflict(e)) throw new NameInUse(spec.name);
      throw toTychoError(e, 'create the Service');
    }

    if (o.wait === false) return this.describe(created, service, []);

    let pods: V1Pod[];
    try {
      pods = await this.waitForReady(spec, o);
    } catch (e) {
      if (this.onFailure === 'delete') await this.down(spec.name).catch(() => undefined);
      if (this.onFailure === 'keep' && e instanceof TychoError && !(e instanceof TornDownWhileLaunching)) e.leftInPlace = spec.name;
      throw e;
    }
    // The LoadBalancer address and nodePort live on the Service; re-read it once.
    const fresh = await kube('read the Service', () => this.c.core.readNamespacedService({ namespace, name: spec.name }));
    const dep = await kube('read the Deployment', () => this.c.apps.readNamespacedDeployment({ namespace, name: spec.name }));
    return this.describe(dep, fresh, pods);
  }

  private waitForReady(spec: LaunchSpec, o: UpOptions): Promise<V1Pod[]> {
    const seconds = o.timeoutSeconds ?? this.readyTimeout;
    const ac = new AbortController();
    let last: PodVerdict = { stage: 'created', describe: 'waiting for a pod' };
    const timer = setTimeout(() => ac.abort(new Timeout(spec.name, seconds, last.describe)), seconds * 1000);
    let reported: Stage = 'created';
    const selector = L.systemSelector(spec.name);
    const ready = watchUntil<V1Pod, V1Pod[]>({
      kc: this.c.kc,
      path: `/api/v1/namespaces/${this.namespace}/pods`,
      labelSelector: selector,
      list: () => this.c.core.listNamespacedPod({ namespace: this.namespace, labelSelector: selector }),
      signal: ac.signal,
      onChange: (pods) => {
        const v = bestVerdict(pods);
        last = v;
        if (v.failure) {
          const { kind, reason, detail } = v.failure;
          if (kind === 'image') throw new ImagePullFailed(spec.name, spec.image, reason, detail);
          if (kind === 'crash') throw new CrashLooping(spec.name, reason, detail);
          if (kind === 'config') throw new ContainerConfigError(spec.name, reason, detail);
          throw new Unschedulable(spec.name, detail);
        }
        // Progress only moves forward: a pod being replaced must not read as "created" again.
        if (STAGE_ORDER.indexOf(v.stage) > STAGE_ORDER.indexOf(reported)) {
          reported = v.stage;
          o.onProgress?.(v.stage, { describe: v.describe });
        }
        return v.stage === 'ready' ? pods : undefined;
      },
    });
    // A teardown from another front end while we wait ends the wait at once, not at the timeout.
    const tornDown = watchUntil<V1Deployment, never>({
      kc: this.c.kc,
      path: `/apis/apps/v1/namespaces/${this.namespace}/deployments`,
      fieldSelector: `metadata.name=${spec.name}`,
      list: () => this.c.apps.listNamespacedDeployment({ namespace: this.namespace, fieldSelector: `metadata.name=${spec.name}` }),
      signal: ac.signal,
      onChange: (deps) => {
        if (deps.length === 0 || deps[0]!.metadata?.deletionTimestamp) throw new TornDownWhileLaunching(spec.name);
        return undefined;
      },
    });
    return Promise.race([ready, tornDown]).finally(() => {
      clearTimeout(timer);
      // Ends the other watch; its rejection is expected and must not go unhandled.
      ac.abort(new Error('done'));
      ready.catch(() => undefined);
      tornDown.catch(() => undefined);
    });
  }

  private async nameInUse(name: string): Promise<NameInUse> {
    const existing = await this.c.apps.readNamespacedDeployment({ namespace: this.namespace, name }).catch(() => undefined);
    const a = existing?.metadata?.annotations ?? {};
    if (existing?.metadata?.labels?.[L.LABEL_MANAGED_BY] !== L.MANAGED_BY_VALUE) return new NameInUse(name);
    return new NameInUse(name, a[L.ANN_OWNER] ?? 'someone', a[L.ANN_CREATED], a[L.ANN_OWNER_ID]);
  }

  private async deleteDeployment(name: string, propagationPolicy: 'Foreground' | 'Background'): Promise<void> {
    await this.c.apps.deleteNamespacedDeployment({ namespace: this.namespace, name, propagationPolicy });
  }

  /**
   * Removes the system. Missing objects are fine (a half-removed system is finished off),
   * but a name with nothing of Tycho's behind it is NotFound. Returns what was removed.
   */
  async down(name: string): Promise<SystemInfo> {
    const namespace = this.namespace;
    const [info] = await this.query(L.systemSelector(name));
    const svc = await kube('read the Service', () => ignoreNotFound(this.c.core.readNamespacedService({ namespace, name })));
    const svcIsOurs = svc?.metadata?.labels?.[L.LABEL_MANAGED_BY] === L.MANAGED_BY_VALUE;
    if (!info && !svcIsOurs) throw new NotFound(name);

    if (svcIsOurs) {
      await kube('delete the Service', () => ignoreNotFound(this.c.core.deleteNamespacedService({ namespace, name })));
    }
    if (info) {
      await kube('delete the Deployment', () => ignoreNotFound(this.deleteDeployment(name, 'Foreground')));
      await this.waitUntilGone(name);
    }
    return info ?? this.describe(undefined, svc, []);
  }

  /** Foreground deletion keeps the Deployment until its ReplicaSets and Pods are gone. */
  private async waitUntilGone(name: string): Promise<void> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('still terminating')), (this.opts.deleteWaitSeconds ?? 60) * 1000);
    const selector = L.systemSelector(name);
    await watchUntil<V1Pod, true>({
      kc: this.c.kc,
      path: `/api/v1/namespaces/${this.namespace}/pods`,
      labelSelector: selector,
      list: () => this.c.core.listNamespacedPod({ namespace: this.namespace, labelSelector: selector }),
      signal: ac.signal,
      onChange: (pods) => (pods.length === 0 ? true : undefined),
    })
      .then(() =>
        watchUntil<V1Deployment, true>({
          kc: this.c.kc,
          path: `/apis/apps/v1/namespaces/${this.namespace}/deployments`,
          fieldSelector: `metadata.name=${name}`,
          list: () => this.c.apps.listNamespacedDeployment({ namespace: this.namespace, fieldSelector: `metadata.name=${name}` }),
          signal: ac.signal,
          onChange: (deps) => (deps.length === 0 ? true : undefined),
        }),
      )
      // Still terminating after the wait: the objects are marked for deletion and will go.
      .catch(() => undefined)
      .finally(() => clearTimeout(timer));
  }

  /**
   * Adds Tycho annotations to a running system's Deployment (e.g. where its Slack "Ready"
   * message lives, known only after launch). A merge patch: other annotations are kept.
   */
  async annotate(name: string, annotations: Record<string, string>): Promise<void> {
    try {
      await this.c.apps.patchNamespacedDeployment(
        { namespace: this.namespace, name, body: { metadata: { annotations } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (e) {
      if (isNotFound(e)) throw new NotFound(name);
      throw toTychoError(e, 'annotate the Deployment');
    }
  }

  async status(name: string): Promise<SystemInfo> {
    const [info] = await this.query(L.systemSelector(name));
    if (!info) throw new NotFound(name);
    return info;
  }

  /** Three API calls, however many systems there are. */
  async list(): Promise<SystemInfo[]> {
    return this.query(L.MANAGED_SELECTOR);
  }

  private async query(labelSelector: string): Promise<SystemInfo[]> {
    const namespace = this.namespace;
    const [deps, svcs, pods] = await Promise.all([
      kube('list Deployments', () => this.c.apps.listNamespacedDeployment({ namespace, labelSelector })),
      kube('list Services', () => this.c.core.listNamespacedService({ namespace, labelSelector })),
      kube('list Pods', () => this.c.core.listNamespacedPod({ namespace, labelSelector })),
    ]);
    const svcByName = new Map(svcs.items.map((s) => [s.metadata?.name, s]));
    return deps.items
      .map((d) => {
        const name = d.metadata?.name ?? '';
        const mine = pods.items.filter((p) => p.metadata?.labels?.[L.LABEL_SYSTEM] === name);
        return this.describe(d, svcByName.get(name), mine);
      })
      .sort((a, b) => a.created.localeCompare(b.created));
  }

  private describe(d: V1Deployment | undefined, svc: V1Service | undefined, pods: V1Pod[]): SystemInfo {
    const meta = d?.metadata ?? svc?.metadata ?? {};
    const a = meta.annotations ?? {};
    const container = d?.spec?.template.spec?.containers[0];
    const v = bestVerdict(pods);
    const ready = (d?.status?.readyReplicas ?? 0) >= 1 || v.stage === 'ready';
    return {
      name: meta.name ?? '',
      namespace: meta.namespace ?? this.namespace,
      image: container?.image ?? '',
      ports: (svc?.spec?.ports ?? []).map((p) => ({ port: p.port, ...(p.nodePort ? { nodePort: p.nodePort } : {}) })),
      url: svc ? resolveUrl(svc, pods, this.opts.publicHost) : null,
      ready,
      stage: d?.metadata?.deletionTimestamp ? 'terminating' : ready ? 'ready' : v.failure ? 'failed' : v.stage,
      ...(ready ? {} : { reason: v.describe }),
      owner: a[L.ANN_OWNER] ?? '',
      ownerId: a[L.ANN_OWNER_ID] ?? '',
      origin: a[L.ANN_ORIGIN] ?? '',
      created: a[L.ANN_CREATED] ?? (meta.creationTimestamp ? new Date(meta.creationTimestamp).toISOString() : ''),
      expires: a[L.ANN_EXPIRES] ?? null,
      ...(a[L.ANN_COMMAND] ? { command: a[L.ANN_COMMAND] } : {}),
      annotations: Object.fromEntries(Object.entries(a).filter(([k]) => k.startsWith(`${L.PREFIX}/`))),
    };
  }
}
