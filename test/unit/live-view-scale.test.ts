/**
 * The live view at scale, against a stand-in API server (test/support/fake-api-server.ts) that
 * serves Tycho's objects the way kube-apiserver does, managedFields and all:
 * - the cache holds no managedFields (from a list or a watch event), no Deployment status, and
 *   of a pod only what Tycho reads; lists are read as plain JSON (no typed client's copies);
 * - lists come in pages (`limit`/`continue`), never as one answer of every object;
 * - a relist updates the one cache in place, page by page: the objects of a page already listed
 *   are let go as their new versions arrive, the others still answer reads meanwhile;
 * - a watch cut off resumes where it was, without listing everything again;
 * - a watch the other end keeps ending at once is opened again only after a growing wait;
 * - a resync of N systems costs work in proportion to N, not N² (it counts the steps of every
 *   Map and Set iteration while the view syncs: no timings).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { KubernetesObject, V1Deployment, V1EndpointSlice, V1Endpoints, V1ManagedFieldsEntry, V1Pod, V1Service } from '@kubernetes/client-node';
import * as labels from '../../src/k8s/labels.js';
import { endpointsSource, LABEL_SERVICE_NAME } from '../../src/k8s/view/endpoints-source.js';
import { LiveView } from '../../src/k8s/view/live-view.js';
import { waitFor } from '../support/cluster.js';
import { FakeApiServer } from '../support/fake-api-server.js';

const NS = 'scale';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const SERVICES = `/api/v1/namespaces/${NS}/services`;
const ENDPOINTS = `/api/v1/namespaces/${NS}/endpoints`;

const nameOf = (i: number) => `sys-${String(i).padStart(4, '0')}`;
const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

/** What the API server's field managers write on every object: often the largest part of it. */
function managedFields(manager: string): V1ManagedFieldsEntry[] {
  return [
    {
      manager,
      operation: 'Update',
      apiVersion: 'v1',
      time: new Date('2026-01-01T00:00:00Z'),
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, [`f:${labels.LABEL_SYSTEM}`]: {} }, 'f:annotations': { '.': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } },
    },
  ];
}

