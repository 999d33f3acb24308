/**
 * Which connections a set of NetworkPolicies lets in, as the Kubernetes NetworkPolicy API
 * defines it (networking.k8s.io/v1, ingress only). The local cluster runs no network plugin,
 * so nothing enforces the policies there; this reads the applied objects the way a plugin does.
 *
 * Where the API leaves it to the plugin, this takes the more permissive reading: an ipBlock
 * also matches the addresses of pods (as Calico does). So what this finds unreachable is
 * unreachable whatever the plugin.
 */
import type { V1LabelSelector, V1NetworkPolicy, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';

/** Where a connection comes from: a pod (in a namespace with these labels) or a bare address. */
export interface Source {
  ip: string;
  pod?: { namespace: string; namespaceLabels: Record<string, string>; labels: Record<string, string> };
}

export interface Destination {
  namespace: string;
  labels: Record<string, string>;
  port: number;
  protocol?: string;
}

export function selects(selector: V1LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const ok =
      e.operator === 'In' ? has && (e.values ?? []).includes(labels[e.key]!)
      : e.operator === 'NotIn' ? !has || !(e.values ?? []).includes(labels[e.key]!)
      : e.operator === 'Exists' ? has
      : e.operator === 'DoesNotExist' ? !has
      : false;
    if (!ok) return false;
  }
  return true;
}

function ipv4(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(net) / size);
}

function peerMatches(peer: V1NetworkPolicyPeer, policyNamespace: string, src: Source): boolean {
  if (peer.ipBlock) return inCidr(src.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(src.ip, c));
  const pod = src.pod;
  if (!pod) return false;
  if (peer.namespaceSelector) return selects(peer.namespaceSelector, pod.namespaceLabels) && (!peer.podSelector || selects(peer.podSelector, pod.labels));
  return pod.namespace === policyNamespace && selects(peer.podSelector, pod.labels);
}

function portMatches(ports: V1NetworkPolicyPort[] | undefined, dst: Destination): boolean {
  if (!ports?.length) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== (dst.protocol ?? 'TCP')) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'string') throw new Error(`named port ${p.port}: not used by Tycho's manifests`);
    return p.endPort === undefined ? p.port === dst.port : dst.port >= p.port && dst.port <= p.endPort;
  });
}

/** Whether the policies let a connection from `src` in to `dst`. */
export function allowed(policies: V1NetworkPolicy[], src: Source, dst: Destination): boolean {
  const isolating = policies.filter(
    (p) => p.metadata?.namespace === dst.namespace && selects(p.spec!.podSelector, dst.labels) && (p.spec!.policyTypes ?? ['Ingress']).includes('Ingress'),
  );
  // A pod no policy selects accepts everything.
  if (isolating.length === 0) return true;
  return isolating.some((p) =>
    (p.spec!.ingress ?? []).some((rule) => portMatches(rule.ports, dst) && (!rule._from?.length || rule._from.some((peer) => peerMatches(peer, dst.namespace, src)))),
  );
}
