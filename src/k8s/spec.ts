/** What a person asks the launcher for, and what it reports back. Front-end neutral. */

export const SERVICE_TYPES = ['NodePort', 'LoadBalancer', 'ClusterIP'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/**
 * How a system is reached: through an Ingress (an HTTPS host name; the Service is ClusterIP),
 * a NodePort, a LoadBalancer, or only inside the cluster. `--service-type` names the last three.
 */
export type ExposeMode = 'ingress' | 'nodeport' | 'loadbalancer' | 'cluster';
export const EXPOSE_MODES: readonly ExposeMode[] = ['ingress', 'nodeport', 'loadbalancer', 'cluster'];

const SERVICE_TYPE_OF: Record<ExposeMode, ServiceType> = { ingress: 'ClusterIP', nodeport: 'NodePort', loadbalancer: 'LoadBalancer', cluster: 'ClusterIP' };
export const serviceTypeOf = (mode: ExposeMode): ServiceType => SERVICE_TYPE_OF[mode];
/** The mode a Service type names (`--service-type`, TYCHO_SERVICE_TYPE): ClusterIP is `cluster`. */
export function exposeOfServiceType(type: ServiceType): ExposeMode {
  return type === 'NodePort' ? 'nodeport' : type === 'LoadBalancer' ? 'loadbalancer' : 'cluster';
}

/** An existing PersistentVolumeClaim mounted into the container (`--volume CLAIM:/path[:ro]`). Tycho never creates or deletes claims. */
export interface VolumeMount {
  claim: string;
  /** Absolute path in the container. */
  path: string;
  readOnly: boolean;
  /** A directory inside the claim (the original REST API's pvc://CLAIM/SUBPATH). */
  subPath?: string;
}
export const ORIGINS = ['cli', 'slack', 'api'] as const;
export type Origin = (typeof ORIGINS)[number];

export interface Owner {
  /** Stable identity used for authorization, e.g. "slack:U0123" or "cli:alice". */
  id: string;
  /** What people see, e.g. "<@U0123>" in Slack or "alice". */
  display: string;
}

export interface Resources {
  cpu?: string;
  memory?: string;
  gpu?: number;
}

export interface LaunchSpec {
  name: string;
  image: string;
  ports: number[];
  /** argv that replaces the image's CMD (the ENTRYPOINT is kept), never run through a shell. */
  command?: string[];
  env?: { name: string; value: string }[];
  /** Kept in a Secret named after the system, owned by its Deployment, and referenced from the pod. */
  secretEnv?: { name: string; value: string }[];
  resources?: Resources;
  /** Unset: the operator's default (TYCHO_DEFAULT_EXPOSE). */
  expose?: ExposeMode;
  volumes?: VolumeMount[];
  owner: Owner;
  origin: Origin;
  /** The text the person typed, kept as an annotation for whoever inspects the objects later. */
  originalCommand?: string;
  /** ISO time after which the system is removed (the launcher sets it from `ttl` or the default TTL). */
  expires?: string;
  /** --ttl as typed (e.g. "2h"), already checked against the maximum by the command layer. */
  ttl?: string;
  /** Extra Tycho annotations (e.g. the Slack thread), keyed by full annotation name. */
  annotations?: Record<string, string>;
}

/** `unready`: it served once (its URL was checked) and no longer does. */
export const STAGES = ['created', 'scheduled', 'pulling', 'started', 'ready', 'unready', 'terminating', 'failed'] as const;
export type Stage = (typeof STAGES)[number];

/** What Tycho opened before it called a system ready: the URL handed out, the Service inside the cluster, or nothing. */
export const URL_CHECKS = ['public', 'cluster', 'none'] as const;

export interface SystemInfo {
  name: string;
  namespace: string;
  /** Its Deployment's uid, when the Deployment was read (for the audit Event on it). */
  uid?: string;
  image: string;
  ports: { port: number; nodePort?: number }[];
  url: string | null;
  /** The Ingress host name, for a system exposed through an Ingress (its URL is https://HOST/). */
  host?: string;
  ready: boolean;
  stage: Stage;
  /** Why it is not ready, in words, when it is not. */
  reason?: string;
  owner: string;
  ownerId: string;
  origin: string;
  created: string;
  expires: string | null;
  command?: string;
  /** What Tycho opened before it called the system ready, and whether it answered. */
  urlCheck?: { checked: (typeof URL_CHECKS)[number]; verified: boolean; reason?: string };
  annotations: Record<string, string>;
}

export const DEFAULT_RESOURCES = {
  cpuRequest: '250m',
  cpuLimit: '1',
  memoryRequest: '512Mi',
  memoryLimit: '1Gi',
} as const;
