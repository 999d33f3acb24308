/**
 * Child process: the counting proxy (counting-proxy.ts), one port per actor. Runs apart from
 * the process that takes the timings, since terminating hundreds of TLS connections costs CPU.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { selfSignedCert } from '../local/kubelet-simulator.js';
import { sleep } from './clock.js';
import { CountingProxy, upstreamOf } from './counting-proxy.js';
import { helperArg, serveParent } from './ipc.js';

export interface ProxyArg {
  /** The real API server, as the upstream identity reaches it. */
  kubeconfigPath: string;
  actors: string[];
}

export interface ProxyReady {
  ports: Record<string, number>;
  /** PEM of the proxy's self-signed certificate, for the actors' kubeconfigs to trust. */
  cert: string;
}

const arg = helperArg<ProxyArg>();
let proxy: CountingProxy | undefined;

void serveParent(
  async (): Promise<ProxyReady> => {
    const kc = new KubeConfig();
    kc.loadFromFile(arg.kubeconfigPath);
    const { key, cert } = await selfSignedCert('tycho-bench-proxy');
    proxy = new CountingProxy(await upstreamOf(kc), { key: key.toString(), cert: cert.toString() });
    const ports: Record<string, number> = {};
    for (const a of arg.actors) ports[a] = await proxy.addActor(a);
    return { ports, cert: cert.toString() };
  },
  {
    counts: (actor: string) => proxy!.counts(actor),
    reset: (actor: string) => proxy!.reset(actor),
    setDelay: ({ actor, ms }: { actor: string; ms: number }) => proxy!.setDelay(actor, ms),
    /** Resolves once the actor has settled: no request but watches in flight for `ms`. */
    quiet: async ({ actor, ms, timeoutMs }: { actor: string; ms: number; timeoutMs: number }) => {
      const deadline = Date.now() + timeoutMs;
      while (!proxy!.isQuiet(actor, ms)) {
        if (Date.now() > deadline) throw new Error(`${actor} kept calling the API server for ${Math.round(timeoutMs / 1000)} s`);
        await sleep(25);
      }
    },
  },
  async () => {
    await proxy?.stop();
  },
);
