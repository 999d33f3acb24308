/**
 * client-node's ListWatch, kept alive. On its own it emits one `error` when the server goes
 * away and never retries, its `stop()` emits an `error` too, `start()` resolves even when the
 * list failed, and a watch that went half-open is never noticed. This wrapper:
 * - restarts a failed informer with exponential backoff and jitter;
 * - treats 401/403 as fatal: it reports the refusal at once (retrying soon cannot help), and tries
 *   again only after the longest backoff, since an operator may fix the RBAC while it runs;
 * - bounds every watch with `timeoutSeconds`, and restarts any stream older than that plus a
 *   margin (a half-open connection never ends on its own);
 * - tracks "synced" itself: true once a list has really succeeded;
 * - builds a fresh ListWatch on every restart and ignores errors from the old one, so the error
 *   its own `stop()` raises is never mistaken for a new failure. Reads keep going to the last
 *   synced instance until the new one has listed, so the cache never looks empty in between;
 * - ends the watch a stopped instance was still opening: ListWatch's `stop()` aborts only the
 *   request it already holds, so one still waiting for its response would stay open on the API
 *   server until its timeout (a view stopped right after it synced left all its watches behind).
 */
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';

export interface SupervisedInformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** e.g. /api/v1/namespaces/NS/pods */
  path: string;
  labelSelector: string;
  /** Must repeat the label selector: ListWatch does not pass it to the list. */
  list: () => Promise<KubernetesListObject<T>>;
  /** Called after any change, with the changed object. Never allowed to throw into client-node. */
  onChange: (obj: T, verb: 'add' | 'update' | 'delete') => void;
  /** Called when a fresh instance has synced: everything in the cache may have changed. */
  onResync: () => void;
  /** Called on a fatal refusal (401/403), with what the server said. */
  onFatal: (err: unknown, status: number) => void;
  watchTimeoutSeconds?: number;
  /** Longest wait between restarts (30 s; tests make it short). */
  backoffMaxMs?: number;
  /** Reports restarts (for logs); the wrapper already handles them. */
  onRestart?: (why: string, delayMs: number) => void;
}

const BACKOFF_START_MS = 250;
const BACKOFF_MAX_MS = 30_000;

/**
 * A Watch whose every request carries a server-side timeout, and asks for bookmarks. Once
 * retired it opens nothing more, and aborts a request that was still opening as soon as it opens.
 */
class BoundedWatch extends Watch {
  private retired = false;

  constructor(
    kc: KubeConfig,
    private readonly timeoutSeconds: number,
  ) {
    super(kc);
  }

  override async watch(path: string, queryParams: Record<string, unknown>, callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    if (this.retired) return abortedController();
    const request = await super.watch(path, { ...queryParams, timeoutSeconds: this.timeoutSeconds, allowWatchBookmarks: true }, callback, done);
    // Its ListWatch was stopped while this waited for the response, so nothing else will end it.
    if (this.retired) request.abort();
    return request;
  }

  retire(): void {
    this.retired = true;
  }
}

/**
 * A ListWatch whose stop() also ends the watch it was still opening (see BoundedWatch). The
 * supervisor never starts an instance again once stopped: it builds a new one.
 */
class SupervisedListWatch<T extends KubernetesObject> extends ListWatch<T> {
  constructor(
    path: string,
    private readonly bounded: BoundedWatch,
    list: () => Promise<KubernetesListObject<T>>,
    labelSelector: string,
  ) {
    super(path, bounded, list, false, labelSelector);
  }

  override async stop(): Promise<void> {
    this.bounded.retire();
    await super.stop();
  }
}

function abortedController(): AbortController {
  const c = new AbortController();
  c.abort();
  return c;
}

export function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  const s = e?.statusCode ?? e?.code;
  return typeof s === 'number' ? s : undefined;
}

export class SupervisedInformer<T extends KubernetesObject> {
  private serving: ListWatch<T> | undefined;
  private current: ListWatch<T> | undefined;
  private stopped = true;
  private fatal = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private streamStartedAt = 0;
  private readonly timeoutSeconds: number;
  private syncedOnce: Promise<void>;
  private resolveSynced!: () => void;
  synced = false;

