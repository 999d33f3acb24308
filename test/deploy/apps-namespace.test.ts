/**
 * The namespace apps are launched into is hardened: Pod Security labels, NetworkPolicies that
 * let traffic reach apps only from where their URL is served and keep every app away from
 * Tycho, a ResourceQuota and a LimitRange with the documented values. Checked as rendered by
 * kustomize, and as applied to the real API server: the objects read back, the LimitRange and
 * the ResourceQuota at work on real requests (the local cluster runs no network plugin and
 * predates Pod Security admission, so those two are read the way the plugin and the admission
 * plugin read them: network-policy.ts, pod-security.ts).
 */
import {
  CoreV1Api,
  NetworkingV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
  type V1LimitRange,
  type V1Namespace,
  type V1NetworkPolicy,
  type V1ResourceQuota,
} from '@kubernetes/client-node';
import { Forbidden } from '../../src/k8s/errors.js';
import { Launcher } from '../../src/k8s/launcher.js';
import { buildDeployment } from '../../src/k8s/manifests.js';
import { DEFAULT_RESOURCES, type LaunchSpec } from '../../src/k8s/spec.js';
import { createTestNamespace, kubeConfig, systemObjects, waitFor } from '../support/cluster.js';
import { failureOf } from '../support/failures.js';
import { allowed, type Source } from './network-policy.js';
import { podSecurityProblems } from './pod-security.js';
import {
  APPS_NS,
  INGRESS_NS,
  KUBERNETES_DIR,
  LIMIT_RANGE_NAME,
  NS,
  QUOTA_NAME,
  findObject,
  installTycho,
  removeServiceAccountFiles,
  render,
  renderCustomised,
  serviceAccountKubeConfig,
  statusOf,
} from './support.js';

/** The ResourceQuota's documented defaults (README, Deploy). */
const QUOTA = {
  'count/deployments.apps': '20',
  pods: '30',
  services: '20',
  'services.nodeports': '40',
  'services.loadbalancers': '0',
  'requests.cpu': '16',
  'limits.cpu': '32',
  'requests.memory': '64Gi',
  'limits.memory': '128Gi',
  'requests.nvidia.com/gpu': '2',
  secrets: '30',
};
/** Tycho's per-system maxima, which the LimitRange enforces per container (README, Deploy). */
const MAX_PER_SYSTEM = { cpu: '4', memory: '16Gi', 'nvidia.com/gpu': '1' };

const MANAGED = { 'app.kubernetes.io/managed-by': 'tycho' };
const TYCHO_POD = { 'app.kubernetes.io/name': 'tycho', 'app.kubernetes.io/instance': 'tycho', 'app.kubernetes.io/component': 'server', 'app.kubernetes.io/part-of': 'tycho' };
const TYCHO_PORT = 3000;

