/**
 * A whole local Kubernetes: the real control plane plus the simulated node. Used by the tests'
 * global setup, by `node dist/local/cli.js start`, and by `npm start` when no cluster is set.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';
import { startNodeSimulator } from './kubelet-simulator.js';
import { startIngressSimulator } from './ingress-simulator.js';
import { localClusterDir } from './paths.js';

export { localKubeconfigPath, localClusterDir } from './paths.js';
export { IMAGE_CONVENTIONS } from './kubelet-simulator.js';
export type { StaticTokenUser } from './control-plane.js';

export interface LocalClusterOptions extends Omit<ControlPlaneOptions, 'stateDir'> {
  /** Default: `<cache>/tycho/local/state`, reused across restarts so launched apps survive. */
  stateDir?: string;
  nodeName?: string;
}

/** The control plane's handle; stop() also stops the simulated node and ingress controller. */
export interface LocalCluster extends ControlPlane {
  /** host:port of the simulated ingress controller (TYCHO_INGRESS_ADDRESS for Tycho). */
  ingressAddress: string;
}

export async function startLocalCluster(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
  const log = opts.log ?? (() => {});
  const cp = await startControlPlane({ ...opts, stateDir: opts.stateDir ?? join(localClusterDir(), 'state') });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  let sim;
  let ingressSim;
  try {
    sim = await startNodeSimulator(kc, { nodeName: opts.nodeName, log: (l) => log(`[node] ${l}`) });
    ingressSim = await startIngressSimulator(kc, { log: (l) => log(`[ingress] ${l}`) });
  } catch (err) {
    await sim?.stop();
    await cp.stop();
    throw err;
  }
  const node = sim;
  const ingress = ingressSim;
  return {
    ingressAddress: ingress.address,
    kubeconfigPath: cp.kubeconfigPath,
    server: cp.server,
    caFile: cp.caFile,
    adminToken: cp.adminToken,
    stateDir: cp.stateDir,
    nodePortRange: cp.nodePortRange,
    async stop() {
      await ingress.stop();
      await node.stop();
      await cp.stop();
    },
  };
}
