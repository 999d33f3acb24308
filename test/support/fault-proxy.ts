/**
 * Proxies in front of the Kubernetes API server that fail the way networks and API servers do.
 *
 * FaultProxy, at the TCP level:
 * - cut(): every connection is reset and new ones are refused (API server down);
 * - freeze(): the connections open now stay open but carry nothing more (half-open), while new
 *   ones work;
 * - heal(): back to normal.
 * TLS passes through untouched, so the client still verifies the real server's certificate.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { once } from 'node:events';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { throughProxy, upstreamOf } from '../../src/bench/counting-proxy.js';
import { classify } from '../../src/bench/verbs.js';
import { closeServer, trackSockets } from '../../src/local/close-server.js';
import { selfSignedCert } from '../../src/local/kubelet-simulator.js';

interface Pair {
  client: Socket;
  upstream: Socket;
  frozen: boolean;
}

export class FaultProxy {
  private down = false;
  /** Connections refused while cut: each is one try of a client (an informer's relist, say) to reach the API server. */
  refused = 0;
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
        proxy.refused++;
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

/**
 * An HTTP-level proxy in front of the API server (it terminates TLS with a certificate of its
 * own, which the kubeconfig it hands out trusts) that can do what only an API server does:
 * - expireOpenWatches(): every watch open now gets the ERROR event an API server sends when the
 *   resourceVersion it resumes from is too old (410 Expired), and ends, as it does;
 * - answerNextWatchesGone(n): the next n watch requests are answered 410 Gone outright;
 * - holdWhen / release(): matching requests wait at the proxy until released, which opens a
 *   window between two calls of a client exactly where a test wants one, without timers;
 * - holdEventsWhen / releaseEvents(): from the first matching event on, a watch's events wait at
 *   the proxy (in order) until released: a cache that lags the API server, as any watcher's may.
 * - answerWhen: a request it matches is answered by the proxy with the status it returns, in the
 *   API server's Status form (a 403 of RBAC, a 503 of an overloaded server), and never sent on.
 * It counts the lists and watches it forwards, so a test can see the re-list that must follow.
 */
export class HttpFaultProxy {
  private readonly open = new Set<{ res: ServerResponse; up: ClientRequest }>();
  private goneNext = 0;
  readonly counts = { lists: 0, watches: 0, expired: 0, answered: 0 };
  /** Requests that match are answered here with this status (and never reach the API server). */
  answerWhen: ((method: string, path: string) => number | undefined) | undefined;
  /** Requests that match are held (not sent on) until release(): a window between two of a client's calls. */
  holdWhen: ((method: string, path: string) => boolean) | undefined;
  private readonly holding: (() => void)[] = [];
  /** Watch events that match are held, with every later event of the same watch, until releaseEvents(). */
  holdEventsWhen: ((path: string, event: { type: string; object: { kind?: string } }) => boolean) | undefined;
  private readonly heldEvents = new Map<ServerResponse, string[]>();

  private constructor(
    private readonly server: HttpsServer,
    private readonly cert: string,
    readonly port: number,
  ) {}

