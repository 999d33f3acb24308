/**
 * Child process: the local control plane with the simulated kubelet, started the way the
 * tests' global setup does, plus extra simulated nodes when the benchmark needs room for more
 * pods than one node fits (64 CPUs: 256 pods that request 250m each). Apart from the timing process, since the simulator works hard
 * while hundreds of pods start.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { startLocalCluster, type LocalCluster } from '../local/local-cluster.js';
import { startNodeSimulator, type NodeSimulator } from '../local/kubelet-simulator.js';
import { helperArg, serveParent } from './ipc.js';

export interface ClusterArg {
  stateDir: string;
  /** Simulated nodes besides the first. */
  extraNodes: number;
}

export interface ClusterReady {
  kubeconfigPath: string;
}

const arg = helperArg<ClusterArg>();
let cluster: LocalCluster | undefined;
const extra: NodeSimulator[] = [];

async function stop(): Promise<void> {
  await Promise.all(extra.splice(0).map((n) => n.stop()));
  await cluster?.stop();
  cluster = undefined;
}

void serveParent(
  async (): Promise<ClusterReady> => {
    cluster = await startLocalCluster({ stateDir: arg.stateDir });
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    for (let i = 0; i < arg.extraNodes; i++) extra.push(await startNodeSimulator(kc, { nodeName: `tycho-sim-node-${i + 2}` }));
    return { kubeconfigPath: cluster.kubeconfigPath };
  },
  {},
  stop,
);
