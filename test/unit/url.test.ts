import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { resolveUrl } from '../../src/k8s/url.js';

const svc = (type: string, extra: Partial<V1Service> = {}): V1Service => ({
  metadata: { name: 'web', namespace: 'team' },
  spec: { type, ports: [{ port: 8888, nodePort: 31234 }] },
  ...extra,
});
const readyPod: V1Pod = { status: { hostIP: '10.1.2.3', conditions: [{ type: 'Ready', status: 'True' }] } };
const pendingPod: V1Pod = { status: { hostIP: '10.1.2.4', conditions: [{ type: 'Ready', status: 'False' }] } };

describe('resolveUrl', () => {
  it('NodePort: the node that runs the ready pod', () => {
    expect(resolveUrl(svc('NodePort'), [pendingPod, readyPod])).toBe('http://10.1.2.3:31234');
  });
  it('NodePort: the configured public host wins', () => {
    expect(resolveUrl(svc('NodePort'), [readyPod], 'apps.example.org')).toBe('http://apps.example.org:31234');
  });
  it('NodePort: no URL while nothing is ready and no host is configured', () => {
    expect(resolveUrl(svc('NodePort'), [pendingPod])).toBeNull();
  });
  it('LoadBalancer: the ingress address, or none yet', () => {
    expect(resolveUrl(svc('LoadBalancer', { status: { loadBalancer: { ingress: [{ hostname: 'lb.example.org' }] } } }), [])).toBe('http://lb.example.org:8888');
    expect(resolveUrl(svc('LoadBalancer', { status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } }), [])).toBe('http://203.0.113.7:8888');
    expect(resolveUrl(svc('LoadBalancer'), [])).toBeNull();
  });
  it('ClusterIP: the in-cluster DNS name', () => {
    expect(resolveUrl(svc('ClusterIP'), [])).toBe('http://web.team.svc.cluster.local:8888');
  });
  it('brackets IPv6 hosts', () => {
    expect(resolveUrl(svc('NodePort'), [{ status: { hostIP: 'fd00::1', conditions: [{ type: 'Ready', status: 'True' }] } }])).toBe('http://[fd00::1]:31234');
  });
});
