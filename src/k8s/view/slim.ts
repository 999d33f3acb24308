/**
 * What the live view keeps of each object it caches. The API server sends every object whole,
 * with its managedFields (the field managers' bookkeeping for server-side apply, often the
 * largest part of an object, and never read by Tycho); a server that follows thousands of
 * systems would hold all of it for as long as it runs. Each informer slims an object before it
 * enters the cache (supervised-informer.ts), from a list page or a watch event alike.
 *
 * Only what no reader of the view needs goes. Deployments, Services and Ingresses lose their
 * managedFields only: the repair rebuilds a Service or Ingress from the Deployment's spec, and
 * the claims and renderers read their metadata and status. Pods lose their managedFields and all
 * of their spec but `nodeName` and each container's name and image: the view reads their
 * metadata (labels, launch id, timestamps), their status, and whether they were scheduled.
 * Endpoints and EndpointSlices are slimmed by their source (endpoints-source.ts), down to the
 * addresses it reads.
 *
 * Objects are rebuilt, not edited with `delete`: V8 turns an object a property was deleted from
 * into a slower, larger dictionary, which is the opposite of the point here.
 */
import type { KubernetesObject, V1ObjectMeta, V1Pod } from '@kubernetes/client-node';

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

export function slimPod(p: V1Pod): V1Pod {
  const spec = p.spec;
  return {
    ...(p.apiVersion ? { apiVersion: p.apiVersion } : {}),
    ...(p.kind ? { kind: p.kind } : {}),
    metadata: slimMetadata(p.metadata) ?? {},
    ...(spec ? { spec: { ...(spec.nodeName ? { nodeName: spec.nodeName } : {}), containers: (spec.containers ?? []).map((c) => ({ name: c.name, ...(c.image ? { image: c.image } : {}) })) } } : {}),
    ...(p.status ? { status: p.status } : {}),
  };
}
