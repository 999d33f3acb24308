import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { resolveUrl } from '../../src/k8s/url.js';
import { ingressProbeAddress } from '../../src/k8s/ingress.js';

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

describe('ingressProbeAddress: where Tycho opens an ingress URL before handing it out', () => {
  const settings = { domain: 'apps.example.org', hostTemplate: '{name}.{domain}', annotations: {} };
  const withStatus = (entry: { ip?: string; hostname?: string }) => ({ status: { loadBalancer: { ingress: [entry] } } });
  it('the configured address wins, port 443 unless given (IPv6 in brackets)', () => {
    expect(ingressProbeAddress({ ...settings, address: '10.0.0.9' }, withStatus({ ip: '203.0.113.7' }))).toEqual({ host: '10.0.0.9', port: 443 });
    expect(ingressProbeAddress({ ...settings, address: 'ingress.internal:8443' }, undefined)).toEqual({ host: 'ingress.internal', port: 8443 });
    expect(ingressProbeAddress({ ...settings, address: '[fd00::1]:443' }, undefined)).toEqual({ host: 'fd00::1', port: 443 });
  });
  it("else the Ingress's own status.loadBalancer address, an IP or a host name", () => {
    expect(ingressProbeAddress(settings, withStatus({ ip: '203.0.113.7' }))).toEqual({ host: '203.0.113.7', port: 443 });
    expect(ingressProbeAddress(settings, withStatus({ hostname: 'lb.example.org' }))).toEqual({ host: 'lb.example.org', port: 443 });
  });
  it('else none: the Service is checked in the cluster instead', () => {
    expect(ingressProbeAddress(settings, { status: {} })).toBeUndefined();
    expect(ingressProbeAddress(undefined, undefined)).toBeUndefined();
  });
});
