/**
 * The last lines of a system's container log (`logs`), read through the API server, which
 * asks the pod's kubelet (the `pods/log` subresource: the Role grants `get` on it). Which pod:
 * one of the system's own (the live view's, or one list), the newest that is not going away.
 * A log Kubernetes cannot give (no pod, a container not started yet, no previous container) is
 * one sentence, never the API server's body.
 */
import { ApiException, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { NoLogs } from './errors.js';
import { statusBody, toTychoError } from './kube.js';

export interface LogRequest {
  /** How many of the last lines. */
  tail: number;
  /** The container's previous run (the one that crashed), not the current one. */
  previous: boolean;
}

export interface SystemLogs {
  name: string;
  pod: string;
  container: string;
  tail: number;
  previous: boolean;
  /** As the container wrote it, not yet redacted (the command redacts before any front end sees it). */
  text: string;
}

/** Lines shown when --tail is not given, and the most that may be asked for. */
export const DEFAULT_TAIL = 100;
export const MAX_TAIL = 10_000;

/** The most a log read takes in, whatever the lines: a bound on memory, not a product limit. */
export const LOG_LIMIT_BYTES = 1024 * 1024;

const created = (p: V1Pod): number => (p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : 0);

/**
 * The pod whose log answers "what is my system printing": the newest not being deleted (a
 * rollout's replacement), else the newest at all.
 */
export function podForLogs(pods: readonly V1Pod[]): V1Pod | undefined {
  const newestFirst = [...pods].sort((a, b) => created(b) - created(a));
  return newestFirst.find((p) => !p.metadata?.deletionTimestamp) ?? newestFirst[0];
}

export async function readPodLog(core: CoreV1Api, namespace: string, name: string, pod: V1Pod | undefined, req: LogRequest): Promise<SystemLogs> {
  const podName = pod?.metadata?.name;
  if (!pod || !podName) throw new NoLogs(name, `"${name}" has no pod right now, so there is no log to show.`);
  // Not scheduled: no kubelet to ask (the API server would answer an empty 200 without a type).
  if (!pod.spec?.nodeName) throw new NoLogs(name, `"${name}"'s pod is waiting for a node, so it has no log yet.`);
  // Tycho's pods have one container; the first is the app's.
  const container = pod.spec?.containers?.[0]?.name ?? name;
  try {
    const text = await core.readNamespacedPodLog({ namespace, name: podName, container, tailLines: req.tail, previous: req.previous, limitBytes: LOG_LIMIT_BYTES });
    return { name, pod: podName, container, tail: req.tail, previous: req.previous, text: typeof text === 'string' ? text : String(text ?? '') };
  } catch (e) {
    throw logError(e, name, req);
  }
}

/** What the kubelet's refusals mean for the person who asked. */
function logError(e: unknown, name: string, req: LogRequest): Error {
  if (e instanceof ApiException) {
    const msg = statusBody(e).message ?? String(e.body ?? '');
    if (e.code === 404) return new NoLogs(name, `"${name}" has no pod right now, so there is no log to show.`);
    if (e.code === 400 && /previous terminated container/i.test(msg)) {
      return new NoLogs(name, `"${name}" has not restarted, so there is no previous log; leave out --previous to see the current one.`);
    }
    if (e.code === 400 && /waiting to start|ContainerCreating|PodInitializing|is not available/i.test(msg)) {
      return new NoLogs(name, `"${name}"'s container has not started${req.previous ? '' : ' yet'}, so it has no log to show.`);
    }
  }
  return toTychoError(e, 'read the log of its pod');
}
