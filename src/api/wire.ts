/**
 * The REST API's wire types, shared by the server (src/api) and the CLI's remote mode
 * (src/cli/remote.ts) so both ends agree at compile time. The OpenAPI document in
 * openapi.ts is what requests are checked against at run time; these types describe what
 * that check lets through, and test/api/openapi.test.ts keeps the two in step.
 */
import type { TychoErrorCode } from '../k8s/errors.js';

/** Every answer, success or failure, whatever the HTTP status: the original client reads only this. */
export interface Envelope<T> {
  status: 'success' | 'error';
  result: T;
  message: string;
}

export interface WireLimits {
  /** Cores: "0.3", "2", "500m", or a JSON number. */
  cpus?: string | number;
  /** A Kubernetes quantity; "512M" (the original's) and "512Mi" both work. */
  memory?: string;
  /** Whole GPUs; "0" or 0 means none (the original sent "0"). */
  gpus?: string | number;
}

export interface WireContainer {
  name?: string;
  image: string;
  command?: string[] | null;
  env?: string[] | null;
  /** Tycho's addition: KEY=VALUE pairs kept in a Secret, never in the Deployment. */
  secret_env?: string[] | null;
  limits?: WireLimits[] | null;
  /** The original's "pvc://CLAIM/SUBPATH:/path" (SUBPATH optional); Tycho adds ":ro". */
  volumes?: string[] | null;
  ports: { containerPort: number }[];
}

export interface StartRequest {
  name: string;
  containers: WireContainer[];
}

export interface NameRequest {
  name: string;
}

export interface StatusRequest {
  name?: string;
}

export interface ContainerPort {
  /** The NodePort (or the Service port, for service types without one). */
  port: number | null;
}

export interface StartResult {
  containers: Record<string, ContainerPort>;
  /** The same map again: the original's published examples used both spellings. */
  container_map: Record<string, ContainerPort>;
  url: string | null;
  /** Whether the URL (or, from inside the cluster, the Service's address) answered before this reply; absent with wait=false. */
  url_verified?: boolean;
  url_checked?: 'public' | 'cluster' | 'none';
}

/**
 * One system in a status answer. The first eight fields are the ones the issue names; the
 * rest let `tycho status -s URL` print exactly what direct mode prints.
 */
export interface StatusItem {
  name: string;
  image: string;
  url: string | null;
  port: number | null;
  ready: boolean;
  owner: string;
  created: string;
  expires: string | null;
  namespace: string;
  stage: string;
  reason: string | null;
  ports: { port: number; nodePort?: number }[];
  origin: string;
}

export interface FieldError {
  /** Where in the request, e.g. "body.containers[0].limits[0].memory" or "header.X-Tycho-Owner". */
  field: string;
  /** The schema keyword broken, e.g. "type", "required", "format". */
  rule: string;
  message: string;
}

export interface ErrorResult {
  /** What the original client prints. Same text as the envelope's message. */
  error: string;
  /** Tycho's error code, so a client (the CLI) can tell failures apart without parsing text. */
  code: TychoErrorCode;
  /** For invalid requests: every broken rule. */
  errors?: FieldError[];
  /** A failed launch whose objects were kept for inspection: the system to delete when done. */
  left_in_place?: string;
}

/** The header that names the person a system belongs to (the CLI sends the local user). */
export const OWNER_HEADER = 'X-Tycho-Owner';
