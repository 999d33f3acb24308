/**
 * What the live view keeps of each object it caches. The API server sends every object whole,
 * with its managedFields (the field managers' bookkeeping for server-side apply, often the
 * largest part of an object, and never read by Tycho); a server that follows thousands of
 * systems would hold all of it for as long as it runs. Each informer slims an object before it
 * enters the cache (supervised-informer.ts), from a list page or a watch event alike.
 *
 * Only what no reader of the view needs goes:
 * - Deployments keep their metadata and spec (the repair rebuilds a Service or Ingress from the
 *   spec; the claims and renderers read the annotations), and of their status only a
 *   ReplicaFailure condition (a quota refusing the pods: no pod then says anything), without its
 *   timestamps; the pods say how a system is otherwise;
 * - Pods keep their labels, Tycho's annotations (the launch id), timestamps and owners; of their
 *   spec, `nodeName` and each container's name and image; of their status, what the pod verdict
 *   and the URL read: phase, IPs, conditions (without their timestamps), container states;
 * - Services and Ingresses lose their managedFields only;
 * - Endpoints and EndpointSlices are slimmed by their source (endpoints-source.ts), down to the
 *   addresses it reads.
 *
 * Objects are rebuilt, not edited with `delete`: V8 turns an object a property was deleted from
 * into a slower, larger dictionary, which is the opposite of the point here.
 */
import type { KubernetesObject, V1ContainerStatus, V1Deployment, V1ObjectMeta, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { PREFIX } from '../labels.js';

/** The metadata without managedFields (the same object when it has none). */
export function slimMetadata(m: V1ObjectMeta | undefined): V1ObjectMeta | undefined {
  if (!m?.managedFields) return m;
  const { managedFields: _dropped, ...rest } = m;
  return rest;
}

export function withoutManagedFields<T extends KubernetesObject>(o: T): T {
  const metadata = slimMetadata(o.metadata);
  return metadata === o.metadata ? o : { ...o, metadata };
}

export function slimDeployment(d: V1Deployment): V1Deployment {
  const failure = d.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
  return {
    ...(d.apiVersion ? { apiVersion: d.apiVersion } : {}),
    ...(d.kind ? { kind: d.kind } : {}),
    metadata: slimMetadata(d.metadata) ?? {},
    ...(d.spec ? { spec: d.spec } : {}),
    ...(failure ? { status: { conditions: [{ type: failure.type, status: failure.status, ...(failure.reason ? { reason: failure.reason } : {}), ...(failure.message ? { message: failure.message } : {}) }] } } : {}),
  };
}

/** Of annotations, Tycho's own (the launch id); the others (the runtime's, say) are nobody's business here. */
function tychoAnnotations(a: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!a) return a;
  const own = Object.entries(a).filter(([k]) => k.startsWith(`${PREFIX}/`));
  return own.length ? Object.fromEntries(own) : undefined;
}

function slimCondition(c: V1PodCondition): V1PodCondition {
  return { type: c.type, status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) };
}

/** Without the image and container IDs (the type calls imageID required; nothing reads it). */
function slimContainerStatus(c: V1ContainerStatus): V1ContainerStatus {
  return {
    name: c.name,
    image: c.image,
    ready: c.ready,
    restartCount: c.restartCount,
    ...(c.started !== undefined ? { started: c.started } : {}),
    ...(c.state ? { state: c.state } : {}),
    ...(c.lastState ? { lastState: c.lastState } : {}),
  } as V1ContainerStatus;
}

export function slimPod(p: V1Pod): V1Pod {
  const { managedFields: _dropped, annotations, ...meta } = p.metadata ?? {};
  const own = tychoAnnotations(annotations);
  const spec = p.spec;
  const st = p.status;
  return {
    ...(p.apiVersion ? { apiVersion: p.apiVersion } : {}),
    ...(p.kind ? { kind: p.kind } : {}),
    metadata: own ? { ...meta, annotations: own } : meta,
    ...(spec ? { spec: { ...(spec.nodeName ? { nodeName: spec.nodeName } : {}), containers: (spec.containers ?? []).map((c) => ({ name: c.name, ...(c.image ? { image: c.image } : {}) })) } } : {}),
    ...(st
      ? {
          status: {
            ...(st.phase ? { phase: st.phase } : {}),
            ...(st.podIP ? { podIP: st.podIP } : {}),
            ...(st.hostIP ? { hostIP: st.hostIP } : {}),
            ...(st.conditions ? { conditions: st.conditions.map(slimCondition) } : {}),
            ...(st.containerStatuses ? { containerStatuses: st.containerStatuses.map(slimContainerStatus) } : {}),
          },
        }
      : {}),
  };
}
