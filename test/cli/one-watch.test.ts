/**
 * The CLI follows the one system it launches or tears down with one watch (src/k8s/one-watch.ts).
 * What a person sees must not change for it: a refused watch creates nothing, a watch the API
 * server ends is opened again, a launch torn down meanwhile says so, and a name whose Deployment
 * is not Tycho's is "no such system" with nothing written to that Deployment. The CLI reaches
 * the cluster through a proxy that can refuse, expire and count requests as an API server does.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ANN_DELETED_BY } from '../../src/k8s/labels.js';
import { createTestNamespace, kubeConfig, systemObjects, waitFor } from '../support/cluster.js';
import { HttpFaultProxy } from '../support/fault-proxy.js';
import { openUrl } from '../support/open-url.js';
import { errorLine, tycho } from './run-cli.js';

let proxy: HttpFaultProxy;
let ns: string;
let kubeconfigPath: string;
const apps = kubeConfig().makeApiClient(AppsV1Api);
const core = kubeConfig().makeApiClient(CoreV1Api);

beforeAll(async () => {
  ns = await createTestNamespace('cli-one-watch');
  proxy = await HttpFaultProxy.start(kubeConfig());
  kubeconfigPath = join(await mkdtemp(join(tmpdir(), 'tycho-cli-one-watch-')), 'kubeconfig');
  await writeFile(kubeconfigPath, proxy.kubeConfigThrough(kubeConfig()).exportConfig());
});

afterEach(() => {
  proxy.answerWhen = undefined;
});

afterAll(async () => {
  await proxy?.stop();
});

const cli = (args: string[]) => tycho(args, { KUBECONFIG: kubeconfigPath, TYCHO_NAMESPACE: ns, TYCHO_OWNER: 'carol' });
const isPodWatch = (method: string, path: string) => method === 'GET' && path.startsWith(`/api/v1/namespaces/${ns}/pods?`) && path.includes('watch=true');

it('a watch Kubernetes refuses: one sentence, exit 5, and nothing is created', async () => {
  proxy.answerWhen = (method, path) => (isPodWatch(method, path) ? 403 : undefined);
  const r = await cli(['up', '-n', 'refused', '-c', 'nginx', '-p', '80']);
  expect(r.code).toBe(5);
  expect(errorLine(r)).toBe(`tycho: Tycho is not allowed to watch pods in namespace "${ns}", so it could not follow the system. Ask a cluster admin to grant that permission to Tycho's account (see kubernetes/base/role.yaml).`);
  expect(await systemObjects(ns, 'refused')).toEqual({ deployments: [], replicaSets: [], pods: [], services: [] });
});

it('a launch whose watch the API server ends (410 Expired) is followed on to Ready, and its URL answers', async () => {
  // slow-start: some seconds in ContainerCreating, while the watch is cut.
  const up = cli(['up', '-n', 'expiring', '-c', 'example.org/slow-start', '-p', '80']);
  await waitFor(async () => (await systemObjects(ns, 'expiring')).pods.length > 0 && proxy.watchesOpen === 1, { what: 'the launch to have a pod, and its watch open' });
  const before = proxy.counts.watches;
  expect(proxy.expireOpenWatches()).toBe(1);
  const r = await up;
  expect(r.code).toBe(0);
  expect(proxy.counts.watches).toBeGreaterThan(before);
  expect(await openUrl(r.stdout.trim())).toMatchObject({ status: 200, body: expect.stringContaining('example.org/slow-start') });
  expect((await cli(['down', 'expiring'])).code).toBe(0);
});

it('a launch torn down while it starts says so (exit 9), not a timeout', async () => {
  // The default timeout (300 s) is far beyond the test's: only noticing the teardown ends it in time.
  const up = cli(['up', '-n', 'yanked', '-c', 'example.org/never-ready', '-p', '80']);
  await waitFor(async () => (await systemObjects(ns, 'yanked')).pods.some((p) => p.status?.containerStatuses?.[0]?.state?.running), { what: 'its pod to run' });
  // As `kubectl delete deployment yanked` would: the garbage collector takes its pods.
  await apps.deleteNamespacedDeployment({ namespace: ns, name: 'yanked' });
  const r = await up;
  expect(r.code).toBe(9);
  expect(errorLine(r)).toBe('tycho: "yanked" was torn down while it was starting.');
});

it('down of a name whose Deployment is not Tycho\'s: no such system (exit 3), and that Deployment is left unmarked', async () => {
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'foreign', annotations: { note: 'not Tycho' } },
      spec: { replicas: 0, selector: { matchLabels: { app: 'foreign' } }, template: { metadata: { labels: { app: 'foreign' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    },
  });
  const r = await cli(['down', 'foreign']);
  expect(r.code).toBe(3);
  expect(errorLine(r)).toBe('tycho: There is no system named "foreign".');
  const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'foreign' });
  expect(d.metadata!.deletionTimestamp).toBeUndefined();
  expect(d.metadata!.annotations?.[ANN_DELETED_BY]).toBeUndefined();
});

it('down finishes off a Service left without its Deployment', async () => {
  expect((await cli(['up', '-n', 'half', '-c', 'nginx', '-p', '80', '--no-wait'])).code).toBe(0);
  // Orphan the Service (as a crash between two writes would leave it), then remove the Deployment.
  await core.patchNamespacedService({ namespace: ns, name: 'half', body: [{ op: 'remove', path: '/metadata/ownerReferences' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
  await apps.deleteNamespacedDeployment({ namespace: ns, name: 'half' });
  await waitFor(async () => (await systemObjects(ns, 'half')).deployments.length === 0, { what: 'the Deployment to be gone' });
  expect((await cli(['down', 'half'])).code).toBe(0);
  expect((await systemObjects(ns, 'half')).services).toEqual([]);
});

it('down whose watch cannot resume (410 Gone) starts it afresh, and still waits until everything is gone', async () => {
  expect((await cli(['up', '-n', 'gone-watch', '-c', 'nginx', '-p', '80'])).code).toBe(0);
  // As an API server whose history no longer reaches back that far: every watch of the
  // Deployments that resumes from the first resourceVersion asked for is answered 410.
  let stale: string | null | undefined;
  proxy.answerWhen = (method, path) => {
    const u = new URL(path, 'https://api.invalid');
    if (method !== 'GET' || u.searchParams.get('watch') !== 'true' || !u.pathname.endsWith(`/namespaces/${ns}/deployments`)) return undefined;
    stale ??= u.searchParams.get('resourceVersion');
    return stale && u.searchParams.get('resourceVersion') === stale ? 410 : undefined;
  };
  const answeredBefore = proxy.counts.answered;
  const r = await cli(['down', 'gone-watch']);
  expect([r.code, r.stdout]).toEqual([0, 'Deleted system gone-watch\n']);
  expect(proxy.counts.answered).toBe(answeredBefore + 1);
  expect(await systemObjects(ns, 'gone-watch')).toEqual({ deployments: [], replicaSets: [], pods: [], services: [] });
});
