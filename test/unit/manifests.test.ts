import { buildDeployment, buildSecret, buildService } from '../../src/k8s/manifests.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';
import type { V1Pod } from '@kubernetes/client-node';
import { ANN_LAUNCH_ID, ANN_URL_CHECK, LABEL_SYSTEM } from '../../src/k8s/labels.js';
import { missingParts, podsOf, systemState } from '../../src/k8s/view/system-model.js';

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

describe('the recorded command', () => {
  const recorded = (originalCommand: string) => buildDeployment({ ...spec, originalCommand }, 'team').metadata!.annotations!['tycho.renci.org/command']!;
  // No lone surrogate (half an emoji) and no trailing zero-width joiner (a cut-off sequence).
  const whole = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u200D$/.test(s);

  it('is cut at 2000 characters between graphemes, never inside an emoji', () => {
    // A surrogate pair would straddle character 2000.
    const thumbs = recorded(`${'a'.repeat(1999)}👍 and more`);
    expect(thumbs).toBe('a'.repeat(1999));
    // A family (four people joined by zero-width joiners, 11 code units) would straddle it.
    const family = recorded(`${'a'.repeat(1995)}👨‍👩‍👧‍👦 and more`);
    expect(family).toBe('a'.repeat(1995));
    // A flag is two regional indicators (4 code units): both or none.
    const flag = recorded(`${'a'.repeat(1998)}🇫🇷 and more`);
    expect(flag).toBe('a'.repeat(1998));
    expect(recorded(`${'a'.repeat(1996)}🇫🇷 and more`)).toBe(`${'a'.repeat(1996)}🇫🇷`);
    for (const s of [thumbs, family, flag]) expect(whole(s)).toBe(true);
  });

  it('is kept whole when it fits', () => {
    expect(recorded(`/tycho up ${'🙂'.repeat(10)}`)).toBe(`/tycho up ${'🙂'.repeat(10)}`);
  });
});

describe('secret environment variables', () => {
  const secretSpec: LaunchSpec = { ...spec, secretEnv: [{ name: 'DB_PASSWORD', value: 'hunter2' }] };
  const d = buildDeployment(secretSpec, 'team');

  it('are referenced from the pod by secretKeyRef; the Deployment never holds a value', () => {
    expect(d.spec!.template.spec!.containers[0]!.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'jupyter-ds', key: 'DB_PASSWORD' } } },
    ]);
    expect(JSON.stringify(d)).not.toContain('hunter2');
    // No pod before its Secret exists: the launcher unpauses once it has created it.
    expect(d.spec!.paused).toBe(true);
    expect(buildDeployment(spec, 'team').spec!.paused).toBeUndefined();
  });

  it('live in a Secret named after the system, labelled as Tycho\'s and owned by the Deployment', () => {
    const s = buildSecret(secretSpec, 'team', { name: 'jupyter-ds', uid: 'uid-1' });
    expect(s.metadata).toMatchObject({ name: 'jupyter-ds', namespace: 'team', labels: { 'app.kubernetes.io/managed-by': 'tycho', 'tycho.renci.org/system': 'jupyter-ds' } });
    expect(s.metadata!.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'jupyter-ds', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    expect(s.stringData).toEqual({ DB_PASSWORD: 'hunter2' });
  });
});

