/**
 * Systems exposed through an Ingress: the operator's settings, the host name a system gets, and
 * where Tycho can reach the ingress controller to open that host before calling it ready.
 * Pure functions; the Ingress object itself is built in manifests.ts.
 */
import type { V1Ingress } from '@kubernetes/client-node';

export interface IngressSettings {
  /** TYCHO_INGRESS_DOMAIN, e.g. apps.example.org. */
  domain: string;
  /** TYCHO_INGRESS_HOST_TEMPLATE: {name}, {namespace} and {domain} are filled in. */
  hostTemplate: string;
  /** TYCHO_INGRESS_CLASS: spec.ingressClassName. */
  className?: string;
  /** TYCHO_INGRESS_TLS_SECRET: a (wildcard) TLS Secret in the apps namespace. */
  tlsSecret?: string;
  /** TYCHO_INGRESS_ANNOTATIONS: added to every Ingress (cert-manager, sign-in, timeouts…). */
  annotations: Record<string, string>;
  /** TYCHO_INGRESS_ADDRESS: host[:port] where Tycho reaches the ingress controller (443 when no port). */
  address?: string;
}

/** A DNS name as Kubernetes checks an Ingress host: lower case, labels of 1–63 characters, 253 in all. */
export function isDnsName(s: string): boolean {
  return s.length <= 253 && s.split('.').every((l) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(l));
}

export function hostFor(settings: IngressSettings, name: string, namespace: string): string {
  return settings.hostTemplate.replaceAll('{name}', name).replaceAll('{namespace}', namespace).replaceAll('{domain}', settings.domain).toLowerCase();
}

export function ingressUrl(host: string): string {
  return `https://${host}/`;
}

/** The host an Ingress of Tycho's routes (its one rule). */
export function ingressHost(ing: V1Ingress | undefined): string | undefined {
  return ing?.spec?.rules?.[0]?.host;
}

/**
 * Where to open the host: the configured address first (the operator knows how Tycho reaches the
 * controller), else the address the controller published on the Ingress (port 443). Undefined
 * when neither is known, e.g. a controller that publishes no status.
 */
export function ingressProbeAddress(settings: IngressSettings | undefined, ing: V1Ingress | undefined): { host: string; port: number } | undefined {
  if (settings?.address) {
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(settings.address);
    if (m) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] ? Number(m[2]) : 443 };
  }
  const lb = ing?.status?.loadBalancer?.ingress?.[0];
  const host = lb?.ip ?? lb?.hostname;
  return host ? { host, port: 443 } : undefined;
}
