/**
 * A TCP proxy in front of the Kubernetes API server that holds back everything the server
 * sends until the test opens the gate: Kubernetes made as slow as a test wants, without
 * timers. TLS passes through untouched (the proxy never decrypts), so the client still
 * verifies the real server's certificate.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeConfigThroughPort } from '../support/fault-proxy.js';
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class GatedProxy {
  /** Connections the client (Tycho) opened to Kubernetes through the proxy. */
  connections = 0;
  /** Bytes from the client that reached the API server (requests, handshakes). */
  bytesToServer = 0;
  /** Bytes from the API server delivered to the client: 0 means no Kubernetes call has finished. */
  bytesToClient = 0;
  private open = false;
  private readonly held: { socket: Socket; chunk: Buffer }[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<GatedProxy> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new GatedProxy(server, (server.address() as AddressInfo).port);
    server.on('connection', (client) => {
      proxy.connections += 1;
      const upstream = createConnection(target);
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => {
        proxy.bytesToServer += chunk.length;
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (proxy.open) proxy.deliver(client, chunk);
        else proxy.held.push({ socket: client, chunk });
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => {
        // Only pass the close on once what was held has gone out.
        if (proxy.open) client.end();
        else proxy.held.push({ socket: client, chunk: Buffer.alloc(0) });
      });
    });
    return proxy;
  }

  private deliver(socket: Socket, chunk: Buffer): void {
    if (chunk.length === 0) {
      socket.end();
      return;
    }
    this.bytesToClient += chunk.length;
    socket.write(chunk);
  }

  /** Lets the API server's answers through, the held ones first. */
  release(): void {
    this.open = true;
    for (const { socket, chunk } of this.held.splice(0)) this.deliver(socket, chunk);
  }

  /** A copy of kc whose cluster is reached through this proxy. */
  kubeConfigThrough(kc: KubeConfig): KubeConfig {
    return kubeConfigThroughPort(kc, this.port);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Where kc's current cluster listens. */
export function apiServerAddress(kc: KubeConfig): { host: string; port: number } {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('the kubeconfig has no current cluster');
  const u = new URL(server);
  return { host: u.hostname, port: Number(u.port || 443) };
}
