/**
 * At most `max` of these at once; the rest wait their turn, in order. For work that is cheap one
 * at a time and expensive all at once: a burst of launches (each one's writes, and the view
 * events and Slack calls they cause, compete with the Slack ack on one event loop), or the node
 * simulator's status patches.
 */
export type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

export function limiter(max: number): Limiter {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active < max) active++;
    else await new Promise<void>((r) => queue.push(r));
    try {
      return await fn();
    } finally {
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}
