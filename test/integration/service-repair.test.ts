/**
 * A server killed between a launch's two creates leaves a Deployment of Tycho's with no
 * Service: its pod runs, nothing routes to it, and no one waits on it. What such a kill leaves
 * is made here directly (the Deployment object exactly as the launcher builds it, no Service),
 * and then a Tycho server runs on the namespace: it makes the Service again from what the
 * Deployment records, and the system becomes ready, with a URL that answers. A launch that is
 * only slow between its creates, and finds its Service made meanwhile, goes on with it.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { buildDeployment } from '../../src/k8s/manifests.js';
import { ANN_SERVICE_TYPE } from '../../src/k8s/labels.js';
import type { ExposeMode, LaunchSpec } from '../../src/k8s/spec.js';
import type { RunningTycho } from '../../src/server/tycho.js';
import { Launcher } from '../../src/k8s/launcher.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { HttpFaultProxy } from '../support/fault-proxy.js';
import { startServer } from '../api/helpers.js';
import { openUrl } from '../support/open-url.js';

const apps = kubeConfig().makeApiClient(AppsV1Api);
const core = kubeConfig().makeApiClient(CoreV1Api);
let ns: string;
let server: RunningTycho;

const spec = (name: string, expose?: ExposeMode): LaunchSpec => ({
  name,
  image: 'nginx',
  ports: [80, 8080],
  owner: { id: 'cli:alice', display: 'alice' },
  origin: 'cli',
  ...(expose ? { expose } : {}),
});

/** What a launch killed after its first create leaves: the Deployment alone. */
async function deploymentOnly(s: LaunchSpec): Promise<string> {
  const d = await apps.createNamespacedDeployment({ namespace: ns, body: buildDeployment(s, ns) });
  return d.metadata!.uid!;
}

beforeAll(async () => {
  ns = await createTestNamespace('service-repair');
  // The server's default type is ClusterIP: a repaired Service of a NodePort launch must still be a NodePort.
  server = await startServer({ namespace: ns, env: { TYCHO_SERVICE_TYPE: 'ClusterIP' } });
});

afterAll(async () => {
  await server?.stop();
});

it('the Deployment records the Service type of the mode it was exposed with', () => {
  expect(buildDeployment(spec('typed', 'loadbalancer'), ns).metadata!.annotations![ANN_SERVICE_TYPE]).toBe('LoadBalancer');
});

it('a Deployment left without its Service gets it back as launched (type, ports, owner), becomes ready, and its URL is checked as a launch checks it and answers', async () => {
  const uid = await deploymentOnly(spec('cut-short', 'nodeport'));
  const svc = await waitFor(() => core.readNamespacedService({ namespace: ns, name: 'cut-short' }).catch(() => undefined), { what: 'the Service to be made again' });
  expect(svc.spec!.type).toBe('NodePort');
  expect(svc.spec!.ports!.map((p) => p.port)).toEqual([80, 8080]);
  expect(svc.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'cut-short', uid, controller: true })]);
  expect(svc.metadata!.labels!['app.kubernetes.io/managed-by']).toBe('tycho');

  const status = await waitFor(
    async () => {
      const info = await server.launcher.status('cut-short');
      // Ready, and the URL check the repair makes once it serves, as a launch would have made it.
      return info.ready && info.urlCheck ? info : undefined;
    },
    { what: 'the system to be ready with its URL checked' },
  );
  expect(status.urlCheck).toEqual({ checked: 'public', verified: true });
  const url = String(status.url);
  expect(url).toMatch(/^http:\/\/[^:]+:\d+$/);
  expect(await openUrl(url)).toMatchObject({ status: expect.any(Number) });
});

it('a Deployment from before the type was recorded gets the server\'s configured type', async () => {
  const body = buildDeployment(spec('unrecorded'), ns);
  delete body.metadata!.annotations![ANN_SERVICE_TYPE];
  await apps.createNamespacedDeployment({ namespace: ns, body });
  const svc = await waitFor(() => core.readNamespacedService({ namespace: ns, name: 'unrecorded' }).catch(() => undefined), { what: 'the Service to be made again' });
  expect(svc.spec!.type).toBe('ClusterIP');
});

it('a launch held between its two creates finds its Service made by the repair, and goes on to ready with it', async () => {
  const proxy = await HttpFaultProxy.start(kubeConfig());
  try {
    // The launch's Service create waits at the proxy: the launch is slow exactly between its creates.
    proxy.holdWhen = (method, path) => method === 'POST' && /\/services(\?|$)/.test(path);
    const slow = new Launcher(proxy.kubeConfigThrough(kubeConfig()), { namespace: ns, readyTimeoutSeconds: 60 });
    const launching = slow.up(spec('slow-between', 'nodeport'));
    await waitFor(() => proxy.held === 1, { what: 'the Service create to be held' });
    const made = await waitFor(() => core.readNamespacedService({ namespace: ns, name: 'slow-between' }).catch(() => undefined), { what: 'the server to make the Service' });
    proxy.release();
    const up = await launching;
    expect(up.ready).toBe(true);
    // The one Service, the repair's: the launch took it rather than undoing itself.
    const svc = await core.readNamespacedService({ namespace: ns, name: 'slow-between' });
    expect(svc.metadata!.uid).toBe(made.metadata!.uid);
    expect((await apps.readNamespacedDeployment({ namespace: ns, name: 'slow-between' })).metadata!.uid).toBe(svc.metadata!.ownerReferences![0]!.uid);
  } finally {
    proxy.release();
    await proxy.stop();
  }
});
