/**
 * The launch baseline, as its own process: a bare client-node script that creates the same two
 * objects Tycho creates (its Deployment and Service, built by the same manifest code) and
 * watches the system's pods until one is Ready. Nothing else: no Slack, no checks, no re-reads.
 * Its client is client-node as it comes (no connection reuse of ours).
 * Also the list baseline: the three lists any tool needs to show every system.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { MANAGED_SELECTOR, systemSelector } from '../k8s/labels.js';
import { buildDeployment, buildService } from '../k8s/manifests.js';
import type { LaunchSpec } from '../k8s/spec.js';
import { epochMs } from './clock.js';
import { helperArg, serveParent } from './ipc.js';

export interface BareArg {
  kubeconfigPath: string;
  namespace: string;
  image: string;
  port: number;
}

export interface BareLaunch {
  name: string;
  startAt: number;
  readyAt?: number;
  error?: string;
}

const arg = helperArg<BareArg>();
const kc = new KubeConfig();
kc.loadFromFile(arg.kubeconfigPath);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const ns = arg.namespace;

const isReady = (p: V1Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

async function launch(name: string): Promise<BareLaunch> {
  const startAt = epochMs();
  const spec: LaunchSpec = { name, image: arg.image, ports: [arg.port], owner: { id: 'bench', display: 'bench' }, origin: 'cli' };
  try {
    const d = await apps.createNamespacedDeployment({ namespace: ns, body: buildDeployment(spec, ns) });
    await core.createNamespacedService({ namespace: ns, body: buildService(spec, ns, { name, uid: d.metadata!.uid! }, 'NodePort') });
    // From the Deployment's version on, every event of its pods arrives; no list needed.
    const readyAt = await new Promise<number>((resolve, reject) => {
      let stop: AbortController | undefined;
      new Watch(kc)
        .watch(
          `/api/v1/namespaces/${ns}/pods`,
          { labelSelector: systemSelector(name), resourceVersion: d.metadata!.resourceVersion },
          (_type, pod: V1Pod) => {
            if (!isReady(pod)) return;
            resolve(epochMs());
            stop?.abort();
          },
          (err: unknown) => (err ? reject(err as Error) : reject(new Error('the watch ended before the pod was Ready'))),
        )
        .then((c) => (stop = c), reject);
    });
    return { name, startAt, readyAt };
  } catch (e) {
    return { name, startAt, error: e instanceof Error ? e.message : String(e) };
  }
}

void serveParent(async () => ({ pid: process.pid }), {
  /** Launches all names at once; answers when every one is Ready or failed. */
  launch: async (names: string[]) => ({ launches: await Promise.all(names.map(launch)), doneAt: epochMs() }),
  list: async () => {
    const t0 = epochMs();
    const [d, s, p] = await Promise.all([
      apps.listNamespacedDeployment({ namespace: ns, labelSelector: MANAGED_SELECTOR }),
      core.listNamespacedService({ namespace: ns, labelSelector: MANAGED_SELECTOR }),
      core.listNamespacedPod({ namespace: ns, labelSelector: MANAGED_SELECTOR }),
    ]);
    return { systems: d.items.length, services: s.items.length, pods: p.items.length, ms: epochMs() - t0 };
  },
});