describe("a system's pods, told apart from an earlier system's of the same name", () => {
  const pod = (name: string, launchId: string | undefined, created: string): V1Pod => ({
    metadata: { name, labels: { [LABEL_SYSTEM]: 'nb' }, creationTimestamp: created as unknown as Date, ...(launchId ? { annotations: { [ANN_LAUNCH_ID]: launchId } } : {}) },
  });

  it('by the launch id its pod template carries, even within the second timestamps are kept to', () => {
    const spec = { name: 'nb', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' as const, annotations: { [ANN_LAUNCH_ID]: 'new-launch' } };
    const d = buildDeployment(spec, 'ns');
    expect(d.spec!.template.metadata!.annotations).toEqual({ [ANN_LAUNCH_ID]: 'new-launch' });
    d.metadata!.creationTimestamp = '2026-11-26T01:00:00Z' as unknown as Date;
    const old = pod('nb-old', 'old-launch', '2026-11-26T01:00:00Z');
    const fresh = pod('nb-new', 'new-launch', '2026-11-26T01:00:00Z');
    expect(podsOf(d, [old, fresh]).map((p) => p.metadata!.name)).toEqual(['nb-new']);
  });

  it('by age for a Deployment launched before its pod template carried the id (the id on the Deployment only)', () => {
    const d = buildDeployment({ name: 'nb', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' }, 'ns');
    d.metadata!.annotations![ANN_LAUNCH_ID] = 'old-style';
    d.metadata!.creationTimestamp = '2026-11-26T01:00:05Z' as unknown as Date;
    expect(podsOf(d, [pod('nb-running', undefined, '2026-11-26T01:00:06Z')]).map((p) => p.metadata!.name)).toEqual(['nb-running']);
  });

  it('by age for a Deployment without a launch id (made by hand)', () => {
    const d = buildDeployment({ name: 'nb', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' }, 'ns');
    expect(d.spec!.template.metadata!.annotations).toBeUndefined();
    d.metadata!.creationTimestamp = '2026-11-26T01:00:05Z' as unknown as Date;
    expect(podsOf(d, [pod('nb-old', undefined, '2026-11-26T01:00:01Z'), pod('nb-new', undefined, '2026-11-26T01:00:06Z')]).map((p) => p.metadata!.name)).toEqual(['nb-new']);
  });
});

describe('what the repair makes or starts again (missingParts)', () => {
  const spec = { name: 'nb', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' as const, secretEnv: [{ name: 'TOKEN', value: 'x' }] };
  const service = buildService(spec, 'ns', { name: 'nb', uid: 'u1' }, 'NodePort');

  it('starts a --secret-env Deployment left paused before it ever served', () => {
    const d = buildDeployment(spec, 'ns');
    expect(missingParts({ deployment: d, service, pods: [] }, false)).toEqual(['unpause']);
  });

  it('leaves paused one that served and was paused by hand (kubectl rollout pause)', () => {
    const d = buildDeployment({ ...spec, annotations: { [ANN_URL_CHECK]: '{"checked":"public","verified":true}' } }, 'ns');
    expect(missingParts({ deployment: d, service, pods: [] }, false)).toEqual([]);
  });
});

describe('a first Ready', () => {
  const spec = { name: 'nb', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' as const, annotations: { [ANN_LAUNCH_ID]: 'new-launch' } };
  const service = buildService(spec, 'ns', { name: 'nb', uid: 'u1' }, 'NodePort');
  const readyPod = (ip: string): V1Pod => ({
    metadata: { name: `nb-${ip}`, labels: { [LABEL_SYSTEM]: 'nb' }, annotations: { [ANN_LAUNCH_ID]: 'new-launch' } },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  });

  it("waits while the Service still routes to an earlier system's pod of the same name", () => {
    const deployment = buildDeployment(spec, 'ns');
    const pods = [readyPod('10.0.0.2')];
    expect(systemState({ deployment, service, pods, readyIps: new Set(['10.0.0.1', '10.0.0.2']) }).stage).toBe('started');
    expect(systemState({ deployment, service, pods, readyIps: new Set(['10.0.0.2']) }).stage).toBe('ready');
  });

  it('is not taken back from a system that served, while a replaced pod is still listed', () => {
    const deployment = buildDeployment({ ...spec, annotations: { ...spec.annotations, [ANN_URL_CHECK]: '{"checked":"public","verified":true}' } }, 'ns');
    expect(systemState({ deployment, service, pods: [readyPod('10.0.0.3')], readyIps: new Set(['10.0.0.2', '10.0.0.3']) }).stage).toBe('ready');
  });
});