  static async start(kc: KubeConfig): Promise<HttpFaultProxy> {
    const upstream = await upstreamOf(kc);
    const { key, cert } = await selfSignedCert('tycho-test-expiring-proxy');
    const agent = new HttpsAgent({ ...upstream.agentOptions, keepAlive: true });
    const server = trackSockets(createHttpsServer({ key, cert }));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new HttpFaultProxy(server, cert.toString(), (server.address() as AddressInfo).port);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const { verb } = classify(req.method ?? 'GET', req.url ?? '/');
      const status = proxy.answerWhen?.(req.method ?? 'GET', req.url ?? '/');
      if (status !== undefined) {
        proxy.counts.answered++;
        req.resume();
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(failureStatus(status, req.method ?? 'GET', req.url ?? '/')));
        return;
      }
      if (verb === 'list') proxy.counts.lists++;
      if (verb === 'watch') {
        proxy.counts.watches++;
        if (proxy.goneNext > 0) {
          proxy.goneNext--;
          proxy.counts.expired++;
          res.writeHead(410, { 'content-type': 'application/json' }).end(JSON.stringify(expiredStatus()));
          return;
        }
      }
      if (proxy.holdWhen?.(req.method ?? 'GET', req.url ?? '/')) {
        proxy.holding.push(() => proxy.forward(req, res, verb, upstream, agent));
        return;
      }
      proxy.forward(req, res, verb, upstream, agent);
    });
    return proxy;
  }

  /** How many requests are being held now. */
  get held(): number {
    return this.holding.length;
  }

  /** How many watch events are being held now. */
  get eventsHeld(): number {
    let n = 0;
    for (const lines of this.heldEvents.values()) n += lines.length;
    return n;
  }

  /** Delivers the held watch events, in order, and holds no more. */
  releaseEvents(): void {
    this.holdEventsWhen = undefined;
    for (const [res, lines] of this.heldEvents) if (!res.destroyed) res.write(lines.map((l) => `${l}\n`).join(''));
    this.heldEvents.clear();
  }

  /** Sends the held requests on, and holds no more. */
  release(): void {
    this.holdWhen = undefined;
    for (const send of this.holding.splice(0)) send();
  }

  private forward(req: IncomingMessage, res: ServerResponse, verb: string, upstream: Awaited<ReturnType<typeof upstreamOf>>, agent: HttpsAgent): void {
    const headers = { ...req.headers, ...upstream.headers, host: `${upstream.host}:${upstream.port}` };
    const up = httpsRequest({ host: upstream.host, port: upstream.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      res.flushHeaders();
      if (verb === 'watch') this.forwardEvents(req.url ?? '/', upRes, res);
      else upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    if (verb === 'watch') {
      const entry = { res, up };
      this.open.add(entry);
      res.on('close', () => {
        this.open.delete(entry);
        up.destroy();
      });
    }
    req.pipe(up);
  }

  /** A watch's stream, one JSON event per line, each passed on unless holdEventsWhen holds it. */
  private forwardEvents(path: string, upRes: IncomingMessage, res: ServerResponse): void {
    let partial = '';
    upRes.setEncoding('utf8');
    upRes.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        const held = this.heldEvents.get(res);
        if (held || this.holdEventsWhen?.(path, JSON.parse(line) as { type: string; object: { kind?: string } })) {
          if (held) held.push(line);
          else this.heldEvents.set(res, [line]);
        } else res.write(`${line}\n`);
      }
    });
    upRes.on('end', () => res.end(partial));
    upRes.on('error', () => res.destroy());
  }

  /** The watches open now end the way an API server ends one that has fallen too far behind. */
  expireOpenWatches(): number {
    let n = 0;
    for (const w of this.open) {
      w.up.destroy();
      w.res.end(`${JSON.stringify({ type: 'ERROR', object: expiredStatus() })}\n`);
      this.open.delete(w);
      this.counts.expired++;
      n++;
    }
    return n;
  }

  answerNextWatchesGone(n: number): void {
    this.goneNext += n;
  }

  get watchesOpen(): number {
    return this.open.size;
  }

  /** A copy of kc whose cluster is reached through this proxy (trusting its certificate). */
  kubeConfigThrough(kc: KubeConfig): KubeConfig {
    return throughProxy(kc, this.port, this.cert);
  }

  async stop(): Promise<void> {
    await closeServer(this.server);
  }
}

/** A refusal in the API server's words: RBAC's for 403, an overloaded server's otherwise. */
function failureStatus(code: number, method: string, path: string) {
  const reason = code === 403 ? 'Forbidden' : code === 503 ? 'ServiceUnavailable' : code === 429 ? 'TooManyRequests' : 'InternalError';
  const message = code === 403 ? `forbidden: the test's fault proxy refuses ${method} ${path.split('?')[0]}` : `the test's fault proxy answers ${code} to ${method} ${path.split('?')[0]}`;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** What an API server sends when a watch's resourceVersion is older than it keeps history for. */
function expiredStatus() {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 1 (2)', reason: 'Expired', code: 410 };
}
