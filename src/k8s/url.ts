/** Turns a Service into the URL a person can open. */
import type { V1Pod, V1Service } from '@kubernetes/client-node';

function hostPort(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return port === 80 ? `http://${h}` : `http://${h}:${port}`;
}

/**
 * NodePort: the configured public host, else the IP of the node that runs the Ready pod (read
 * from the pod, so Tycho needs no cluster-wide permission to list nodes).
 * LoadBalancer: the ingress address once the cloud has assigned one. ClusterIP: in-cluster DNS.
 * Returns null while no address is known yet.
 */
export function resolveUrl(svc: V1Service, pods: V1Pod[], publicHost?: string): string | null {
  const first = svc.spec?.ports?.[0];
  if (!first) return null;
  const type = svc.spec?.type ?? 'ClusterIP';
  if (type === 'NodePort') {
    if (!first.nodePort) return null;
    const ready = pods.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && p.status?.hostIP);
    const host = publicHost ?? ready?.status?.hostIP;
    return host ? hostPort(host, first.nodePort) : null;
  }
  if (type === 'LoadBalancer') {
    const ingress = svc.status?.loadBalancer?.ingress?.[0];
    const host = ingress?.ip ?? ingress?.hostname;
    return host ? hostPort(host, first.port) : null;
  }
  const name = svc.metadata?.name;
  const ns = svc.metadata?.namespace;
  return name && ns ? hostPort(`${name}.${ns}.svc.cluster.local`, first.port) : null;
}

/** The Service's address inside the cluster (its ClusterIP), for checks made from a pod. */
export function clusterAddress(svc: V1Service): string | null {
  const first = svc.spec?.ports?.[0];
  const ip = svc.spec?.clusterIP;
  return first && ip && ip !== 'None' ? hostPort(ip, first.port) : null;
}
