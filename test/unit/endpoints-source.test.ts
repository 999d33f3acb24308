/**
 * Endpoints or EndpointSlices, chosen by API discovery: the local 1.20 API server (which serves
 * only discovery.k8s.io/v1beta1) is answered with Endpoints for real; a stand-in API server that
 * serves discovery.k8s.io/v1 gets EndpointSlices. Either way the rest of Tycho sees the same
 * "ready IPs per Service", and a system is ready only when its pod's IP is among them.
 */
import { type KubeConfig, type V1Deployment, type V1EndpointSlice, type V1Endpoints, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { discoverEndpointsApi, endpointsSource, LABEL_SERVICE_NAME } from '../../src/k8s/view/endpoints-source.js';
import { systemState } from '../../src/k8s/view/system-model.js';
import { LiveView } from '../../src/k8s/view/live-view.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { kubeConfigAt } from '../support/kubeconfig-at.js';

const labels = { 'app.kubernetes.io/managed-by': 'tycho', 'tycho.renci.org/system': 'web' };

function slice(name: string, service: string, endpoints: V1EndpointSlice['endpoints']): V1EndpointSlice {
  return { addressType: 'IPv4', metadata: { name, namespace: 'apps', labels: { ...labels, [LABEL_SERVICE_NAME]: service } }, endpoints };
}

describe('ready IPs from EndpointSlices', () => {
  const source = endpointsSource('endpointslices');

  it('reads the slices of the cluster that serves discovery.k8s.io/v1', () => {
    expect(source.api).toBe('endpointslices');
    expect(source.path('apps')).toBe('/apis/discovery.k8s.io/v1/namespaces/apps/endpointslices');
  });

  it('merges every slice of a Service, keeps ready (and unset) endpoints, drops not-ready and terminating ones', () => {
    const ips = source.readyIps([
      slice('web-abcde', 'web', [
        { addresses: ['10.0.0.1'], conditions: { ready: true } },
        // "A nil value should be interpreted as true", as kube-proxy does.
        { addresses: ['10.0.0.2'] },
        { addresses: ['10.0.0.3'], conditions: { ready: false, serving: true } },
      ]),
      slice('web-fghij', 'web', [
        { addresses: ['10.0.0.4'], conditions: { ready: true } },
        { addresses: ['10.0.0.5'], conditions: { ready: false, serving: true, terminating: true } },
      ]),
      slice('other-klmno', 'other', [{ addresses: ['10.0.1.1'], conditions: { ready: true } }]),
      // An EndpointSlice without the Service label (made by hand) belongs to no Service.
      { addressType: 'IPv4', metadata: { name: 'stray', labels }, endpoints: [{ addresses: ['10.0.2.1'] }] } as V1EndpointSlice,
    ]);
    expect([...ips.keys()].sort()).toEqual(['other', 'web']);
    expect([...ips.get('web')!].sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4']);
    expect([...ips.get('other')!]).toEqual(['10.0.1.1']);
  });

  it('names the Service by its label, not by the slice\'s generated name', () => {
    expect(source.serviceOf(slice('web-abcde', 'web', []))).toBe('web');
  });

  it('a system is ready only once its pod\'s IP is among the slices\' ready endpoints', () => {
    const deployment: V1Deployment = { metadata: { name: 'web', uid: 'u1', creationTimestamp: new Date(0) } };
    const service: V1Service = { metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] } };
    const pod: V1Pod = {
      metadata: { name: 'web-1', labels, creationTimestamp: new Date(1) },
      status: { podIP: '10.0.0.9', hostIP: '192.0.2.1', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [] },
    };
    const notYet = source.readyIps([slice('web-a', 'web', [{ addresses: ['10.0.0.9'], conditions: { ready: false } }])]).get('web');
    expect(systemState({ deployment, service, pods: [pod], ...(notYet ? { readyIps: notYet } : {}) }).stage).toBe('started');
    const routed = source.readyIps([slice('web-a', 'web', [{ addresses: ['10.0.0.9'], conditions: { ready: true } }])]).get('web')!;
    expect(systemState({ deployment, service, pods: [pod], readyIps: routed }).stage).toBe('ready');
  });
});

describe('ready IPs from Endpoints', () => {
  it('the ready addresses only, never notReadyAddresses', () => {
    const ep: V1Endpoints = { metadata: { name: 'web', labels }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], notReadyAddresses: [{ ip: '10.0.0.2' }] }] };
    const ips = endpointsSource('endpoints').readyIps([ep]);
    expect([...ips.get('web')!]).toEqual(['10.0.0.1']);
  });
});

describe('API discovery', () => {
  /** A stand-in API server: answers GET /apis/discovery.k8s.io/v1 with `status` and `body`. */
  async function apiServer(status: number, body: unknown): Promise<{ kc: KubeConfig; server: Server; paths: string[] }> {
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(req.url === '/apis/discovery.k8s.io/v1' ? status : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/apis/discovery.k8s.io/v1' ? body : { kind: 'Status', code: 404 }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const kc = kubeConfigAt(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return { kc, server, paths };
  }
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  it('the local 1.20 API server serves no discovery.k8s.io/v1: Endpoints, and the live view follows them', async () => {
    expect(await discoverEndpointsApi(kubeConfig())).toBe('endpoints');
    const view = new LiveView(kubeConfig(), await createTestNamespace('endpoints-api'));
    try {
      await view.start();
      expect(view.endpointsKind).toBe('endpoints');
    } finally {
      await view.stop();
    }
  });

  it('a cluster that serves EndpointSlices in discovery.k8s.io/v1 (1.21 and later): EndpointSlices', async () => {
    const api = await apiServer(200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'discovery.k8s.io/v1',
      resources: [{ name: 'endpointslices', singularName: '', namespaced: true, kind: 'EndpointSlice', verbs: ['get', 'list', 'watch'] }],
    });
    servers.push(api.server);
    expect(await discoverEndpointsApi(api.kc)).toBe('endpointslices');
    expect(api.paths).toEqual(['/apis/discovery.k8s.io/v1']);
  });

  it('a failure that says nothing about the version is not taken for an answer', async () => {
    const api = await apiServer(503, { kind: 'Status', code: 503, message: 'etcd is down' });
    servers.push(api.server);
    await expect(discoverEndpointsApi(api.kc)).rejects.toMatchObject({ code: 503 });
  });
});
