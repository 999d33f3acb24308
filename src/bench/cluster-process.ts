/**
 * Child process: the local control plane with the simulated kubelet, started the way the
 * tests' global setup does, plus extra simulated nodes when the benchmark needs room for more
 * pods than one node fits (64 CPUs: 256 pods that request 250m each; 500 pods at most), at the
 * start or later (`addNodes`: the memory-at-scale step needs room for thousands of small pods). Apart
 * from the timing process, since the simulator works hard while hundreds of pods start.
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

let kc: KubeConfig | undefined;

/** Starts `n` more simulated nodes; answers how many there are now (the first one included). */
async function addNodes(n: number): Promise<number> {
  for (let i = 0; kc && i < n; i++) extra.push(await startNodeSimulator(kc, { nodeName: `tycho-sim-node-${extra.length + 2}` }));
  return extra.length + 1;
}

void serveParent(
  async (): Promise<ClusterReady> => {
    cluster = await startLocalCluster({ stateDir: arg.stateDir });
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    await addNodes(arg.extraNodes);
    return { kubeconfigPath: cluster.kubeconfigPath };
  },
  { addNodes },
  stop,
);
