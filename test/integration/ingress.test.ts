/**
 * Systems exposed through an Ingress, and volumes, against the local control plane: the objects
 * that land in the cluster, the https:// URL answering through the simulated ingress controller
 * (certificate checked against a CA made for this run), rollback, teardown, and claims that are
 * mounted, missing or not allowed.
 */
import { AppsV1Api, CoreV1Api, NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Launcher, type LauncherOptions } from '../../src/k8s/launcher.js';
import { ClaimUnavailable, InvalidSpec, NameInUse } from '../../src/k8s/errors.js';
import type { IngressSettings } from '../../src/k8s/ingress.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';
import { createTestNamespace, kubeConfig, launcherKubeConfig, systemObjects, waitFor } from '../support/cluster.js';
import { failureOf } from '../support/failures.js';
import { openUrl } from '../support/open-url.js';
import { wildcardCertificate, type TestCertificates } from '../support/test-ca.js';

const DOMAIN = 'apps.test';
const TLS_SECRET = 'wildcard-apps-test';
const ANNOTATIONS = {
  'nginx.ingress.kubernetes.io/auth-url': 'https://auth.example.org/oauth2/auth',
  'nginx.ingress.kubernetes.io/auth-signin': 'https://auth.example.org/oauth2/start?rd=$scheme://$host$escaped_request_uri',
};

let kc: KubeConfig;
let ns: string;
let certs: TestCertificates;
let launcher: Launcher;
let core: CoreV1Api;
let networking: NetworkingV1Api;

const settings = (extra: Partial<IngressSettings> = {}): IngressSettings => ({
  domain: DOMAIN,
  hostTemplate: '{name}.{domain}',
  className: 'nginx',
  tlsSecret: TLS_SECRET,
  annotations: ANNOTATIONS,
  address: process.env.TYCHO_TEST_INGRESS_ADDRESS ?? '',
  ...extra,
});

const spec = (name: string, extra: Partial<LaunchSpec> = {}): LaunchSpec => ({
  name,
  image: 'nginx',
  ports: [8888],
  owner: { id: 'cli:alice', display: 'alice' },
  origin: 'cli',
  ...extra,
});

async function launcherWith(opts: Partial<LauncherOptions>): Promise<Launcher> {
  return new Launcher(await launcherKubeConfig(ns), { namespace: ns, readyTimeoutSeconds: 120, expose: 'ingress', ingress: settings(), ...opts });
}

beforeAll(async () => {
  kc = kubeConfig();
  ns = await createTestNamespace('ingress');
  core = kc.makeApiClient(CoreV1Api);
  networking = kc.makeApiClient(NetworkingV1Api);
  certs = await wildcardCertificate(DOMAIN);
  // The operator's wildcard certificate, as a TLS Secret in the apps namespace.
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: TLS_SECRET }, type: 'kubernetes.io/tls', data: { 'tls.crt': certs.cert.toString('base64'), 'tls.key': certs.key.toString('base64') } },
  });
  launcher = await launcherWith({});
});

describe('a system exposed through an Ingress', () => {
  it('gets an Ingress owned by its Deployment (host, class, TLS, annotations), a ClusterIP Service, and an https URL that answers on the first fetch', async () => {
    const info = await launcher.up(spec('notebook'));
    expect(info.url).toBe('https://notebook.apps.test/');
    // Checked through the ingress controller, not only inside the cluster.
    expect(info.urlCheck).toEqual({ checked: 'public', verified: true });

    expect(await openUrl(info.url!, { ca: certs.ca })).toEqual({ status: 200, body: expect.stringContaining('Hello from notebook') });

    const dep = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'notebook' });
    const ing = await networking.readNamespacedIngress({ namespace: ns, name: 'notebook' });
    expect(ing.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'notebook', uid: dep.metadata!.uid, controller: true })]);
    expect(ing.metadata!.annotations).toEqual(ANNOTATIONS);
    expect(ing.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['notebook.apps.test'], secretName: TLS_SECRET }],
      rules: [{ host: 'notebook.apps.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'notebook', port: { number: 8888 } } } }] } }],
    });
    const svc = await core.readNamespacedService({ namespace: ns, name: 'notebook' });
    expect(svc.spec!.type).toBe('ClusterIP');
    expect((await launcher.status('notebook')).url).toBe('https://notebook.apps.test/');
    expect((await launcher.list()).map((s) => [s.name, s.url, s.host])).toEqual([['notebook', 'https://notebook.apps.test/', 'notebook.apps.test']]);

    // A host no Ingress names is the controller's 404, under its default certificate, not the wildcard one.
    expect(await openUrl('https://nobody.apps.test/', { ca: certs.ca })).toEqual({ refused: expect.stringMatching(/self-signed certificate/) });
    expect(await openUrl('https://nobody.apps.test/', { ca: 'unverified' })).toMatchObject({ status: 404 });

    await launcher.down('notebook');
    expect(await networking.readNamespacedIngress({ namespace: ns, name: 'notebook' }).then(() => 'still there', () => 'gone')).toBe('gone');
    expect(await openUrl(info.url!, { ca: 'unverified' })).toMatchObject({ status: 404 });
  });

  it('uses the host template, and cert-manager fills the TLS Secret when no wildcard one is configured', async () => {
    const l = await launcherWith({ ingress: settings({ hostTemplate: '{name}-{namespace}.{domain}', tlsSecret: undefined, annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' } }) });
    const info = await l.up(spec('dash'), { wait: false });
    expect(info.url).toBe(`https://dash-${ns}.apps.test/`);
    const ing = await networking.readNamespacedIngress({ namespace: ns, name: 'dash' });
    expect(ing.spec!.tls).toEqual([{ hosts: [`dash-${ns}.apps.test`], secretName: 'dash-tls' }]);
    expect(ing.metadata!.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt' });
    await l.down('dash');
  });

  it('a failed Ingress create is rolled back: no Deployment or Service is left', async () => {
    // Someone else's Ingress holds the name.
    await networking.createNamespacedIngress({
      namespace: ns,
      body: { metadata: { name: 'taken' }, spec: { rules: [{ host: 'other.example.org', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'other', port: { number: 80 } } } }] } }] } },
    });
    const e = await failureOf(launcher.up(spec('taken')));
    expect(e).toBeInstanceOf(NameInUse);
    await waitFor(async () => {
      const o = await systemObjects(ns, 'taken');
      return o.deployments.length + o.replicaSets.length + o.pods.length + o.services.length === 0;
    }, { what: 'the half-made launch to be gone' });
    // Theirs is untouched.
    expect((await networking.readNamespacedIngress({ namespace: ns, name: 'taken' })).spec!.rules![0]!.host).toBe('other.example.org');
  });

  it('other modes stay available: nodeport gives the node URL and no Ingress', async () => {
    const info = await launcher.up(spec('plain', { expose: 'nodeport' }));
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await networking.readNamespacedIngress({ namespace: ns, name: 'plain' }).then(() => 'exists', () => 'none')).toBe('none');
    await launcher.down('plain');
  });

  it('without an ingress domain, ingress cannot be chosen and nothing is created', async () => {
    const plain = new Launcher(await launcherKubeConfig(ns), { namespace: ns });
    const e = await failureOf(plain.up(spec('no-domain', { expose: 'ingress' })));
    expect(e).toBeInstanceOf(InvalidSpec);
    expect(e.message).toMatch(/no ingress domain \(the operator's setting TYCHO_INGRESS_DOMAIN\)/);
    expect((await systemObjects(ns, 'no-domain')).deployments).toEqual([]);
  });
});

