/**
 * A system's stage as a pure function of the cached objects: its Deployment, Service, Pods and
 * Endpoints, plus Tycho's annotations. No clock, no history: every replica that holds the same
 * objects computes the same stage, and a restarted process picks up where the last one stopped.
 */
import type { V1Deployment, V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node';
import * as labels from '../labels.js';
import { bestVerdict, deploymentVerdict, type PodVerdict } from '../pod-verdict.js';
import type { Stage } from '../spec.js';

export interface SystemObjects {
  deployment: V1Deployment;
  service?: V1Service;
  pods: V1Pod[];
  /** The IPs the Service routes to (its Endpoints' or EndpointSlices' ready addresses, see endpoints-source.ts). */
  readyIps?: ReadonlySet<string>;
  /** The system's Ingress, when it is exposed through one and the view follows Ingresses. */
  ingress?: V1Ingress;
}

export interface SystemState extends SystemObjects {
  uid: string;
  name: string;
  stage: Stage;
  /** Why the stage is what it is, in words, e.g. "pulling the image". */
  describe: string;
  failure?: PodVerdict['failure'];
  /** Ready pods whose IP the Service routes to: traffic can reach them. */
  servingPods: V1Pod[];
}

function isReady(p: V1Pod): boolean {
  return !p.metadata?.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * The object when the Deployment with this uid owns it, else undefined: a Service or Ingress of
 * the same name left over from an earlier system is not this one's.
 */
export function ownedChild<T extends { metadata?: { ownerReferences?: { uid: string }[] } }>(ownerUid: string | undefined, o: T | undefined): T | undefined {
  return ownerUid && o?.metadata?.ownerReferences?.some((r) => r.uid === ownerUid) ? o : undefined;
}

/**
 * Pods of this Deployment rather than of an earlier one with the same name, whose pods may still
 * run (and be routed) while the garbage collector gets to them. A launch marks its pod template
 * with its launch id, which tells them apart exactly. A Deployment without one (made by hand, or
 * before the mark) falls back to age: its pods are not older than it. Only a fallback: creation
 * timestamps are whole seconds, so a pod of a system deleted and launched again within the
 * second would pass for the new one's.
 */
export function podsOf(deployment: V1Deployment, candidates: readonly V1Pod[]): V1Pod[] {
  const name = deployment.metadata?.name;
  // Read from the pod template, not the Deployment's own annotations: Deployments launched before
  // the template carried it have the id on themselves only, and their pods have none.
  const launch = deployment.spec?.template?.metadata?.annotations?.[labels.ANN_LAUNCH_ID];
  const born = deployment.metadata?.creationTimestamp ? new Date(deployment.metadata.creationTimestamp).getTime() : 0;
  return candidates.filter((p) => {
    if (p.metadata?.labels?.[labels.LABEL_SYSTEM] !== name) return false;
    if (launch) return p.metadata?.annotations?.[labels.ANN_LAUNCH_ID] === launch;
    const t = p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).getTime() : 0;
    return t >= born;
  });
}

/** Whether the Service's addresses include one that is none of these pods'. */
function routesElsewhere(pods: readonly V1Pod[], ips: ReadonlySet<string> | undefined): boolean {
  const own = new Set(pods.map((p) => p.status?.podIP));
  return [...(ips ?? [])].some((ip) => !own.has(ip));
}

export function systemState(o: SystemObjects): SystemState {
  const d = o.deployment;
  const base = { ...o, uid: d.metadata?.uid ?? '', name: d.metadata?.name ?? '' };
  const ips = o.readyIps;
  const servingPods = o.pods.filter((p) => isReady(p) && !!p.status?.podIP && !!ips?.has(p.status.podIP));
  if (d.metadata?.deletionTimestamp) return { ...base, stage: 'terminating', describe: 'being torn down', servingPods };
  // No pod says anything when the quota refused to make one: the Deployment's condition does.
  const v = (o.pods.every((p) => p.metadata?.deletionTimestamp) ? deploymentVerdict(d) : undefined) ?? bestVerdict(o.pods);
  const everServed = !!d.metadata?.annotations?.[labels.ANN_URL_CHECK];
  // A first Ready waits until the Service routes to this system's pods only: an earlier system
  // of the same name (deleted, its pods not yet collected) may still be among the addresses, and
  // a user given the URL then would reach the old app. Once it served, a pod being replaced
  // (its old address still listed a moment) must not read as a change of stage.
  if (servingPods.length > 0 && (everServed || !routesElsewhere(o.pods, ips))) return { ...base, stage: 'ready', describe: 'ready', servingPods };
  if (v.failure) return { ...base, stage: 'failed', describe: v.describe, failure: v.failure, servingPods };
  if (v.stage === 'ready') {
    // Pod Ready comes before the endpoints controller (and kube-proxy, and any ingress) routes to it.
    return { ...base, stage: everServed ? 'unready' : 'started', describe: 'ready, waiting for the Service to route traffic to it', servingPods };
  }
  if (everServed) return { ...base, stage: 'unready', describe: v.describe === 'waiting for a pod' ? 'no pod is running' : v.describe, servingPods };
  return { ...base, stage: v.stage, describe: v.describe, servingPods };
}

/** A part of a launch the cluster does not hold: a child the Deployment records, or its start. */
export type MissingPart = 'Service' | 'Ingress' | 'unpause';

/**
 * What this system's Deployment says it should have and the cached objects lack: its Service,
 * its Ingress (when it records a host, and the reader follows Ingresses), its start (a paused
 * --secret-env launch). A launch or repair that made a child waits for the cache to hold it
 * before it judges the URL: a verdict recorded through a lost child looks current to a cache
 * that has not yet seen its replacement.
 */
export function missingParts(s: SystemObjects, followsIngresses: boolean): MissingPart[] {
  const annotations = s.deployment.metadata?.annotations;
  const wantsIngress = followsIngresses && !!annotations?.[labels.ANN_INGRESS_HOST];
  // Paused and never served: a --secret-env launch cut short before its start. One paused by
  // hand (`kubectl rollout pause`) after it served is someone's choice, and stays paused.
  const neverStarted = !!s.deployment.spec?.paused && !annotations?.[labels.ANN_URL_CHECK];
  return [
    ...(s.service ? [] : ['Service' as const]),
    ...(wantsIngress && !s.ingress ? ['Ingress' as const] : []),
    ...(neverStarted ? ['unpause' as const] : []),
  ];
}
