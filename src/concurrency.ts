/**
 * Two small tools for work that must not all run at once. Used by the launcher, the Slack front
 * end and the node simulator alike, so they live above all three.
 */

/**
 * At most `max` of these at once; the rest wait their turn, in order. For work that is cheap one
 * at a time and expensive all at once: a burst of launches (each one's writes, and the view
 * events and Slack calls they cause, compete with the Slack ack on one event loop), or the node
 * simulator's status patches.
 */
export type Limiter = <T>(fn: () => Promise<T>, onQueued?: OnQueued) => Promise<T>;

/**
 * Told, once, when a piece of work has to wait: its place among the waiting (1: it is next), so
 * whoever asked for it can be told they are queued and where; `positionNow` gives its place
 * later on, or undefined once it has started.
 */
export type OnQueued = (position: number, positionNow: () => number | undefined) => void;

/** Launches at work at once unless TYCHO_LAUNCH_CONCURRENCY says otherwise (config.ts). */
export const DEFAULT_LAUNCH_CONCURRENCY = 8;

export function limiter(max: number): Limiter {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>, onQueued?: OnQueued): Promise<T> => {
    if (active < max) active++;
    else
      await new Promise<void>((r) => {
        queue.push(r);
        onQueued?.(queue.length, () => {
          const at = queue.indexOf(r);
          return at < 0 ? undefined : at + 1;
        });
      });
    try {
      return await fn();
    } finally {
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}

/**
 * Work queued per key: each key's work runs one at a time, in order; different keys run side by
 * side. For one system's Slack reconciles, and one channel's posts (Slack allows about one per
 * second per channel). A failed piece of work fails its own promise only: the next still runs.
 */
export class KeyedQueue<K> {
  private readonly tails = new Map<K, Promise<unknown>>();

  run<T>(key: K, work: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(work);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves once the work queued so far has ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}

/**
 * At most `max` pieces of work per key at once; the rest of that key's work waits its turn, in
 * order; different keys run side by side. A key holds nothing once its work is done. For one
 * channel's Slack posts: a few in flight, so a burst's posts do not each wait a round trip.
 */
export class KeyedLimiter<K> {
  private readonly keys = new Map<K, { active: number; waiting: (() => void)[] }>();

  constructor(private readonly max: number) {}

  async run<T>(key: K, work: () => Promise<T>): Promise<T> {
    let k = this.keys.get(key);
    if (!k) this.keys.set(key, (k = { active: 0, waiting: [] }));
    if (k.active < this.max) k.active++;
    else await new Promise<void>((r) => k.waiting.push(r));
    try {
      return await work();
    } finally {
      const next = k.waiting.shift();
      if (next) next();
      else if (--k.active === 0) this.keys.delete(key);
    }
  }

  /** Keys with work running or waiting (0 once all is done: nothing is kept per key). */
  get size(): number {
    return this.keys.size;
  }
}

/**
 * The wait before try `step` (0 for the first retry): `firstMs` doubling with each step, never
 * more than `maxMs`. The exponent stops at 10 so a long run of failures cannot overflow it.
 */
export function backoffMs(step: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(0, step), 10));
}