const spec = (name: string, more: Partial<LaunchSpec> = {}): LaunchSpec => ({ name, image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli', ...more });

/** The pod template of a Deployment Tycho launches: what Pod Security admission would judge. */
const launchedPod = () => buildDeployment(spec('app', { resources: { cpu: '2', memory: '2Gi', gpu: 1 } }), APPS_NS).spec!.template.spec!;

interface Names {
  tycho: string;
  apps: string;
  ingress: string;
}

/**
 * Who may open a connection to whom, as a network plugin would read `policies`, for the pods
 * that matter here. Pod addresses are in 10.244.0.0/16 (the pod CIDR of the example patch in
 * kubernetes/kustomization.yaml); a node's is 192.168.1.10.
 */
function reachability(policies: V1NetworkPolicy[], namespaces: KubernetesObject[], names: Names): Record<string, boolean> {
  const labelsOf = (ns: string) => namespaces.find((n) => n.kind === 'Namespace' && n.metadata!.name === ns)?.metadata?.labels ?? { 'kubernetes.io/metadata.name': ns };
  const pod = (namespace: string, ip: string, labels: Record<string, string>): Source => ({ ip, pod: { namespace, namespaceLabels: labelsOf(namespace), labels } });
  const sources: Record<string, Source> = {
    'an app': pod(names.apps, '10.244.1.5', { ...MANAGED, 'tycho.renci.org/system': 'other-app' }),
    'the ingress controller': pod(names.ingress, '10.244.2.7', { 'app.kubernetes.io/name': 'ingress-nginx' }),
    'a pod elsewhere': pod('default', '10.244.3.8', { run: 'curl' }),
    // NodePort traffic, its source rewritten by kube-proxy to the address of the node it came in on.
    'a node': { ip: '192.168.1.10' },
  };
  const targets = {
    Tycho: { namespace: names.tycho, labels: TYCHO_POD },
    'an app': { namespace: names.apps, labels: { ...MANAGED, 'tycho.renci.org/system': 'hello' } },
    'a pod Tycho did not launch': { namespace: names.apps, labels: { run: 'debug' } },
  };
  const ports = { Tycho: [TYCHO_PORT, 9229], 'an app': [80, 8888], 'a pod Tycho did not launch': [80] };
  const out: Record<string, boolean> = {};
  for (const [s, src] of Object.entries(sources)) {
    for (const [t, dst] of Object.entries(targets)) {
      for (const port of ports[t as keyof typeof ports]) out[`${s} → ${t}:${port}`] = allowed(policies, src, { ...dst, port });
    }
  }
  return out;
}

/** What the README promises, with the NodePort policy as shipped (ipBlock 0.0.0.0/0). */
const SHIPPED_REACHABILITY: Record<string, boolean> = {
  // No app, whatever its address, reaches Tycho; only the ingress controller, on Tycho's port.
  'an app → Tycho:3000': false,
  'an app → Tycho:9229': false,
  'the ingress controller → Tycho:3000': true,
  'the ingress controller → Tycho:9229': false,
  'a pod elsewhere → Tycho:3000': false,
  'a pod elsewhere → Tycho:9229': false,
  'a node → Tycho:3000': false,
  'a node → Tycho:9229': false,
  // Apps are reached where their URL is served: through the ingress controller, any port…
  'the ingress controller → an app:80': true,
  'the ingress controller → an app:8888': true,
  // …or a NodePort, whose traffic comes from a node's address: every address is let in, which
  // (on plugins that match pod addresses against ipBlocks) includes other pods.
  'a node → an app:80': true,
  'a node → an app:8888': true,
  'an app → an app:80': true,
  'an app → an app:8888': true,
  'a pod elsewhere → an app:80': true,
  'a pod elsewhere → an app:8888': true,
  // Anything else in the apps namespace is closed.
  'an app → a pod Tycho did not launch:80': false,
  'the ingress controller → a pod Tycho did not launch:80': false,
  'a pod elsewhere → a pod Tycho did not launch:80': false,
  'a node → a pod Tycho did not launch:80': false,
};

const kindOf = <T extends KubernetesObject>(objects: KubernetesObject[], kind: string) => objects.filter((o): o is T => o.kind === kind);
const DEFAULT_NAMES: Names = { tycho: NS, apps: APPS_NS, ingress: INGRESS_NS };

let base: KubernetesObject[];

beforeAll(async () => {
  base = await render(KUBERNETES_DIR);
});
afterAll(removeServiceAccountFiles);

describe('as rendered by kustomize', () => {
  it('the apps namespace enforces the baseline Pod Security Standard and warns about and audits restricted', () => {
    expect(findObject<V1Namespace>(base, 'Namespace', APPS_NS).metadata!.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    expect(findObject<V1Namespace>(base, 'Namespace', NS).metadata!.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
  });

  it('Tycho\'s launches are admitted under baseline (restricted only warns about them); Tycho\'s own pod meets restricted', () => {
    expect(podSecurityProblems(launchedPod(), 'baseline')).toEqual([]);
    // Why `restricted` is not enforced: most app images run as root.
    expect(podSecurityProblems(launchedPod(), 'restricted')).toEqual(['running as non-root', 'capabilities (restricted)']);
    expect(podSecurityProblems(findObject<V1Deployment>(base, 'Deployment', 'tycho').spec!.template.spec!, 'restricted')).toEqual([]);
    // What a stolen token would try is what baseline refuses.
    const escape = { ...launchedPod(), hostPID: true, volumes: [{ name: 'root', hostPath: { path: '/' } }] };
    escape.containers = [{ ...escape.containers[0]!, securityContext: { privileged: true } }];
    expect(podSecurityProblems(escape, 'baseline')).toEqual(['host namespaces', 'privileged containers', 'hostPath volumes']);
  });

  it('the NetworkPolicies let traffic reach apps only from the ingress controller or a NodePort, and reach Tycho only from the ingress controller, on its port', () => {
    expect(reachability(kindOf(base, 'NetworkPolicy'), base, DEFAULT_NAMES)).toEqual(SHIPPED_REACHABILITY);
    // The port Tycho's policy opens is the one Tycho listens on.
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    expect(d.spec!.template.spec!.containers[0]!.ports).toEqual([{ name: 'http', containerPort: TYCHO_PORT, protocol: 'TCP' }]);
    expect(d.spec!.template.metadata!.labels).toEqual(TYCHO_POD);
  });

  it('with the pod CIDR patch from kubernetes/kustomization.yaml, other pods reach apps only through the ingress controller', async () => {
    const objects = await renderCustomised({ examplePatches: true });
    const reach = reachability(kindOf(objects, 'NetworkPolicy'), objects, DEFAULT_NAMES);
    expect(reach).toEqual({
      ...SHIPPED_REACHABILITY,
      'an app → an app:80': false,
      'an app → an app:8888': false,
      'a pod elsewhere → an app:80': false,
      'a pod elsewhere → an app:8888': false,
    });
  });

  it('the ingress controller\'s namespace is a setting: another one takes its place in both policies', async () => {
    const objects = await renderCustomised({ settings: { ingressNamespace: 'traefik' } });
    const policies = kindOf<V1NetworkPolicy>(objects, 'NetworkPolicy');
    expect(reachability(policies, objects, { ...DEFAULT_NAMES, ingress: 'traefik' })).toEqual(SHIPPED_REACHABILITY);
    const nginx = reachability(policies, objects, DEFAULT_NAMES);
    expect([nginx['the ingress controller → Tycho:3000'], nginx['the ingress controller → a pod Tycho did not launch:80']]).toEqual([false, false]);
  });

  it('has a ResourceQuota with the documented limits, and a LimitRange with Tycho\'s defaults and per-system maxima', () => {
    const quota = findObject<V1ResourceQuota>(base, 'ResourceQuota', QUOTA_NAME, APPS_NS);
    expect(quota.spec).toEqual({ hard: QUOTA });
    const limits = findObject<V1LimitRange>(base, 'LimitRange', LIMIT_RANGE_NAME, APPS_NS);
    expect(limits.spec!.limits).toEqual([
      {
        type: 'Container',
        defaultRequest: { cpu: DEFAULT_RESOURCES.cpuRequest, memory: DEFAULT_RESOURCES.memoryRequest, 'nvidia.com/gpu': '0' },
        _default: { cpu: DEFAULT_RESOURCES.cpuLimit, memory: DEFAULT_RESOURCES.memoryLimit, 'nvidia.com/gpu': '0' },
        max: MAX_PER_SYSTEM,
      },
    ]);
    // Nothing of the kind in Tycho's own namespace.
    expect(base.filter((o) => ['ResourceQuota', 'LimitRange'].includes(o.kind!) && o.metadata!.namespace !== APPS_NS)).toEqual([]);
  });
});

describe('applied to the real API server', () => {
  const core = () => kubeConfig().makeApiClient(CoreV1Api);
  let apps: string;
  let own: string;
  let sa: KubeConfig;

  beforeAll(async () => {
    apps = await createTestNamespace('hardened');
    own = (await installTycho(apps)).namespace;
    sa = await serviceAccountKubeConfig(own);
  });

  it('the namespaces carry their Pod Security labels', async () => {
    const labels = (await core().readNamespace({ name: apps })).metadata!.labels;
    expect(labels).toMatchObject({
      'kubernetes.io/metadata.name': apps,
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    expect((await core().readNamespace({ name: own })).metadata!.labels).toMatchObject({ 'kubernetes.io/metadata.name': own, 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it('the NetworkPolicies are there, and read back as promised', async () => {
    const net = kubeConfig().makeApiClient(NetworkingV1Api);
    const [inApps, inOwn] = await Promise.all([apps, own].map(async (namespace) => (await net.listNamespacedNetworkPolicy({ namespace })).items));
    expect(inApps!.map((p) => p.metadata!.name).sort()).toEqual(['allow-from-ingress-controller', 'allow-nodeports', 'default-deny-ingress']);
    expect(inOwn!.map((p) => p.metadata!.name).sort()).toEqual(['default-deny-ingress', 'tycho-server']);
    const namespaces = await Promise.all([apps, own].map(async (name) => ({ ...(await core().readNamespace({ name })), kind: 'Namespace' })));
    expect(reachability([...inApps!, ...inOwn!], namespaces, { tycho: own, apps, ingress: INGRESS_NS })).toEqual(SHIPPED_REACHABILITY);
  });

  it('the ResourceQuota is in force: the quota controller counts the namespace against the documented limits', async () => {
    const quota = await waitFor(
      async () => {
        const q = await core().readNamespacedResourceQuota({ namespace: apps, name: QUOTA_NAME });
        return q.status?.hard && q.status.used ? q : undefined;
      },
      { what: 'the quota controller to compute the ResourceQuota' },
    );
    expect(quota.status!.hard).toEqual(QUOTA);
    expect(Object.keys(quota.status!.used!).sort()).toEqual(Object.keys(QUOTA).sort());
  });

  it('the LimitRange fills in a container that states no resources, and refuses one above the per-system maximum', async () => {
    const limitRange = await core().readNamespacedLimitRange({ namespace: apps, name: LIMIT_RANGE_NAME });
    expect(limitRange.spec!.limits.map((l) => [l.type, l.max])).toEqual([['Container', MAX_PER_SYSTEM]]);
    const bare = await core().createNamespacedPod({ namespace: apps, body: { metadata: { name: 'bare' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } });
    // Tycho's defaults, and no GPU.
    expect(bare.spec!.containers[0]!.resources).toEqual({
      requests: { cpu: DEFAULT_RESOURCES.cpuRequest, memory: DEFAULT_RESOURCES.memoryRequest, 'nvidia.com/gpu': '0' },
      limits: { cpu: DEFAULT_RESOURCES.cpuLimit, memory: DEFAULT_RESOURCES.memoryLimit, 'nvidia.com/gpu': '0' },
    });
    await core().deleteNamespacedPod({ namespace: apps, name: 'bare', gracePeriodSeconds: 0 });

    for (const [resource, amount] of [['cpu', '5'], ['memory', '17Gi'], ['nvidia.com/gpu', '2']] as const) {
      const big = { metadata: { name: 'too-big' }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { limits: { [resource]: amount }, requests: { [resource]: amount } } }] } };
      let message = '';
      const status = await statusOf(core().createNamespacedPod({ namespace: apps, body: big }).catch((e: { body?: string }) => ((message = String(e.body)), Promise.reject(e))));
      expect([resource, status]).toEqual([resource, 403]);
      expect(message).toContain(`maximum ${resource} usage per Container is ${MAX_PER_SYSTEM[resource]}`);
    }
  });

  it('no LoadBalancer: a launch asking for one is refused with a sentence naming the quota, and leaves nothing behind', async () => {
    const e = await failureOf(new Launcher(sa, { namespace: apps, serviceType: 'LoadBalancer' }).up(spec('lb')));
    expect(e).toBeInstanceOf(Forbidden);
    expect(e.message).toBe(`Could not create the Service: the namespace's resource quota "${QUOTA_NAME}" is used up. Tear down a system or ask for a larger quota.`);
    await waitFor(async () => {
      const o = await systemObjects(apps, 'lb');
      return o.deployments.length + o.services.length === 0;
    }, { what: 'the refused launch to leave nothing' });
  });

  it('a full namespace refuses the next launch at once, with a sentence naming the quota', async () => {
    await core().patchNamespacedResourceQuota(
      { namespace: apps, name: QUOTA_NAME, body: [{ op: 'replace', path: '/spec/hard/count~1deployments.apps', value: '1' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await waitFor(async () => (await core().readNamespacedResourceQuota({ namespace: apps, name: QUOTA_NAME })).status?.hard?.['count/deployments.apps'] === '1', {
      what: 'the quota controller to take in the lower limit',
    });
    const launcher = new Launcher(sa, { namespace: apps, readyTimeoutSeconds: 60 });
    expect((await launcher.up(spec('first'))).ready).toBe(true);
    const e = await failureOf(launcher.up(spec('second')));
    expect(e).toBeInstanceOf(Forbidden);
    expect(e.message).toBe(`Could not create the Deployment: the namespace's resource quota "${QUOTA_NAME}" is used up. Tear down a system or ask for a larger quota.`);
    expect((await launcher.list()).map((s) => s.name)).toEqual(['first']);
    await launcher.down('first');
  });
});
