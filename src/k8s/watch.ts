/**
 * A list-then-watch loop over one kind of object, the way informers do it: list for a
 * consistent snapshot and a resourceVersion, then watch from there, and re-list when the
 * server drops the watch or says the version is too old. No polling.
 */
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
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
          () => {
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
