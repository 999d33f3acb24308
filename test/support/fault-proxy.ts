/**
 * A TCP proxy in front of the Kubernetes API server that can fail the way networks do:
 * - cut(): every connection is reset and new ones are refused (API server down);
 * - freeze(): the connections open now stay open but carry nothing more (half-open), while new
 *   ones work;
 * - heal(): back to normal.
 * TLS passes through untouched, so the client still verifies the real server's certificate.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

export class FaultProxy {
  private down = false;
  private readonly pairs = new Set<Pair>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(kc: KubeConfig): Promise<FaultProxy> {
    const u = new URL(kc.getCurrentCluster()!.server);
    const target = { host: u.hostname, port: Number(u.port || 443) };
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new FaultProxy(server, (server.address() as AddressInfo).port);
    server.on('connection', (client) => {
      if (proxy.down) {
        client.resetAndDestroy();
        return;
      }
      const upstream = createConnection(target);
      const pair: Pair = { client, upstream, frozen: false };
      proxy.pairs.add(pair);
      for (const s of [client, upstream]) {
        s.on('error', () => undefined);
        s.on('close', () => {
          proxy.pairs.delete(pair);
          if (!pair.frozen) (s === client ? upstream : client).destroy();
        });
      }
      client.on('data', (chunk: Buffer) => {
        if (!pair.frozen) upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!pair.frozen) client.write(chunk);
      });
    });
    return proxy;
  }

  cut(): void {
    this.down = true;
    for (const p of this.pairs) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
  }

  /** The connections open now go silent without closing, as behind a dead NAT entry. */
  freeze(): number {
    let n = 0;
    for (const p of this.pairs) {
      p.frozen = true;
      n++;
    }
    return n;
  }

  heal(): void {
    this.down = false;
  }

  /** A copy of kc whose cluster is reached through this proxy. */
  kubeConfigThrough(kc: KubeConfig): KubeConfig {
    return kubeConfigThroughPort(kc, this.port);
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A copy of kc whose cluster is reached on another local port: same host name (so the server certificate still matches). */
export function kubeConfigThroughPort(kc: KubeConfig, port: number): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => {
      const u = new URL(c.server);
      u.port = String(port);
      return { ...c, server: u.toString().replace(/\/$/, '') };
    }),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  return out;
}