describe('volumes: existing PersistentVolumeClaims', () => {
  const pvName = () => `${ns}-shared`;

  beforeAll(async () => {
    // A claim bound to a volume, as an operator would have made it.
    await core.createPersistentVolume({
      body: { metadata: { name: pvName() }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: '/tmp/tycho-test-pv' } } },
    });
    await core.createNamespacedPersistentVolumeClaim({
      namespace: ns,
      body: { metadata: { name: 'shared-data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', volumeName: pvName(), resources: { requests: { storage: '1Gi' } } } },
    });
    await waitFor(async () => (await core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'shared-data' })).status?.phase === 'Bound', { what: 'the claim to be bound' });
  });

  afterAll(async () => {
    await core.deletePersistentVolume({ name: pvName() }).catch(() => undefined);
  });

  it('mounts a claim at each path, read-only where asked, and the system becomes ready', async () => {
    const volumes = [
      { claim: 'shared-data', path: '/data', readOnly: true },
      { claim: 'shared-data', path: '/home/jovyan/work', readOnly: false, subPath: 'alice' },
    ];
    const info = await launcher.up(spec('with-data', { volumes }));
    expect(info.ready).toBe(true);
    const pod = (await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'with-data' })).spec!.template.spec!;
    expect(pod.volumes).toEqual([{ name: 'claim-0', persistentVolumeClaim: { claimName: 'shared-data' } }]);
    expect(pod.containers[0]!.volumeMounts).toEqual([
      { name: 'claim-0', mountPath: '/data', readOnly: true },
      { name: 'claim-0', mountPath: '/home/jovyan/work', subPath: 'alice' },
    ]);
    await launcher.down('with-data');
    // Tycho never deletes a claim.
    expect((await core.readNamespacedPersistentVolumeClaim({ namespace: ns, name: 'shared-data' })).metadata!.deletionTimestamp).toBeUndefined();
  });

  it('a missing claim fails before anything is created, naming the claim and the namespace', async () => {
    const e = await failureOf(launcher.up(spec('no-claim', { volumes: [{ claim: 'does-not-exist', path: '/data', readOnly: false }] })));
    expect(e).toBeInstanceOf(ClaimUnavailable);
    expect(e.message).toContain(`no PersistentVolumeClaim named does-not-exist in namespace ${ns}`);
    expect(await systemObjects(ns, 'no-claim')).toEqual({ deployments: [], replicaSets: [], pods: [], services: [] });
    expect(await networking.readNamespacedIngress({ namespace: ns, name: 'no-claim' }).then(() => 'exists', () => 'none')).toBe('none');
  });

  it('a claim outside the operator\'s prefix is refused, even one that exists', async () => {
    const limited = await launcherWith({ volumeClaimPrefix: 'team-' });
    const e = await failureOf(limited.up(spec('wrong-prefix', { volumes: [{ claim: 'shared-data', path: '/data', readOnly: true }] })));
    expect(e).toBeInstanceOf(ClaimUnavailable);
    expect(e.message).toMatch(/^The claim shared-data may not be mounted here: only claims whose names start with "team-" may \(the operator's setting TYCHO_VOLUME_CLAIM_PREFIX\)/);
    expect((await systemObjects(ns, 'wrong-prefix')).deployments).toEqual([]);
  });
});