function objectsOf(i: number, version = 'v1'): { deployment: V1Deployment; pod: V1Pod; service: V1Service; endpoints: V1Endpoints } {
  const name = nameOf(i);
  const uid = `uid-${name}`;
  const meta = { name, namespace: NS, labels: { [labels.LABEL_MANAGED_BY]: labels.MANAGED_BY_VALUE, [labels.LABEL_SYSTEM]: name } };
  const launch = { [labels.ANN_LAUNCH_ID]: `launch-${name}` };
  const owned = [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid, controller: true }];
  const deployment: V1Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { ...meta, uid, creationTimestamp: new Date('2026-01-01T00:00:00Z'), annotations: { [labels.ANN_OWNER]: 'alice' }, managedFields: managedFields('tycho') },
    spec: { replicas: 1, selector: { matchLabels: meta.labels }, template: { metadata: { labels: meta.labels, annotations: launch }, spec: { containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80 }] }] } } },
    status: { replicas: 1, readyReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }] },
  };
  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      labels: { ...meta.labels, version },
      name: `${name}-abc12`,
      uid: `pod-${name}`,
      annotations: { ...launch, 'container.seccomp.security.alpha.kubernetes.io/app': 'runtime/default' },
      creationTimestamp: new Date('2026-01-01T00:00:01Z'),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-5d8f`, uid: `rs-${name}`, controller: true }],
      managedFields: managedFields('kubelet'),
    },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 80 }], terminationMessagePath: '/dev/termination-log', resources: { requests: { cpu: '250m' } } }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
    },
    status: {
      phase: 'Running',
      podIP: ipOf(i),
      podIPs: [{ ip: ipOf(i) }],
      hostIP: '127.0.0.1',
      qosClass: 'Burstable',
      startTime: new Date('2026-01-01T00:00:01Z'),
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date('2026-01-01T00:00:02Z'), lastProbeTime: undefined }],
      containerStatuses: [{ name: 'app', image: 'nginx', imageID: 'docker.io/library/nginx@sha256:0123', containerID: 'containerd://0123', ready: true, restartCount: 0, started: true, state: { running: { startedAt: new Date('2026-01-01T00:00:01Z') } } }],
    },
  };
  const service: V1Service = { apiVersion: 'v1', kind: 'Service', metadata: { ...meta, uid: `svc-${name}`, ownerReferences: owned, managedFields: managedFields('tycho') }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30000 + (i % 2000) }] } };
  const endpoints: V1Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { ...meta, managedFields: managedFields('kube-controller-manager') }, subsets: [{ addresses: [{ ip: ipOf(i) }], ports: [{ port: 80 }] }] };
  return { deployment, pod, service, endpoints };
}

async function fill(api: FakeApiServer, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const o = objectsOf(i);
    api.put(DEPLOYMENTS, o.deployment);
    api.put(PODS, o.pod);
    api.put(SERVICES, o.service);
    api.put(ENDPOINTS, o.endpoints);
  }
}

function gcNow(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

let api: FakeApiServer;
let view: LiveView | undefined;

beforeEach(async () => {
  api = await FakeApiServer.start();
});

afterEach(async () => {
  await view?.stop();
  view = undefined;
  await api.stop();
});

const viewOf = (opts: ConstructorParameters<typeof LiveView>[2] = {}) => (view = new LiveView(api.kc, NS, { endpointsApi: 'endpoints', backoffMaxMs: 1000, ...opts }));

it('caches no managedFields, from a list or from a watch event, no Deployment status, and of a pod only what Tycho reads', async () => {
  await fill(api, 3);
  const v = viewOf();
  await v.start();
  const s = v.system(nameOf(1))!;
  expect(s.stage).toBe('ready');
  const cached: KubernetesObject[] = [s.deployment, s.service!, ...s.pods];
  for (const o of cached) expect(o.metadata?.managedFields).toBeUndefined();
  expectSlimPod(s.pods[0]!);
  // The Deployment keeps its spec (the repair rebuilds its children from it), not its status.
  expect(s.deployment.spec?.template.metadata?.annotations?.[labels.ANN_LAUNCH_ID]).toBe(`launch-${nameOf(1)}`);
  expect(s.deployment.status).toBeUndefined();
  // Plain JSON, as a watch event delivers it: not the typed client's class instances and Dates.
  expect(typeof s.deployment.metadata?.creationTimestamp).toBe('string');

  const changed = objectsOf(1, 'v2');
  api.put(PODS, changed.pod);
  api.put(DEPLOYMENTS, { ...changed.deployment, metadata: { ...changed.deployment.metadata, annotations: { [labels.ANN_OWNER]: 'bob' } } });
  const after = await v.waitFor(nameOf(1), (x) => (x?.pods[0]?.metadata?.labels?.version === 'v2' && x.deployment.metadata?.annotations?.[labels.ANN_OWNER] === 'bob' ? x : undefined), AbortSignal.timeout(10_000));
  expect(after.pods[0]!.metadata?.managedFields).toBeUndefined();
  expect(after.deployment.metadata?.managedFields).toBeUndefined();
  expect(after.deployment.status).toBeUndefined();
  expectSlimPod(after.pods[0]!);
});

/** What the view keeps of a pod: what the pod verdict, podsOf and the URL read, nothing else. */
function expectSlimPod(p: V1Pod): void {
  expect(p.metadata?.managedFields).toBeUndefined();
  expect(p.metadata?.annotations).toEqual({ [labels.ANN_LAUNCH_ID]: expect.any(String) });
  expect(p.metadata?.labels?.[labels.LABEL_SYSTEM]).toBeDefined();
  expect(p.metadata?.ownerReferences).toHaveLength(1);
  expect(p.spec).toEqual({ nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx' }] });
  expect(p.status).toEqual({
    phase: 'Running',
    podIP: expect.any(String),
    hostIP: '127.0.0.1',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: 'app', image: 'nginx', ready: true, restartCount: 0, started: true, state: { running: { startedAt: '2026-01-01T00:00:01.000Z' } } }],
  });
}

it('Endpoints and EndpointSlices are cached without managedFields, with the ready addresses they had', () => {
  const ep: V1Endpoints = {
    metadata: { name: 'web', namespace: NS, labels: { [labels.LABEL_SYSTEM]: 'web' }, managedFields: managedFields('kube-controller-manager') },
    subsets: [{ addresses: [{ ip: '10.0.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'web-1', uid: 'p1' } }], notReadyAddresses: [{ ip: '10.0.0.2' }], ports: [{ port: 80 }] }],
  };
  const slice: V1EndpointSlice = {
    addressType: 'IPv4',
    metadata: { name: 'web-abcde', namespace: NS, labels: { [labels.LABEL_SYSTEM]: 'web', [LABEL_SERVICE_NAME]: 'web' }, managedFields: managedFields('endpointslice-controller') },
    endpoints: [
      { addresses: ['10.0.0.1'], conditions: { ready: true, serving: true }, nodeName: 'n1', targetRef: { kind: 'Pod', name: 'web-1' } },
      { addresses: ['10.0.0.2'], conditions: { ready: false } },
      { addresses: ['10.0.0.3'], conditions: { ready: true, terminating: true } },
      { addresses: ['10.0.0.4'] },
    ],
  };
  for (const [api, obj] of [['endpoints', ep], ['endpointslices', slice]] as const) {
    const source = endpointsSource(api);
    const slim = source.slim(obj);
    expect(slim.metadata?.managedFields).toBeUndefined();
    expect(slim.metadata?.labels).toEqual(obj.metadata?.labels);
    expect(source.readyIps([slim])).toEqual(source.readyIps([obj]));
  }
  expect(JSON.stringify(endpointsSource('endpoints').slim(ep))).not.toContain('targetRef');
});

it('lists in pages: every list asks for a bounded page and follows the continue token', async () => {
  await fill(api, 1200);
  const v = viewOf();
  await v.start();
  expect(v.systems()).toHaveLength(1200);
  expect(v.systems().filter((s) => s.stage === 'ready')).toHaveLength(1200);
  for (const path of [DEPLOYMENTS, PODS, SERVICES, ENDPOINTS]) {
    const lists = api.lists(path);
    for (const l of lists) {
      const limit = Number(l.query.get('limit'));
      expect(limit).toBeGreaterThan(0);
      expect(limit).toBeLessThanOrEqual(500);
      expect(l.items).toBeLessThanOrEqual(limit);
    }
    expect(lists.map((l) => l.query.get('continue') ?? '')).toEqual(['', '500', '1000']);
  }
});

it('lists asked gzipped, as client-node asks, are read as well', async () => {
  await fill(api, 700);
  api.gzipLists = true;
  const v = viewOf();
  await v.start();
  expect(v.systems().filter((s) => s.stage === 'ready')).toHaveLength(700);
  for (const l of api.lists(PODS)) expect(l.acceptEncoding).toContain('gzip');
});

it('a refused list: the view says so in the API server\'s words, and does not start', async () => {
  await fill(api, 2);
  api.refuseListsWith = 403;
  const v = viewOf();
  await expect(v.start()).rejects.toThrow(/not allowed to list/);
  expect(v.problem).toMatch(/not allowed to list/);
});

it('a relist updates the one cache in place: a listed page replaces its objects, the rest still answer', async () => {
  await fill(api, 1200);
  const v = viewOf();
  await v.start();
  const before = v.systems().map((s) => new WeakRef(s.pods[0]!));
  expect(before).toHaveLength(1200);
  await waitFor(() => api.openWatches(PODS) === 1, { what: 'the pods watch' });

  // The pods watch expires; its relist waits at the API server, and meanwhile every pod changes.
  api.holdListsWhen = (path) => path === PODS;
  expect(api.endWatches('expired', PODS)).toBe(1);
  await waitFor(() => api.heldListCount === 1, { what: 'the relist of the pods' });
  for (let i = 0; i < 1200; i++) api.put(PODS, objectsOf(i, 'v2').pod);

  // Its first page arrives; the second is held.
  api.holdListsWhen = (path, q) => path === PODS && q.get('continue') === '500';
  api.releaseLists(true);
  await waitFor(() => api.heldListCount === 1, { what: 'the second page of the relist' });
  await waitFor(() => v.system(nameOf(499))?.pods[0]?.metadata?.labels?.version === 'v2', { what: 'the first page in the cache' });
  const versions = v.systems().map((s) => s.pods[0]?.metadata?.labels?.version);
  expect(versions.slice(0, 500).every((x) => x === 'v2')).toBe(true);
  expect(versions.slice(500).every((x) => x === 'v1')).toBe(true);

  // The replaced versions are let go now, not once the whole list is in: one copy of each pod.
  gcNow();
  expect(before.slice(0, 500).filter((r) => r.deref() !== undefined)).toHaveLength(0);
  expect(before.slice(500).filter((r) => r.deref() !== undefined)).toHaveLength(700);

  api.releaseLists();
  await waitFor(() => v.systems().every((s) => s.pods[0]?.metadata?.labels?.version === 'v2'), { what: 'the whole relist in the cache' });
  expect(v.systems()).toHaveLength(1200);
});

it('a watch cut off resumes from the last version it saw: no relist, and what changed meanwhile arrives', async () => {
  await fill(api, 600);
  const v = viewOf();
  await v.start();
  await waitFor(() => api.openWatches(PODS) === 1, { what: 'the pods watch' });
  const lists = api.lists(PODS).length;
  expect(api.endWatches('cut', PODS)).toBe(1);
  api.put(PODS, objectsOf(7, 'v2').pod);
  await v.waitFor(nameOf(7), (x) => (x?.pods[0]?.metadata?.labels?.version === 'v2' ? true : undefined), AbortSignal.timeout(15_000));
  expect(api.watchRequests(PODS).length).toBe(2);
  expect(api.lists(PODS).length).toBe(lists);
});

it('a watch the other end keeps ending at once is opened again only after a growing wait', async () => {
  await fill(api, 2);
  api.watchMode = 'close';
  const waits: number[] = [];
  // Room for four doublings (250 ms, then 0.5, 1 and 2 s, each with jitter within its upper half).
  const v = viewOf({ backoffMaxMs: 2000, onRestart: (kind, _why, delayMs) => kind === 'deployments' && waits.push(delayMs) });
  await v.start();
  await waitFor(() => api.watchRequests(DEPLOYMENTS).length >= 5, { what: 'five watches of the deployments' });
  // Never a watch without a wait before it, and the waits grow (jitter stays within each doubling).
  expect(waits.length).toBeGreaterThanOrEqual(api.watchRequests(DEPLOYMENTS).length - 1);
  for (let i = 1; i < 4; i++) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1]!);
  expect(waits[3]).toBeGreaterThan(waits[0]!);

  // Once the watches stay open, changes flow again.
  api.watchMode = 'stream';
  const changed = objectsOf(0);
  api.put(DEPLOYMENTS, { ...changed.deployment, metadata: { ...changed.deployment.metadata, annotations: { [labels.ANN_OWNER]: 'carol' } } });
  await v.waitFor(nameOf(0), (x) => (x?.deployment.metadata?.annotations?.[labels.ANN_OWNER] === 'carol' ? true : undefined), AbortSignal.timeout(15_000));
});

describe('work in proportion to the systems', () => {
  let steps = 0;
  const patched: [object, PropertyKey, unknown][] = [];

  /** Counts every step of every Map and Set iteration from now on. */
  function countIterations(): void {
    for (const proto of [Map.prototype, Set.prototype] as unknown as Record<PropertyKey, unknown>[]) {
      for (const key of ['entries', 'values', 'keys', Symbol.iterator] as PropertyKey[]) {
        const original = proto[key] as (this: unknown) => Iterator<unknown>;
        patched.push([proto, key, original]);
        Object.defineProperty(proto, key, {
          configurable: true,
          writable: true,
          value: function (this: unknown) {
            const it = original.call(this);
            return {
              next: () => {
                steps++;
                return it.next();
              },
              [Symbol.iterator]() {
                return this;
              },
            };
          },
        });
      }
    }
  }

  afterEach(() => {
    for (const [proto, key, original] of patched.splice(0)) Object.defineProperty(proto, key, { configurable: true, writable: true, value: original });
  });

  it('syncing N systems and reconciling each costs steps in proportion to N, not N²', async () => {
    const n = 2000;
    await fill(api, n);
    const v = viewOf();
    const changed = new Set<string>();
    v.on('changed', (s) => changed.add(s.name));
    countIterations();
    await v.start();
    // The resync of the last kind to list is reconciled right after start() resolves.
    await waitFor(() => changed.size === n, { what: 'every system reconciled' });
    await new Promise((r) => setImmediate(r));
    const perSystem = steps / n;
    for (const [proto, key, original] of patched.splice(0)) Object.defineProperty(proto, key, { configurable: true, writable: true, value: original });
    // Each of the four kinds' syncs reconciles every system once; a scan of every known system
    // per name would be about 4 × N = 8000 steps per system.
    expect(perSystem).toBeLessThan(200);
  });
});
