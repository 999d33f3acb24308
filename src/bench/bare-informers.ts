/**
 * The memory baseline, as its own process: client-node's own informers (makeInformer, a
 * ListWatch each) over the four kinds Tycho's live view follows (Deployments, Pods, Services,
 * Endpoints), with Tycho's label selector, and nothing else. What any tool that follows the
 * namespace with client-node as it comes holds: every object whole, each kind listed in one
 * request. Started idle (client-node loaded, nothing listed), so the benchmark reads its memory
 * before and after it holds the systems.
 */
import { AppsV1Api, CoreV1Api, KubeConfig, makeInformer, type Informer, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { MANAGED_SELECTOR } from '../k8s/labels.js';
import { helperArg, serveParent } from './ipc.js';

export interface BareInformersArg {
  kubeconfigPath: string;
  namespace: string;
}

export interface BareInformersSynced {
  deployments: number;
  pods: number;
  services: number;
  endpoints: number;
}

const arg = helperArg<BareInformersArg>();
const kc = new KubeConfig();
kc.loadFromFile(arg.kubeconfigPath);
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const ns = arg.namespace;
const labelSelector = MANAGED_SELECTOR;
type Cached = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
let informers: Record<keyof BareInformersSynced, Cached> | undefined;

async function start(): Promise<BareInformersSynced> {
  informers = {
    deployments: makeInformer(kc, `/apis/apps/v1/namespaces/${ns}/deployments`, () => apps.listNamespacedDeployment({ namespace: ns, labelSelector }), labelSelector),
    pods: makeInformer(kc, `/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod({ namespace: ns, labelSelector }), labelSelector),
    services: makeInformer(kc, `/api/v1/namespaces/${ns}/services`, () => core.listNamespacedService({ namespace: ns, labelSelector }), labelSelector),
    endpoints: makeInformer(kc, `/api/v1/namespaces/${ns}/endpoints`, () => core.listNamespacedEndpoints({ namespace: ns, labelSelector }), labelSelector),
  } as Record<keyof BareInformersSynced, Cached>;
  // start() resolves once its list is in the cache and its watch is open.
  await Promise.all(Object.values(informers).map((i) => i.start()));
  return counts();
}

function counts(): BareInformersSynced {
  const n = (i: Cached | undefined) => i?.list().length ?? 0;
  return { deployments: n(informers?.deployments), pods: n(informers?.pods), services: n(informers?.services), endpoints: n(informers?.endpoints) };
}

void serveParent(async () => ({ pid: process.pid }), { start, counts: async () => counts() }, async () => {
  await Promise.all(Object.values(informers ?? {}).map((i) => i.stop()));
});
