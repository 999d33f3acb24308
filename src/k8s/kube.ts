/**
 * The single place that talks to client-node's error types. Everything above this file sees
 * only Tycho's coded errors, never an ApiException, a raw body or a fetch error.
 */
import { ApiException, KubeConfig, AppsV1Api, CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { ClusterUnreachable, Forbidden, InternalError, InvalidSpec, TychoError } from './errors.js';
import { reuseConnections } from './connections.js';

export interface KubeClients {
  kc: KubeConfig;
  apps: AppsV1Api;
  core: CoreV1Api;
  networking: NetworkingV1Api;
}

/** The clients (and, through kc, the watches) share keep-alive connections: see connections.ts. */
export function makeClients(kc: KubeConfig): KubeClients {
  reuseConnections(kc);
  return { kc, apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), networking: kc.makeApiClient(NetworkingV1Api) };
}

/** Like kubectl: $KUBECONFIG, then ~/.kube/config, then the pod's service account. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export function currentNamespace(kc: KubeConfig): string | undefined {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  return ctx?.namespace || undefined;
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { message?: string; field?: string }[] };
}

/** For 404/409 client-node may hand us the Status as a JSON string; normalise both shapes. */
export function statusBody(e: ApiException<unknown>): StatusBody {
  const b = e.body;
  if (typeof b === 'string') {
    try {
      return JSON.parse(b) as StatusBody;
    } catch {
      return {};
    }
  }
  return (b ?? {}) as StatusBody;
}

export function apiCode(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

export const isNotFound = (e: unknown): boolean => apiCode(e) === 404;
/** For deletes and reads where "already gone" is an answer, not a failure. */
export async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export const isConflict = (e: unknown): boolean => apiCode(e) === 409;

const isQuotaMessage = (message: string): boolean => /exceeded quota/i.test(message);

/** A 403 from RBAC (a missing permission), not from a resource quota that is used up. */
export function isPermissionDenied(e: unknown): boolean {
  return e instanceof ApiException && e.code === 403 && !isQuotaMessage(statusBody(e).message ?? '');
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

function networkCode(e: unknown): string | undefined {
  for (let cur: unknown = e, i = 0; cur && i < 5; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string' && (NETWORK_CODES.has(c) || c.startsWith('ERR_TLS') || c.startsWith('UND_ERR'))) return c;
    const t = (cur as { type?: unknown }).type;
    if (t === 'system' || (cur as { name?: unknown }).name === 'FetchError') return String(c ?? 'network');
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** "User X cannot create resource "services" in API group "" in the namespace "y"" → the permission. */
function missingPermission(message: string): string | undefined {
  const m = /cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/.exec(message);
  if (!m) return undefined;
  const [, verb, resource, group, ns] = m;
  const res = group ? `${resource}.${group}` : resource;
  return `${verb} ${res}${ns ? ` in namespace "${ns}"` : ' (cluster-wide)'}`;
}

/**
 * Who hears of each Kubernetes call that failed (its HTTP status, or `network`): the metrics
 * (src/server/metrics.ts). Every failure passes through toTychoError once, so it is counted here.
 */
export const kubernetesFailureObservers = new Set<(status: string) => void>();

/** Turns any failure of a Kubernetes call into a TychoError. `doing` reads like "create the Service". */
export function toTychoError(e: unknown, doing: string): TychoError {
  if (e instanceof TychoError) return e;
  const status = e instanceof ApiException ? String(e.code) : networkCode(e) ? 'network' : 'other';
  for (const observe of kubernetesFailureObservers) observe(status);
  if (e instanceof ApiException) {
    const body = statusBody(e);
    const msg = body.message ?? '';
    switch (e.code) {
      case 401:
        return new ClusterUnreachable(`Kubernetes did not accept Tycho's credentials while trying to ${doing}; check the kubeconfig or service account token.`);
      case 403: {
        if (isQuotaMessage(msg)) {
          const quota = /exceeded quota: ([^,]+)/.exec(msg)?.[1];
          return new Forbidden(`Could not ${doing}: the namespace's resource quota${quota ? ` "${quota}"` : ''} is used up. Tear down a system or ask for a larger quota.`);
        }
        const perm = missingPermission(msg);
        return new Forbidden(
          perm
            ? `Tycho is not allowed to ${perm}, so it could not ${doing}. Ask a cluster admin to grant that permission to Tycho's account (see kubernetes/base/role.yaml).`
            : `Kubernetes refused to let Tycho ${doing}. Ask a cluster admin to check Tycho's permissions (see kubernetes/base/role.yaml).`,
        );
      }
      case 422: {
        const causes = (body.details?.causes ?? []).map((c) => c.message).filter(Boolean);
        return new InvalidSpec(`Kubernetes rejected the request to ${doing}: ${causes.length ? causes.join('; ') : msg || 'invalid object'}.`);
      }
      case 500:
      case 502:
      case 503:
      case 504:
        return new ClusterUnreachable(`Kubernetes is not answering properly (HTTP ${e.code}) while trying to ${doing}; try again in a moment.`);
      default:
        return new InternalError(`Kubernetes answered HTTP ${e.code} while trying to ${doing}${body.reason ? ` (${body.reason})` : ''}.`);
    }
  }
  const net = networkCode(e);
  if (net) return new ClusterUnreachable(`Tycho cannot reach Kubernetes (${net}) to ${doing}; check that the cluster is up and the kubeconfig points at it.`);
  return new InternalError(`Something went wrong while trying to ${doing}.`);
}

/** Runs one Kubernetes call and converts its failure. */
export async function callKubernetes<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toTychoError(e, doing);
  }
}
