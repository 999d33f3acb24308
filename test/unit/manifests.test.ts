import { buildDeployment, buildService } from '../../src/k8s/manifests.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';

const spec: LaunchSpec = {
  name: 'jupyter-ds',
  image: 'jupyter/datascience-notebook',
  ports: [8888],
  command: ['start.sh', 'jupyter', 'lab'],
  env: [{ name: 'A', value: '1' }],
  owner: { id: 'slack:U1', display: '<@U1>' },
  origin: 'slack',
  originalCommand: '/tycho up -n jupyter-ds',
};

describe('the Deployment', () => {
  const d = buildDeployment(spec, 'team', new Date('2026-01-02T03:04:05Z'));
  const pod = d.spec!.template.spec!;
  const c = pod.containers[0]!;

  it('carries the labels and annotations that hold all of Tycho\'s state', () => {
    expect(d.metadata!.labels).toEqual({ 'app.kubernetes.io/managed-by': 'tycho', 'app.kubernetes.io/name': 'jupyter-ds', 'tycho.renci.org/system': 'jupyter-ds' });
    expect(d.metadata!.annotations).toEqual({
      'tycho.renci.org/owner': '<@U1>',
      'tycho.renci.org/owner-id': 'slack:U1',
      'tycho.renci.org/origin': 'slack',
      'tycho.renci.org/created': '2026-01-02T03:04:05.000Z',
      'tycho.renci.org/command': '/tycho up -n jupyter-ds',
    });
    expect(d.spec!.replicas).toBe(1);
  });

  it('passes the command as argv, never through a shell', () => {
    expect(c.args).toEqual(['start.sh', 'jupyter', 'lab']);
    expect(c.command).toBeUndefined();
  });

  it('applies the safe defaults', () => {
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
  });

  it('lets a launch override cpu and memory and ask for GPUs', () => {
    const g = buildDeployment({ ...spec, resources: { cpu: '2', memory: '4Gi', gpu: 1 } }, 'team').spec!.template.spec!.containers[0]!;
    expect(g.resources).toEqual({ requests: { cpu: '2', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' } });
  });
});

describe('the Service', () => {
  it('is a NodePort owned by the Deployment and selects only its pods', () => {
    const s = buildService({ ...spec, ports: [8888, 9000] }, 'team', { name: 'jupyter-ds', uid: 'u-1' }, 'NodePort');
    expect(s.spec!.type).toBe('NodePort');
    expect(s.spec!.selector).toEqual({ 'app.kubernetes.io/managed-by': 'tycho', 'tycho.renci.org/system': 'jupyter-ds' });
    expect(s.spec!.ports!.map((p) => [p.port, p.targetPort])).toEqual([[8888, 8888], [9000, 9000]]);
    expect(s.metadata!.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'jupyter-ds', uid: 'u-1', controller: true, blockOwnerDeletion: true }]);
  });
});
