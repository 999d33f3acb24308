/**
 * Reads one pod's status into a stage, or a failure with the pod's own words. Both the
 * readiness watch (fail fast) and status/list (explain why not ready) use this.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Stage } from './spec.js';

export type FailureKind = 'image' | 'crash' | 'config' | 'unschedulable' | 'quota';

export interface PodVerdict {
  stage: Stage;
  failure?: { kind: FailureKind; reason: string; detail: string };
  /** A short human description, e.g. "pulling the image". */
  describe: string;
}

const IMAGE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'RegistryUnavailable']);
const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export function podVerdict(pod: V1Pod): PodVerdict {
  if (pod.metadata?.deletionTimestamp) return { stage: 'terminating', describe: 'terminating' };
  const st = pod.status ?? {};
  const conds = st.conditions ?? [];
  const sched = conds.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && sched.reason === 'Unschedulable') {
    return { stage: 'failed', failure: { kind: 'unschedulable', reason: 'Unschedulable', detail: sched.message ?? '' }, describe: `unschedulable: ${sched.message ?? ''}` };
  }
  for (const cs of st.containerStatuses ?? []) {
    const w = cs.state?.waiting;
    if (!w?.reason) continue;
    if (IMAGE_REASONS.has(w.reason)) {
      return { stage: 'failed', failure: { kind: 'image', reason: w.reason, detail: w.message ?? '' }, describe: `${w.reason}: ${w.message ?? ''}` };
    }
    if (w.reason === 'CrashLoopBackOff') {
      const t = cs.lastState?.terminated;
      const detail = t ? `exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${t.message ? `: ${t.message}` : ''}, restarted ${cs.restartCount} time(s)` : (w.message ?? '');
      return { stage: 'failed', failure: { kind: 'crash', reason: w.reason, detail }, describe: `CrashLoopBackOff: ${detail}` };
    }
    if (CONFIG_REASONS.has(w.reason)) {
      return { stage: 'failed', failure: { kind: 'config', reason: w.reason, detail: w.message ?? '' }, describe: `${w.reason}: ${w.message ?? ''}` };
    }
  }
  if (conds.some((c) => c.type === 'Ready' && c.status === 'True')) return { stage: 'ready', describe: 'ready' };
  if ((st.containerStatuses ?? []).some((cs) => cs.state?.running)) return { stage: 'started', describe: 'started, not ready yet' };
  if ((st.containerStatuses ?? []).some((cs) => cs.state?.waiting)) return { stage: 'pulling', describe: 'pulling the image' };
  if (sched?.status === 'True' || pod.spec?.nodeName) return { stage: 'scheduled', describe: 'scheduled onto a node' };
  return { stage: 'created', describe: 'waiting to be scheduled' };
}

export const STAGE_ORDER: Stage[] = ['created', 'scheduled', 'pulling', 'started', 'ready'];

/** The most advanced verdict among a system's pods: one Ready pod makes the system ready. */
export function bestVerdict(pods: V1Pod[]): PodVerdict {
  const verdicts = pods.map(podVerdict).filter((v) => v.stage !== 'terminating');
  const failure = verdicts.find((v) => v.failure);
  const ready = verdicts.find((v) => v.stage === 'ready');
  if (ready) return ready;
  if (failure) return failure;
  let best: PodVerdict = { stage: 'created', describe: 'waiting for a pod' };
  for (const v of verdicts) if (STAGE_ORDER.indexOf(v.stage) > STAGE_ORDER.indexOf(best.stage)) best = v;
  return best;
}

/**
 * What a ResourceQuota or LimitRange refusal says, in the API server's words: "exceeded quota",
 * "failed quota" (a quota on limits and no limit given), "status unknown for quota", and the
 * LimitRanger's "maximum/minimum cpu usage per Container ...", "... limit to request ratio ...".
 * Other FailedCreate reasons (a terminating namespace, an API server that timed out) are
 * passing troubles the ReplicaSet controller retries through, so they are not failures.
 */
const QUOTA_REFUSAL = /(exceeded quota|failed quota|status unknown for quota|(maximum|minimum) \S+ usage per (Container|Pod|PersistentVolumeClaim)|limit to request ratio per)/;
const MAX_DETAIL = 300;

/**
 * The quota's own sentence, fit to quote: without the API server's `pods "x-5d9c-abcde" is
 * forbidden: ` prefix (a pod name no one will ever see), on one line, without a closing period,
 * at most 300 characters.
 */
export function quotaDetail(message: string): string {
  const own = message.replace(/^.*?\bis forbidden:\s*/s, '');
  const line = own.replace(/\s+/g, ' ').trim().replace(/[.\s]+$/, '');
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line;
}

/**
 * A quota or limit refusal of the Deployment's pods, from its ReplicaFailure condition (the
 * Deployment controller copies it from the ReplicaSet that could not create a pod), or undefined.
 * The condition goes away once a pod is made, so a refusal that was lifted reads as no failure.
 */
export function deploymentVerdict(d: V1Deployment): PodVerdict | undefined {
  const c = d.status?.conditions?.find((x) => x.type === 'ReplicaFailure' && x.status === 'True' && x.reason === 'FailedCreate');
  if (!c?.message || !QUOTA_REFUSAL.test(c.message)) return undefined;
  const detail = quotaDetail(c.message);
  return { stage: 'failed', failure: { kind: 'quota', reason: 'FailedCreate', detail }, describe: `refused by the namespace's quota: ${detail}` };
}
