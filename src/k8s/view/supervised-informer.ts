/**
 * One kind of object in a namespace, cached and kept in step with the API server by list and
 * watch, and kept alive. Not client-node's ListWatch: it caches objects whole, lists in one
 * request, builds a second cache beside the first on every restart, re-opens a watch the other
 * end ended at once straight away (again and again), and on its own emits one `error` when the
 * server goes away and never retries. This informer:
 * - lists in pages (`limit`/`continue`, PAGE_SIZE objects each), so a relist of thousands of
 *   objects is never one giant answer, and slims every object (slim.ts: no managedFields, only
 *   what Tycho reads) before it enters the cache, from a list page or a watch event alike;
 * - keeps one cache, and a relist updates it in place, page by page: a listed object replaces
 *   the version held, objects the list no longer has go once its last page is in. At most the
 *   cache plus one page, never two caches. The trade-off: during a relist, reads see the new
 *   versions of the pages already listed and the held versions of the rest (each object as
 *   recent as its page), and an object deleted while the watch was down until the last page;
 *   two caches would let reads see either the whole old state or the whole new one, at twice the
 *   memory while the relist lasts;
 * - after a failed watch, resumes from the last resourceVersion it saw (no relist); relists only
 *   when the API server says that version is gone (410) or refused the informer;
 * - re-opens a watch that ended on its own (its timeoutSeconds) at once, but one that ended
 *   within STEADY_MS of opening counts as a failure: a server or proxy that keeps ending watches
 *   at once meets the same growing wait as one that refuses them, instead of a spin;
 * - restarts after a failure with exponential backoff and jitter;
 * - treats 401/403 as fatal: it reports the refusal at once (retrying soon cannot help), and tries
 *   again (a full list) only after the longest backoff, since an operator may fix the RBAC while
 *   it runs;
 * - bounds every watch with `timeoutSeconds`, and restarts any request older than that plus a
 *   margin (a half-open connection never ends on its own);
 * - tracks "synced": true once a whole list has been applied; reads answer nothing before;
 * - numbers every attempt, and ignores what an older one still delivers (the error its own abort
 *   raises, a page of a list it gave up on), and ends a watch that was still opening when it was
 *   given up: client-node hands back the request only once its response has begun, and a stopped
 *   view must leave nothing open on the API server.
 */
import { Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { backoffMs } from '../../concurrency.js';

export interface ListPage {
  limit: number;
  _continue?: string;
}

export interface SupervisedInformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** e.g. /api/v1/namespaces/NS/pods */
  path: string;
  labelSelector: string;
  /** One page of the list. Must repeat the label selector (it is the watch's too). */
  list: (page: ListPage) => Promise<KubernetesListObject<T>>;
  /** What the cache keeps of an object (slim.ts); the object as sent when absent. */
  slim?: (obj: T) => T;
  /** Called after any change, with the changed object. Never allowed to throw into the informer. */
  onChange: (obj: T, verb: 'add' | 'update' | 'delete') => void;
  /** Called when a whole list has been applied: everything in the cache may have changed. */
  onResync: () => void;
  /** Called on a fatal refusal (401/403), with what the server said. */
  onFatal: (err: unknown, status: number) => void;
  watchTimeoutSeconds?: number;
  /** Longest wait between restarts (30 s; tests make it short). */
  backoffMaxMs?: number;
  /** Objects per list page (PAGE_SIZE). */
  pageSize?: number;
  /** Reports restarts (for logs); the informer already handles them. */
  onRestart?: (why: string, delayMs: number) => void;
}

const BACKOFF_START_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** client-go's reflector pages its lists by 500 too. */
export const PAGE_SIZE = 500;
/** A watch that ended sooner than this after it opened was ended, not timed out: a failure. */
export const STEADY_MS = 1_000;

export function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  const s = e?.statusCode ?? e?.code;
  return typeof s === 'number' ? s : undefined;
}

