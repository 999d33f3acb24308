/** Stops the cluster global-setup.ts started (nothing to do for TYCHO_TEST_KUBECONFIG). */
import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  const cluster = globalThis.__tychoTestCluster;
  if (!cluster) return;
  globalThis.__tychoTestCluster = undefined;
  await cluster.stop();
  // Set TYCHO_TEST_KEEP_STATE=1 to keep etcd data and the control plane's logs for a post-mortem.
  if (!process.env.TYCHO_TEST_KEEP_STATE) await rm(cluster.stateDir, { recursive: true, force: true });
}
