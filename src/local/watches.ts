/**
 * What the simulators (the node's kubelet and kube-proxy, the ingress controller) share about
 * the API server: an API error in one line for their logs, and watches that come back after
 * they end with an error, as a real controller's informers do.
 */
import { ApiException, type KubernetesObject, type ListWatch } from '@kubernetes/client-node';

const RESTART_DELAY_MS = 2000;

export function httpCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** An error as one line of a simulator's log: the HTTP status, if any, and the first line of the message. */
export function errText(err: unknown): string {
  const code = httpCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  return `${code ? `HTTP ${code}: ` : ''}${msg.split('\n')[0]?.slice(0, 300)}`;
}

export interface WatchRestarts {
  /** From now on, restart this watch shortly after it ends with an error (logged). */
  keep<T extends KubernetesObject>(what: string, watch: ListWatch<T>): void;
  /** No restart after this: pending ones are cancelled (call it first when stopping). */
  stop(): void;
}

export function watchRestarts(log: (line: string) => void): WatchRestarts {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  return {
    keep(what, watch) {
      watch.on('error', (err: unknown) => {
        if (stopped) return;
        log(`${what} watch ended: ${errText(err)}; reconnecting`);
        const t = setTimeout(() => {
          timers.delete(t);
          if (!stopped) void watch.start();
        }, RESTART_DELAY_MS);
        timers.add(t);
      });
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
