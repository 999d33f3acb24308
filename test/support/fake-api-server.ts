/**
 * A stand-in API server (plain HTTP) for the live view's unit tests: it serves list and watch of
 * whatever collections a test fills, the way kube-apiserver does, so the view's own client-node
 * calls run unchanged against it:
 * - a list honours `limit` and `continue` (pages in name order) and says its resourceVersion;
 * - a watch replays the changes after the resourceVersion it asks for, then streams new ones;
 * - `watchMode = 'close'` ends every new watch as soon as it opens (a proxy or server that keeps
 *   closing them); `endWatches()` ends the open ones, with the ERROR 410 an API server sends
 *   when it has expired the version a watch resumes from;
 * - `holdListsWhen`: matching list requests wait until `releaseLists()`, a window between two
 *   pages of one list exactly where a test wants it.
 * Every request is recorded, so a test sees what was asked and how.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { kubeConfigAt } from './kubeconfig-at.js';

export interface RecordedRequest {
  path: string;
  query: URLSearchParams;
  watch: boolean;
  /** For a list: how many items the answer carried. */
  items?: number;
  acceptEncoding: string;
}

interface Change {
  rv: number;
  path: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubernetesObject;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  watchMode: 'stream' | 'close' = 'stream';
  /** Lists are gzipped for a client that accepts it (kube-apiserver does so above 128 KiB). */
  gzipLists = false;
  /** Lists are refused with this status (a Status body in the API server's words), e.g. 403. */
  refuseListsWith: number | undefined;
  holdListsWhen: ((path: string, query: URLSearchParams) => boolean) | undefined;
  private readonly heldLists: (() => void)[] = [];
  private rv = 100;
  private readonly collections = new Map<string, Map<string, KubernetesObject>>();
  private readonly changes: Change[] = [];
  private readonly watches = new Set<{ path: string; res: ServerResponse }>();
  readonly kc: KubeConfig;

  private constructor(private readonly server: Server) {
    this.kc = kubeConfigAt(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  static async start(): Promise<FakeApiServer> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const api = new FakeApiServer(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => api.answer(req, res));
    return api;
  }

  /** Lists and watches of this collection path (e.g. /api/v1/namespaces/NS/pods) so far. */
  lists(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && !r.watch);
  }

  watchRequests(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && r.watch);
  }

  get heldListCount(): number {
    return this.heldLists.length;
  }

  /** Adds or replaces an object (a new resourceVersion), and tells the open watches. */
  put(path: string, object: KubernetesObject): void {
    const name = object.metadata!.name!;
    let c = this.collections.get(path);
    if (!c) this.collections.set(path, (c = new Map()));
    const rv = ++this.rv;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    const type = c.has(name) ? 'MODIFIED' : 'ADDED';
    c.set(name, stored);
    this.record({ rv, path, type, object: stored });
  }

  remove(path: string, name: string): void {
    const c = this.collections.get(path);
    const old = c?.get(name);
    if (!c || !old) return;
    c.delete(name);
    const rv = ++this.rv;
    this.record({ rv, path, type: 'DELETED', object: { ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } } });
  }

  /** Ends the open watches (of one path, or all): with ERROR 410 Expired, as an API server does, plainly, or by cutting the connection. */
  endWatches(how: 'expired' | 'close' | 'cut', path?: string): number {
    let n = 0;
    for (const w of [...this.watches]) {
      if (path && w.path !== path) continue;
      this.watches.delete(w);
      n++;
      if (how === 'expired') w.res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version' } })}\n`);
      else if (how === 'cut') w.res.socket?.destroy();
      else w.res.end();
    }
    return n;
  }

  openWatches(path?: string): number {
    return [...this.watches].filter((w) => !path || w.path === path).length;
  }

  /** Sends the held lists on; unless told to keep holding, holds no more. */
  releaseLists(keepHolding = false): void {
    if (!keepHolding) this.holdListsWhen = undefined;
    for (const go of this.heldLists.splice(0)) go();
  }

  async stop(): Promise<void> {
    this.releaseLists();
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private record(change: Change): void {
    this.changes.push(change);
    for (const w of this.watches) if (w.path === change.path) w.res.write(`${JSON.stringify({ type: change.type, object: change.object })}\n`);
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const query = url.searchParams;
    const watch = query.get('watch') === 'true';
    const recorded: RecordedRequest = { path, query, watch, acceptEncoding: String(req.headers['accept-encoding'] ?? '') };
    this.requests.push(recorded);
    req.resume();
    if (watch) return this.serveWatch(path, query, res);
    const go = () => this.serveList(path, query, res, recorded);
    if (this.holdListsWhen?.(path, query)) this.heldLists.push(go);
    else go();
  }

  private serveList(path: string, query: URLSearchParams, res: ServerResponse, recorded: RecordedRequest): void {
    const all = [...(this.collections.get(path)?.values() ?? [])].sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    const from = Number(query.get('continue') || '0');
    const limit = Number(query.get('limit') || '0');
    const items = limit > 0 ? all.slice(from, from + limit) : all.slice(from);
    const next = limit > 0 && from + limit < all.length ? String(from + limit) : undefined;
    if (this.refuseListsWith) {
      const kind = path.split('/').pop();
      res.writeHead(this.refuseListsWith, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: this.refuseListsWith, reason: 'Forbidden', message: `${kind} is forbidden: User "system:serviceaccount:scale:tycho" cannot list resource "${kind}" in API group "" in the namespace "scale"` }));
      return;
    }
    recorded.items = items.length;
    const body = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv), ...(next ? { continue: next } : {}) }, items });
    if (this.gzipLists && recorded.acceptEncoding.includes('gzip')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(body));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  }

  private serveWatch(path: string, query: URLSearchParams, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (this.watchMode === 'close') {
      res.end();
      return;
    }
    const since = Number(query.get('resourceVersion') || '0');
    for (const c of this.changes) if (c.path === path && c.rv > since) res.write(`${JSON.stringify({ type: c.type, object: c.object })}\n`);
    const w = { path, res };
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
  }
}
