/**
 * A counting (and, on demand, delaying) proxy in front of the Kubernetes API server.
 *
 * Each actor (Tycho's server, the CLI, the bare baseline) gets its own port, so every request
 * is counted against whoever made it, by the API server's verbs. The proxy terminates TLS with
 * a certificate of its own (the actor's kubeconfig trusts it) and opens one upstream TLS
 * connection per client connection, so the API server sees the same connections, handshakes
 * and reuse the actor makes. It also counts watches held open, the peak of them, connections
 * opened and the bytes each side sent.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { once } from 'node:events';
import { Agent, createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { closeServer, trackSockets } from '../local/close-server.js';
import { classify, VERBS, type Verb } from './verbs.js';

export interface ActorCounts {
  /** Requests by verb. */
  verbs: Record<Verb, number>;
  /** Requests by "verb resource", e.g. "watch pods". */
  calls: Record<string, number>;
  watchesOpen: number;
  watchesPeak: number;
  /** TLS connections the actor opened to the API server. */
  connections: number;
  /** Bytes of response bodies the actor read from the API server. */
  bytesRead: number;
  /**
   * Response bytes by "verb resource", e.g. "patch configmaps". A write's answer is the object as
   * stored, so for writes this is what each change put in etcd.
   */
  bytesByCall: Record<string, number>;
  /** Requests that failed at the proxy (the API server could not be reached). */
  proxyErrors: number;
}

/** What reset() zeroes: everything counted since, but not the watches open now. */
type Counters = Omit<ActorCounts, 'watchesOpen'>;

interface Actor {
  name: string;
  server: Server;
  port: number;
  delayMs: number;
  /**
   * Replaced by reset(), so a request adds to whichever object is current when it counts
   * something: a watch opened before a reset reads the bytes after it into the new counters.
   */
  counts: Counters;
  /**
   * Watches held open now: a gauge, not a counter, so it lives outside `counts`. A watch opened
   * before a reset and ended after it must close against the same number it opened on.
   */
  watchesOpen: number;
  /** Non-watch requests in flight, and when a request last started or ended. */
  busy: number;
  lastActivity: number;
}

export interface UpstreamTls {
  host: string;
  port: number;
  agentOptions: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized?: boolean; servername?: string };
  /** The upstream identity's headers (Authorization), used instead of the client's. */
  headers: Record<string, string>;
}

const zero = (): Counters => ({
  verbs: Object.fromEntries(VERBS.map((v) => [v, 0])) as Record<Verb, number>,
  calls: {},
  watchesPeak: 0,
  connections: 0,
  bytesRead: 0,
  bytesByCall: {},
  proxyErrors: 0,
});

/** What the proxy needs to reach the API server as the kubeconfig's user. */
export async function upstreamOf(kc: KubeConfig): Promise<UpstreamTls> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const u = new URL(cluster.server);
  const opts: { ca?: Buffer; cert?: Buffer; key?: Buffer; headers?: Record<string, string> } = {};
  await kc.applyToHTTPSOptions(opts as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
  return {
    host: u.hostname,
    port: Number(u.port || 443),
    agentOptions: {
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.cert ? { cert: opts.cert } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    },
    headers: { ...(opts.headers ?? {}) },
  };
}

export class CountingProxy {
  private readonly actors = new Map<string, Actor>();

  constructor(
    private readonly upstream: UpstreamTls,
    private readonly tls: { key: string; cert: string },
  ) {}

