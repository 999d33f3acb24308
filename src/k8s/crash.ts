/**
 * A crash after launch, as the live view's cached pods show it (slim.ts keeps restartCount and
 * lastState): a container that restarted because its last run ended badly, a non-zero exit or
 * an OOMKill. A run that exited 0 and was restarted is not a crash, nor is a pod replaced on
 * purpose (kubectl delete pod, a rollout, an eviction): the new pod's restartCount is 0.
 *
 * Each crash has a key, the pod's uid and its restartCount: the reconciler records the key of the
 * last crash it accounted for on the Deployment (incident.ts), so a crash is told once, and a
 * crash loop's later restarts within the same incident add nothing.
 */
import type { V1Pod } from '@kubernetes/client-node';

export interface Crash {
  /** "<pod uid>.<restartCount>": a new crash has a new key. */
  key: string;
  pod: string;
  /** As the kubelet says it: Error, OOMKilled, … */
  reason: string;
  exitCode: number;
  /** What the container wrote to its termination log, if anything. */
  message?: string;
  restartCount: number;
}

function created(p: V1Pod): number {
  return p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : 0;
}

/** The newest crash among these pods (those being deleted aside), or undefined when none crashed. */
export function lastCrash(pods: readonly V1Pod[]): Crash | undefined {
  const newestFirst = pods.filter((p) => !p.metadata?.deletionTimestamp).sort((a, b) => created(b) - created(a));
  for (const p of newestFirst) {
    for (const c of p.status?.containerStatuses ?? []) {
      const t = c.lastState?.terminated;
      if (!t || !c.restartCount) continue;
      const oom = t.reason === 'OOMKilled';
      if (t.exitCode === 0 && !oom) continue;
      return {
        key: `${p.metadata?.uid ?? p.metadata?.name ?? ''}.${c.restartCount}`,
        pod: p.metadata?.name ?? '',
        reason: t.reason || (t.signal ? `signal ${t.signal}` : 'Error'),
        exitCode: t.exitCode,
        ...(t.message ? { message: t.message } : {}),
        restartCount: c.restartCount,
      };
    }
  }
  return undefined;
}
