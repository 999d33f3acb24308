/**
 * A system's URL on a NodePort (or LoadBalancer) Service holds the NodePort Kubernetes picked
 * for it. A Service made again (system-repair.ts) would get a new one, and the URL in the Ready
 * reply would be wrong, so it asks for the NodePorts the lost Service had. When one has been
 * taken meanwhile, it takes new ones and records the change on the Deployment
 * (`tycho.renci.org/url-changed`), for the Slack thread to say the URL changed.
 */
import type { V1Service } from '@kubernetes/client-node';
import { apiCode, statusBody } from './kube.js';
import { ApiException } from '@kubernetes/client-node';
import * as labels from './labels.js';

/**
 * On a Deployment whose Service was made again with other NodePorts than it had: JSON
 * `{"service": uid of the new Service, "was": [NodePorts, when known], "now": [NodePorts]}`.
 * The URL is the one the system reports now; a reader tells its thread once per `service`.
 */
export const ANN_URL_CHANGED = `${labels.PREFIX}/url-changed`;

/** Service port → NodePort, as a Service holds them. */
export type NodePorts = ReadonlyMap<number, number>;

export function nodePortsOf(svc: V1Service | undefined): NodePorts | undefined {
  const ports = (svc?.spec?.ports ?? []).filter((p) => p.nodePort);
  return ports.length ? new Map(ports.map((p) => [p.port, p.nodePort!])) : undefined;
}

/** The body with the NodePorts it had before (only where its type has NodePorts and its ports are the same). */
export function withNodePorts(body: V1Service, kept: NodePorts | undefined): V1Service {
  const type = body.spec?.type;
  if (!kept || (type !== 'NodePort' && type !== 'LoadBalancer')) return body;
  const ports = (body.spec?.ports ?? []).map((p) => (kept.has(p.port) ? { ...p, nodePort: kept.get(p.port)! } : p));
  return { ...body, spec: { ...body.spec, ports } };
}

/** Kubernetes' answer to a NodePort another Service holds now (422, "provided port is already allocated"). */
export function isNodePortTaken(e: unknown): boolean {
  return apiCode(e) === 422 && e instanceof ApiException && /port is already allocated/i.test(statusBody(e).message ?? '');
}

export function urlChangedRecord(service: V1Service, was: NodePorts | undefined): string {
  const now = [...(nodePortsOf(service)?.values() ?? [])];
  return JSON.stringify({ service: service.metadata?.uid ?? '', ...(was ? { was: [...was.values()] } : {}), now });
}

export function sameNodePorts(a: NodePorts | undefined, b: NodePorts | undefined): boolean {
  return !!a && !!b && a.size === b.size && [...a].every(([port, nodePort]) => b.get(port) === nodePort);
}