  /** Opens a port for one actor; returns it. */
  async addActor(name: string): Promise<number> {
    const server = trackSockets(createServer({ key: this.tls.key, cert: this.tls.cert }));
    // Watches last minutes; client keep-alive must not be cut shorter than the API server would.
    server.keepAliveTimeout = 120_000;
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    const actor: Actor = { name, server, port: 0, delayMs: 0, counts: zero(), watchesOpen: 0, busy: 0, lastActivity: Date.now() };
    // One upstream connection per client connection: the API server sees the client's own pattern.
    const upstreamAgents = new WeakMap<Socket, Agent>();
    server.on('secureConnection', (socket: Socket) => {
      actor.counts.connections += 1;
      const agent = new Agent({ ...this.upstream.agentOptions, keepAlive: true, maxSockets: 1 });
      upstreamAgents.set(socket, agent);
      socket.on('close', () => agent.destroy());
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const agent = upstreamAgents.get(req.socket) ?? new Agent({ ...this.upstream.agentOptions, keepAlive: false });
      this.forward(actor, agent, req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    actor.port = (server.address() as AddressInfo).port;
    this.actors.set(name, actor);
    return actor.port;
  }

  private actor(name: string): Actor {
    const a = this.actors.get(name);
    if (!a) throw new Error(`no actor ${name}`);
    return a;
  }

  private forward(actor: Actor, agent: Agent, req: IncomingMessage, res: ServerResponse): void {
    const { verb, resource } = classify(req.method ?? 'GET', req.url ?? '/');
    // Only for what is counted now: a callback later reads actor.counts again, as reset()
    // replaces it while a watch is open.
    const c = actor.counts;
    c.verbs[verb] += 1;
    const key = `${verb} ${resource}`.trim();
    c.calls[key] = (c.calls[key] ?? 0) + 1;
    const isWatch = verb === 'watch';
    // Leader-election renewals go on every few seconds for ever: counted, but they never make an
    // actor look busy (else "wait until it has settled" would never end).
    const background = resource.startsWith('leases');
    if (!background) actor.lastActivity = Date.now();
    if (isWatch) {
      actor.watchesOpen += 1;
      c.watchesPeak = Math.max(c.watchesPeak, actor.watchesOpen);
    } else if (!background) actor.busy += 1;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (isWatch) actor.watchesOpen -= 1;
      if (background) return;
      actor.lastActivity = Date.now();
      if (!isWatch) actor.busy -= 1;
    };
    res.on('close', end);

    const send = () => {
      if (req.destroyed) return end();
      const headers = { ...req.headers, ...this.upstream.headers, host: `${this.upstream.host}:${this.upstream.port}` };
      const up = httpsRequest({ host: this.upstream.host, port: this.upstream.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        // A watch may send nothing for minutes: its headers must not wait for the first event.
        res.flushHeaders();
        upRes.on('data', (chunk: Buffer) => {
          actor.counts.bytesRead += chunk.length;
          actor.counts.bytesByCall[key] = (actor.counts.bytesByCall[key] ?? 0) + chunk.length;
          res.write(chunk);
        });
        upRes.on('end', () => res.end());
        upRes.on('error', () => res.destroy());
      });
      up.on('error', () => {
        actor.counts.proxyErrors += 1;
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('the benchmark proxy could not reach the API server');
        else res.destroy();
      });
      // A client that gives up (a watch being stopped) ends the upstream request too.
      res.on('close', () => up.destroy());
      req.pipe(up);
    };
    if (actor.delayMs > 0) setTimeout(send, actor.delayMs);
    else send();
  }

  setDelay(name: string, ms: number): void {
    this.actor(name).delayMs = ms;
  }

  counts(name: string): ActorCounts {
    const a = this.actor(name);
    return { ...structuredClone(a.counts), watchesOpen: a.watchesOpen };
  }

  /** Zeroes the counters; the watches open now stay counted, and the peak starts again from them. */
  reset(name: string): void {
    const a = this.actor(name);
    a.counts = { ...zero(), watchesPeak: a.watchesOpen };
  }

  /** True when nothing but watches is in flight and nothing started or ended for `ms`. */
  isQuiet(name: string, ms: number): boolean {
    const a = this.actor(name);
    return a.busy === 0 && Date.now() - a.lastActivity >= ms;
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.actors.values()].map((a) => closeServer(a.server)),
    );
  }
}

/** A copy of kc whose cluster is the proxy's port for one actor, trusting the proxy's certificate. */
export function throughProxy(kc: KubeConfig, port: number, certPem: string): KubeConfig {
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [{ name: 'bench', server: `https://127.0.0.1:${port}`, caData: Buffer.from(certPem).toString('base64'), skipTLSVerify: false }],
    users: kc.users,
    contexts: [{ name: 'bench', cluster: 'bench', user: kc.getCurrentUser()!.name }],
    currentContext: 'bench',
  });
  return out;
}
