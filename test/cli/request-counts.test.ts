/**
 * What one CLI command asks of the API server, counted by a proxy in front of it (the
 * benchmark's, src/bench/counting-proxy.ts). The CLI follows the one system it launches or tears
 * down with one watch, as `kubectl wait` does, instead of listing and watching every kind of
 * object of it:
 * - `up` (waiting, the default): the Deployment and Service creates, one watch of the system's
 *   pods, and the URL check's record, and its audit Event: 5 requests, and its URL answers when it says Ready;
 * - `down`: one conditional patch that records who asked (and proves the Deployment is Tycho's),
 *   the delete, one watch of that Deployment until it is gone, and its audit Event: 4 requests.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActorCounts, CountingProxy } from '../../src/bench/counting-proxy.js';
import { ANN_URL_CHECK } from '../../src/k8s/labels.js';
import { countingProxyFor } from '../support/counted.js';
import { createTestNamespace, systemObjects, waitFor } from '../support/cluster.js';
import { openUrl } from '../support/open-url.js';
import { tycho } from './run-cli.js';

let proxy: CountingProxy;
let ns: string;
let kubeconfigPath: string;

beforeAll(async () => {
  ns = await createTestNamespace('cli-counts');
  const counted = await countingProxyFor('cli');
  proxy = counted.proxy;
  kubeconfigPath = join(await mkdtemp(join(tmpdir(), 'tycho-cli-counts-')), 'kubeconfig');
  await writeFile(kubeconfigPath, counted.kc.exportConfig());
});

afterAll(async () => {
  await proxy?.stop();
});

const cli = (args: string[]) => tycho(args, { KUBECONFIG: kubeconfigPath, TYCHO_NAMESPACE: ns, TYCHO_OWNER: 'carol' });

function total(c: ActorCounts): number {
  return Object.values(c.calls).reduce((a, b) => a + b, 0);
}

/** Runs one CLI command and gives what it asked of the API server. */
async function counted(args: string[]): Promise<{ code: number; stdout: string; counts: ActorCounts }> {
  proxy.reset('cli');
  const r = await cli(args);
  return { code: r.code, stdout: r.stdout, counts: proxy.counts('cli') };
}

it('up makes at most 5 API requests (and says Ready only once the URL answers); down at most 4', async () => {
  const up = await counted(['up', '-n', 'counted-cli', '-c', 'nginx', '-p', '80']);
  expect(up.code).toBe(0);
  const url = up.stdout.trim();
  expect(await openUrl(url)).toMatchObject({ status: 200 });
  expect(up.counts.calls).toEqual({ 'watch pods': 1, 'create deployments': 1, 'create services': 1, 'patch deployments': 1, 'create events': 1 });
  expect(total(up.counts)).toBeLessThanOrEqual(5);
  // Nothing left open behind it (the proxy hears of the closed connection a moment later).
  await waitFor(() => proxy.counts('cli').watchesOpen === 0, { what: "the CLI's watch to be closed" });
  // The URL check is recorded, as a server's launch records it.
  const { deployments } = await systemObjects(ns, 'counted-cli');
  expect(JSON.parse(deployments[0]!.metadata!.annotations![ANN_URL_CHECK]!)).toMatchObject({ verified: true });

  const down = await counted(['down', 'counted-cli']);
  expect([down.code, down.stdout]).toEqual([0, 'Deleted system counted-cli\n']);
  expect(down.counts.calls).toEqual({ 'patch deployments': 1, 'delete deployments': 1, 'watch deployments': 1, 'create events': 1 });
  expect(total(down.counts)).toBeLessThanOrEqual(4);
  await waitFor(() => proxy.counts('cli').watchesOpen === 0, { what: "the CLI's watch to be closed" });
  // Gone when it says so: the Deployment, its Service and its pods.
  expect(await systemObjects(ns, 'counted-cli')).toEqual({ deployments: [], replicaSets: [], services: [], pods: [] });
});
