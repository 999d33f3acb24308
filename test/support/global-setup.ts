/**
 * Jest global setup: gives every test a real Kubernetes API.
 * - TYCHO_TEST_KUBECONFIG set: that cluster is used as it is (no simulator).
 * - Otherwise a private local cluster (control plane + simulated node) starts under the
 *   OS temp dir. Its coordinates go into process.env, which the jest workers inherit.
 * If the cluster cannot start this throws, so the run fails instead of skipping tests.
 */
import type { Config } from 'jest';
import { mkdtemp } from 'node:fs/promises';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LocalCluster } from '../../src/local/local-cluster.js';

declare global {
  // Shared with global-teardown.ts, which jest runs in the same process.
  var __tychoTestCluster: LocalCluster | undefined;
}

type ProjectConfig = { rootDir: string };

export default async function globalSetup(_global: Config, project: ProjectConfig): Promise<void> {
  const external = process.env.TYCHO_TEST_KUBECONFIG;
  if (external) {
    process.env.KUBECONFIG = external;
    process.env.TYCHO_TEST_SIMULATED = '0';
    return;
  }
  // Node, not jest, loads this file, so TypeScript imports go through ts-loader.mjs.
  register(pathToFileURL(join(project.rootDir, 'test/support/ts-loader.mjs')));
  const { startLocalCluster } = (await import('../../src/local/local-cluster.js')) as typeof import('../../src/local/local-cluster.js');
  const stateDir = await mkdtemp(join(tmpdir(), 'tycho-test-k8s-'));
  const t0 = Date.now();
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({ stateDir });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`Could not start the local Kubernetes for the tests (logs in ${join(stateDir, 'logs')}):\n${why}`);
  }
  globalThis.__tychoTestCluster = cluster;
  // Tests never touch whatever cluster the developer's own KUBECONFIG points at.
  process.env.KUBECONFIG = cluster.kubeconfigPath;
  process.env.TYCHO_TEST_KUBECONFIG_ADMIN_TOKEN = cluster.adminToken;
  process.env.TYCHO_TEST_K8S_SERVER = cluster.server;
  process.env.TYCHO_TEST_K8S_CA_FILE = cluster.caFile;
  process.env.TYCHO_TEST_K8S_STATE_DIR = cluster.stateDir;
  process.env.TYCHO_TEST_SIMULATED = '1';
  // The simulated ingress controller: what TYCHO_INGRESS_ADDRESS is in tests that use Ingresses.
  process.env.TYCHO_TEST_INGRESS_ADDRESS = cluster.ingressAddress;
  // The NodePorts this cluster hands out (another local cluster on the machine has others).
  process.env.TYCHO_TEST_NODEPORT_RANGE = cluster.nodePortRange;
  process.stderr.write(`\n[tycho-test] local Kubernetes up in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${cluster.server} (state ${stateDir})\n`);
}
