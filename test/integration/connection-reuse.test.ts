/**
 * Kubernetes calls reuse TLS connections (src/k8s/connections.ts). Counted at a TCP proxy in
 * front of the real API server: a connection through it is one TLS handshake. Without the
 * shared agent, client-node opens one per call; the control case shows the proxy counting that.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { Launcher } from '../../src/k8s/launcher.js';
import { apiServerAddress, GatedProxy } from '../bot/gated-proxy.js';
import { createTestNamespace, kubeConfig, systemObjects } from '../support/cluster.js';

let ns: string;
let proxy: GatedProxy;

beforeAll(async () => {
  ns = await createTestNamespace('reuse');
  proxy = await GatedProxy.start(apiServerAddress(kubeConfig()));
  proxy.release();
});

afterAll(async () => {
  await proxy?.stop();
});

/** Connections the proxy saw open while fn ran. */
async function connectionsDuring(fn: () => Promise<unknown>): Promise<number> {
  const before = proxy.connections;
  await fn();
  return proxy.connections - before;
}

test('client-node on its own opens a connection for every call (the control case)', async () => {
  const core = proxy.kubeConfigThrough(kubeConfig()).makeApiClient(CoreV1Api);
  const opened = await connectionsDuring(async () => {
    for (let i = 0; i < 5; i++) await core.listNamespacedService({ namespace: ns });
  });
  expect(opened).toBe(5);
});

test("the launcher's calls reuse its connections: five lists of four calls each open four", async () => {
  const launcher = new Launcher(proxy.kubeConfigThrough(kubeConfig()), { namespace: ns });
  const opened = await connectionsDuring(async () => {
    for (let i = 0; i < 5; i++) await launcher.list();
  });
  // Each list runs its four calls (Deployments, Services, Pods, Endpoints) at once, so four
  // connections, reused four times.
  expect(opened).toBe(4);
});

test('a launch and its teardown, watches included, work over shared connections', async () => {
  const launcher = new Launcher(proxy.kubeConfigThrough(kubeConfig()), { namespace: ns });
  const opened = await connectionsDuring(async () => {
    const up = await launcher.up({ name: 'reuse', image: 'nginx', ports: [80], owner: { id: 'test', display: 'test' }, origin: 'cli' });
    expect(up.ready).toBe(true);
    await launcher.down('reuse');
  });
  const left = await systemObjects(ns, 'reuse');
  expect(left.deployments).toEqual([]);
  expect(left.services).toEqual([]);
  // Unshared, up and down make at least 20 calls and so 20 connections (bench/REPORT.md counts
  // them). Shared, only calls in flight at once need their own (four, for the four lists each
  // one-shot view starts with, reused by every later call), and watches have connections of
  // their own (so a call never queues behind a watch): up and down each follow the system with
  // four watches, one per kind, and a stopped watch's connection is closed.
  expect(opened).toBeLessThanOrEqual(4 + 4 + 4);
});