/** An ERROR event of a watch, as an error carrying the status it names. */
class WatchErrorEvent extends Error {
  constructor(
    message: string,
    readonly statusCode: number | undefined,
  ) {
    super(message);
  }
}

export class SupervisedInformer<T extends KubernetesObject> {
  /** The one cache, by namespace/name. */
  private readonly store = new Map<string, T>();
  /** The current attempt: anything an older one delivers is ignored. */
  private attempt = 0;
  private request: AbortController | undefined;
  /** Where the watch resumes; empty: list first. */
  private resourceVersion = '';
  /** When the request in flight (a list page or the watch) began; 0 while none is. */
  private busySince = 0;
  private stopped = true;
  private fatal = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly timeoutSeconds: number;
  private readonly slim: (obj: T) => T;
  private readonly syncedOnce: Promise<void>;
  private resolveSynced!: () => void;
  synced = false;

  constructor(private readonly o: SupervisedInformerOptions<T>) {
    this.timeoutSeconds = o.watchTimeoutSeconds ?? 300;
    this.slim = o.slim ?? ((x) => x);
    this.syncedOnce = new Promise((r) => (this.resolveSynced = r));
  }

  /** The cached objects; none before the first whole list. */
  list(): readonly T[] {
    return this.synced ? [...this.store.values()] : [];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.synced ? this.store.get(`${namespace ?? ''}/${name}`) : undefined;
  }

