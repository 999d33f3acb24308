/**
 * A list-then-watch loop over one kind of object, the way informers do it: list for a
 * consistent snapshot and a resourceVersion, then watch from there, and re-list when the
 * server drops the watch or says the version is too old. No polling.
 */
import { ApiException, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { toTychoError } from './kube.js';

export interface WatchOptions<T extends KubernetesObject, R> {
  kc: KubeConfig;
  /** e.g. /api/v1/namespaces/ns/pods */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  /** Called with the full current set after every change. Return a value to stop watching. */
  onChange: (items: T[]) => R | undefined;
  signal: AbortSignal;
}

/** Resolves with the first value onChange returns that is not undefined; rejects if onChange throws. */
export function watchUntil<T extends KubernetesObject, R>(opts: WatchOptions<T, R>): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const items = new Map<string, T>();
    let finished = false;
    let current: AbortController | undefined;
    const finish = (fn: () => void) => {
      if (finished) return;
      finished = true;
      current?.abort();
      opts.signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => finish(() => reject(opts.signal.reason));
    opts.signal.addEventListener('abort', onAbort, { once: true });

    const evaluate = () => {
      try {
        const r = opts.onChange([...items.values()]);
        if (r !== undefined) finish(() => resolve(r));
      } catch (e) {
        finish(() => reject(e));
      }
    };

    const relist = async (): Promise<void> => {
      if (finished) return;
      let rv: string | undefined;
      try {
        const list = await opts.list();
        items.clear();
        for (const it of list.items) items.set(it.metadata?.uid ?? it.metadata?.name ?? '', it);
        rv = list.metadata?.resourceVersion;
      } catch (e) {
        finish(() => reject(toTychoError(e, 'watch the system')));
        return;
      }
      evaluate();
      if (finished) return;
      const w = new Watch(opts.kc);
      try {
        current = await w.watch(
          opts.path,
          { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, resourceVersion: rv, allowWatchBookmarks: true },
          (type, obj: T) => {
            if (type === 'BOOKMARK' || type === 'ERROR') return;
            const key = obj.metadata?.uid ?? obj.metadata?.name ?? '';
            if (type === 'DELETED') items.delete(key);
            else items.set(key, obj);
            evaluate();
          },
          (err: unknown) => {
            // Refused (e.g. a Role without `watch`): retrying cannot help, and would poll the
            // API server ten times a second. Fail like any other call, naming the permission.
            const status = (err as { statusCode?: unknown } | null)?.statusCode;
            if (status === 401 || status === 403) {
              finish(() => reject(toTychoError(refusedWatch(status, opts.path), 'watch the system')));
              return;
            }
            // The server ends watches on its own schedule (and on 410 Gone); start over.
            if (!finished) setTimeout(() => void relist(), 100);
          },
        );
        if (finished) current.abort();
      } catch {
        if (!finished) setTimeout(() => void relist(), 500);
      }
    };
    void relist();
  });
}

/** client-node's Watch drops the refusal's body; this is the API server's wording for it. */
function refusedWatch(status: number, path: string): ApiException<{ message: string }> {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/([^/]+)\/([^/]+)$/.exec(path);
  const message = m ? `${m[3]} is forbidden: cannot watch resource "${m[3]}" in API group "${m[1] ?? ''}" in the namespace "${m[2]}"` : '';
  return new ApiException(status, 'watch refused', { message }, {});
}
