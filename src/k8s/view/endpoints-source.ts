/**
 * Which pod IPs a Service really routes to, whichever API the cluster serves them through.
 *
 * Clusters from 1.21 serve EndpointSlices in `discovery.k8s.io/v1`, and the Endpoints API is
 * deprecated there (1.33). 1.20 serves only `discovery.k8s.io/v1beta1`, so there Tycho reads
 * Endpoints. API discovery picks one; the rest of Tycho only sees "ready IPs per Service".
 *
 * Both carry Tycho's selector: the endpoints controller copies a Service's labels to its
 * Endpoints, and the EndpointSlice controller copies them to its slices (all but its own
 * reserved labels), so `app.kubernetes.io/managed-by=tycho` finds either.
 */
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1EndpointSlice, type V1Endpoints } from '@kubernetes/client-node';
import { apiCode } from '../kube.js';
import { slimMetadata } from './slim.js';

export type EndpointsApi = 'endpointslices' | 'endpoints';

/** The label the EndpointSlice controller puts on every slice of a Service. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';

/**
 * EndpointSlices when the cluster serves `discovery.k8s.io/v1` with them (1.21 and later), else
 * Endpoints. A 404 for the group version is the answer "not served"; any other failure is
 * thrown (the caller retries: it says nothing about the cluster's version).
 */
export async function discoverEndpointsApi(kc: KubeConfig): Promise<EndpointsApi> {
  try {
    const list = await kc.makeApiClient(DiscoveryV1Api).getAPIResources();
    return list.resources.some((r) => r.name === 'endpointslices') ? 'endpointslices' : 'endpoints';
  } catch (e) {
    if (apiCode(e) === 404) return 'endpoints';
    throw e;
  }
}

export interface EndpointsSource {
  readonly api: EndpointsApi;
  /** The collection to watch in the namespace, e.g. /api/v1/namespaces/NS/endpoints. */
  path(namespace: string): string;
  list(kc: KubeConfig, namespace: string, labelSelector: string): Promise<KubernetesListObject<KubernetesObject>>;
  /** What the live view keeps of one (slim.ts): the metadata without managedFields, and the addresses readyIps reads. */
  slim(obj: KubernetesObject): KubernetesObject;
  /** The Service an object describes: Endpoints share its name, slices name it in a label. */
  serviceOf(obj: KubernetesObject): string | undefined;
  /** Ready IPs per Service name, from every object of this kind. */
  readyIps(objects: readonly KubernetesObject[]): Map<string, Set<string>>;
}

function add(out: Map<string, Set<string>>, service: string, ip: string): void {
  let set = out.get(service);
  if (!set) out.set(service, (set = new Set()));
  set.add(ip);
}

const endpoints: EndpointsSource = {
  api: 'endpoints',
  path: (ns) => `/api/v1/namespaces/${ns}/endpoints`,
  list: (kc, namespace, labelSelector) => kc.makeApiClient(CoreV1Api).listNamespacedEndpoints({ namespace, labelSelector }),
  slim(obj) {
    const ep = obj as V1Endpoints;
    const subsets = (ep.subsets ?? []).map((s) => ({ addresses: (s.addresses ?? []).map((a) => ({ ip: a.ip })) }));
    return { apiVersion: ep.apiVersion, kind: ep.kind, metadata: slimMetadata(ep.metadata) ?? {}, subsets } as V1Endpoints;
  },
  serviceOf: (obj) => obj.metadata?.name,
  readyIps(objects) {
    const out = new Map<string, Set<string>>();
    for (const ep of objects as V1Endpoints[]) {
      const service = ep.metadata?.name;
      if (!service) continue;
      // `addresses` are the ready ones; `notReadyAddresses` are not routed to.
      for (const s of ep.subsets ?? []) for (const a of s.addresses ?? []) if (a.ip) add(out, service, a.ip);
    }
    return out;
  },
};

const endpointSlices: EndpointsSource = {
  api: 'endpointslices',
  path: (ns) => `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
  list: (kc, namespace, labelSelector) => kc.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace, labelSelector }),
  slim(obj) {
    const slice = obj as V1EndpointSlice;
    const endpoints = (slice.endpoints ?? []).map((e) => ({
      addresses: e.addresses,
      ...(e.conditions ? { conditions: { ...(e.conditions.ready !== undefined ? { ready: e.conditions.ready } : {}), ...(e.conditions.terminating !== undefined ? { terminating: e.conditions.terminating } : {}) } } : {}),
    }));
    return { apiVersion: slice.apiVersion, kind: slice.kind, metadata: slimMetadata(slice.metadata) ?? {}, addressType: slice.addressType, endpoints } as V1EndpointSlice;
  },
  serviceOf: (obj) => obj.metadata?.labels?.[LABEL_SERVICE_NAME],
  readyIps(objects) {
    const out = new Map<string, Set<string>>();
    for (const slice of objects as V1EndpointSlice[]) {
      const service = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
      if (!service) continue;
      for (const e of slice.endpoints ?? []) {
        // As kube-proxy reads it: an unset `ready` means ready; a terminating endpoint is not.
        if (e.conditions?.ready === false || e.conditions?.terminating === true) continue;
        // The controller writes exactly one address per pod; kube-proxy looks at no other.
        const ip = e.addresses[0];
        if (ip) add(out, service, ip);
      }
    }
    return out;
  },
};

export function endpointsSource(api: EndpointsApi): EndpointsSource {
  return api === 'endpointslices' ? endpointSlices : endpoints;
}