  /** Resolves once the first list has succeeded (never rejects; check `fatal` via onFatal). */
  whenSynced(): Promise<void> {
    return this.syncedOnce;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.fatal = false;
    this.launch();
    // A request older than the watch's timeout plus a margin is half-open: the server would have ended it.
    const marginMs = Math.max(5_000, this.timeoutSeconds * 200);
    this.watchdog = setInterval(() => {
      if (this.busySince && Date.now() - this.busySince > this.timeoutSeconds * 1000 + marginMs) {
        this.restart('a request outlived the watch timeout (half-open connection?)', 0);
      }
    }, Math.min(marginMs, 5_000));
    this.watchdog.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdog);
    this.abandon();
  }

  private launch(): void {
    if (this.stopped || this.fatal) return;
    const attempt = ++this.attempt;
    void this.run(attempt);
  }

  private async run(attempt: number): Promise<void> {
    try {
      if (!this.resourceVersion) await this.relist(attempt);
      if (attempt !== this.attempt) return;
      await this.watch(attempt);
    } catch (err) {
      if (attempt === this.attempt) this.failed(err);
    }
  }

  /** Lists page by page into the one cache; then drops what the list no longer has. */
  private async relist(attempt: number): Promise<void> {
    const first = !this.synced;
    const seen = new Set<string>();
    let next: string | undefined;
    let version = '';
    do {
      this.busySince = Date.now();
      const page = await this.o.list({ limit: this.o.pageSize ?? PAGE_SIZE, ...(next ? { _continue: next } : {}) });
      if (attempt !== this.attempt) return;
      this.busySince = 0;
      for (const item of page.items ?? []) {
        const obj = this.slim(item);
        const key = keyOf(obj);
        seen.add(key);
        // The first list is announced as a whole, by onResync.
        this.put(key, obj, !first);
      }
      version = page.metadata?.resourceVersion ?? '';
      next = page.metadata?._continue || undefined;
    } while (next);
    for (const [key, obj] of this.store) {
      if (seen.has(key)) continue;
      this.store.delete(key);
      if (!first) this.changed(obj, 'delete');
    }
    this.resourceVersion = version;
    this.synced = true;
    this.resolveSynced();
    this.safe(() => this.o.onResync());
  }

  private async watch(attempt: number): Promise<void> {
    const opened = Date.now();
    this.busySince = opened;
    let refused: unknown;
    const query = { resourceVersion: this.resourceVersion, labelSelector: this.o.labelSelector, timeoutSeconds: this.timeoutSeconds, allowWatchBookmarks: true };
    const request = await new Watch(this.o.kc).watch(
      this.o.path,
      query,
      (type: string, obj: unknown) => {
        if (attempt !== this.attempt) return;
        if (type === 'ERROR') {
          const status = obj as { code?: number; message?: string } | undefined;
          // The version it resumed from is gone (410): list again. Anything else ends this watch as a failure.
          if (status?.code === 410) this.resourceVersion = '';
          else refused = new WatchErrorEvent(status?.message ?? 'the watch reported an error', status?.code);
          return;
        }
        this.event(type, obj as T);
      },
      (err: unknown) => {
        if (attempt !== this.attempt) return; // given up already (our own abort, a restart)
        this.request = undefined;
        this.busySince = 0;
        this.ended(err ?? refused, Date.now() - opened);
      },
    );
    // Given up while its response was on its way: nothing else would end it.
    if (attempt !== this.attempt) request.abort();
    else this.request = request;
  }

  private event(type: string, raw: T): void {
    const version = raw?.metadata?.resourceVersion;
    if (type === 'ADDED' || type === 'MODIFIED') {
      const obj = this.slim(raw);
      this.put(keyOf(obj), obj, true);
    } else if (type === 'DELETED') {
      const obj = this.slim(raw);
      const key = keyOf(obj);
      if (this.store.delete(key)) this.changed(obj, 'delete');
    }
    // BOOKMARK: nothing changed but the version to resume from.
    if (version) this.resourceVersion = version;
  }

  /** Holds obj under key unless the held one is the same version; announces a change when told. */
  private put(key: string, obj: T, announce: boolean): void {
    const held = this.store.get(key);
    const version = obj.metadata?.resourceVersion;
    if (held && version !== undefined && held.metadata?.resourceVersion === version) return;
    this.store.set(key, obj);
    if (announce) this.changed(obj, held ? 'update' : 'add');
  }

  private changed(obj: T, verb: 'add' | 'update' | 'delete'): void {
    this.safe(() => this.o.onChange(obj, verb));
  }

  /** A handler must never end the process; the next resync repairs what it missed. */
  private safe(f: () => void): void {
    try {
      f();
    } catch {
      // see above
    }
  }

  /** The watch ended: on its own (re-open it), too soon (back off), or with an error. */
  private ended(err: unknown, lastedMs: number): void {
    const steady = lastedMs >= STEADY_MS;
    if (steady) this.failures = 0;
    if (err && statusOf(err) === 410) this.resourceVersion = '';
    else if (err) return this.failed(err);
    if (steady) return this.launch();
    this.failures++;
    this.restart(`the watch ended ${lastedMs} ms after it opened`, this.backoff());
  }

  private failed(err: unknown): void {
    const status = statusOf(err);
    if (status === 401 || status === 403) {
      this.fatal = true;
      this.abandon();
      // Listed again once allowed: what changed meanwhile was never seen.
      this.resourceVersion = '';
      this.o.onFatal(err, status);
      clearTimeout(this.restartTimer);
      this.restartTimer = setTimeout(() => {
        this.fatal = false;
        this.launch();
      }, this.o.backoffMaxMs ?? BACKOFF_MAX_MS);
      return;
    }
    this.failures++;
    this.restart(`watch failed: ${describeError(err)}`, this.backoff());
  }

  private backoff(): number {
    const base = backoffMs(this.failures - 1, BACKOFF_START_MS, this.o.backoffMaxMs ?? BACKOFF_MAX_MS);
    return base / 2 + Math.random() * (base / 2);
  }

  /** Gives up the current attempt: whatever it still delivers is ignored, its request ended. */
  private abandon(): void {
    this.attempt++;
    this.busySince = 0;
    const r = this.request;
    this.request = undefined;
    r?.abort();
  }

  private restart(why: string, delayMs: number): void {
    if (this.stopped) return;
    this.abandon();
    clearTimeout(this.restartTimer);
    this.o.onRestart?.(why, delayMs);
    this.restartTimer = setTimeout(() => this.launch(), delayMs);
  }
}

function keyOf(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