  constructor(private readonly o: SupervisedInformerOptions<T>) {
    this.timeoutSeconds = o.watchTimeoutSeconds ?? 300;
    this.syncedOnce = new Promise((r) => (this.resolveSynced = r));
  }

  /** Objects of the last instance that listed successfully. */
  list(): readonly T[] {
    return this.serving?.list() ?? [];
  }

  get(name: string, namespace?: string): T | undefined {
    return this.serving?.get(name, namespace);
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
    // A stream older than its timeout plus a margin is half-open: the server would have ended it.
    const marginMs = Math.max(5_000, this.timeoutSeconds * 200);
    this.watchdog = setInterval(() => {
      if (this.current && this.streamStartedAt && Date.now() - this.streamStartedAt > this.timeoutSeconds * 1000 + marginMs) {
        this.restart('watch stream outlived its timeout (half-open connection?)', 0);
      }
    }, Math.min(marginMs, 5_000));
    this.watchdog.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.watchdog);
    const lw = this.current;
    this.current = undefined;
    await lw?.stop();
  }

  private launch(): void {
    if (this.stopped || this.fatal) return;
    let listed = false;
    const list = async () => {
      const l = await this.o.list();
      if (!listed) {
        listed = true;
        // Synced once the list is in the cache: ListWatch applies it in the microtasks right after
        // this returns, before it opens the watch. Waiting for start() instead would wait for
        // the watch's response headers, which a proxy may hold until the first event.
        setImmediate(() => this.adopt(lw));
      }
      return l;
    };
    const lw = new SupervisedListWatch<T>(this.o.path, new BoundedWatch(this.o.kc, this.timeoutSeconds), list, this.o.labelSelector);
    this.current = lw;
    const safe = (verb: 'add' | 'update' | 'delete') => (obj: T) => {
      // Before its first list completes, an instance's events are replayed by onResync.
      if (this.serving !== lw) return;
      try {
        this.o.onChange(obj, verb);
      } catch {
        // A handler must never end the process; the next resync repairs what it missed.
      }
    };
    lw.on('add', safe('add'));
    lw.on('update', safe('update'));
    lw.on('delete', safe('delete'));
    // CONNECT fires before each (re)list and watch, including the ones ListWatch makes itself
    // after a server-side timeout or a 410.
    lw.on('connect', () => {
      if (this.current === lw) this.streamStartedAt = Date.now();
    });
    lw.on('error', (err: unknown) => {
      if (this.current !== lw || this.stopped) return; // an old instance, or our own stop()
      const status = statusOf(err);
      if (status === 401 || status === 403) {
        this.fatal = true;
        this.current = undefined;
        void lw.stop();
        this.o.onFatal(err, status);
        clearTimeout(this.restartTimer);
        this.restartTimer = setTimeout(() => {
          this.fatal = false;
          this.launch();
        }, this.o.backoffMaxMs ?? BACKOFF_MAX_MS);
        return;
      }
      this.failures++;
      const base = Math.min(this.o.backoffMaxMs ?? BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** Math.min(this.failures - 1, 10));
      this.restart(`watch failed: ${describeError(err)}`, base / 2 + Math.random() * (base / 2));
    });
    void lw.start().then(
      () => {
        if (this.current === lw && listed) this.failures = 0;
      },
      () => undefined,
    );
  }

  /** A new instance has listed: reads go to it from now on, and everything is re-evaluated. */
  private adopt(lw: ListWatch<T>): void {
    if (this.current !== lw) return;
    const previous = this.serving;
    this.serving = lw;
    if (previous && previous !== lw) void previous.stop();
    this.synced = true;
    this.resolveSynced();
    this.safeResync();
  }

  private safeResync(): void {
    try {
      this.o.onResync();
    } catch {
      // see safe() above
    }
  }

  private restart(why: string, delayMs: number): void {
    if (this.stopped) return;
    const old = this.current;
    this.current = undefined;
    // A stopped ListWatch keeps its cache, so reads go on from it until the new one has listed.
    void old?.stop();
    clearTimeout(this.restartTimer);
    this.o.onRestart?.(why, delayMs);
    this.restartTimer = setTimeout(() => this.launch(), delayMs);
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
