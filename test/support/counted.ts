/**
 * A counting proxy (the benchmark's, src/bench/counting-proxy.ts) in front of the test cluster
 * for one actor, and a kubeconfig that reaches the cluster through it: every request that actor
 * makes is counted by verb and resource, and its watches held open.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { CountingProxy, throughProxy, upstreamOf } from '../../src/bench/counting-proxy.js';
import { selfSignedCert } from '../../src/local/kubelet-simulator.js';
import { kubeConfig } from './cluster.js';

export async function countingProxyFor(actor: string): Promise<{ proxy: CountingProxy; kc: KubeConfig }> {
  const admin = kubeConfig();
  const { key, cert } = await selfSignedCert('tycho-test-proxy');
  const proxy = new CountingProxy(await upstreamOf(admin), { key: key.toString(), cert: cert.toString() });
  const port = await proxy.addActor(actor);
  return { proxy, kc: throughProxy(admin, port, cert.toString()) };
}
