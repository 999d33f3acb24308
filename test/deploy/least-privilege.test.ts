/**
 * The Role is no more than enough, and a Role that is less than enough gives a clear answer.
 *
 * - As Tycho's ServiceAccount (kubernetes/ installed under test namespaces, the SA's own token):
 *   everything it may do in the apps namespace is exactly the Role's rules, and in its own
 *   namespace exactly reading and renewing its leader Lease; Secrets, other namespaces,
 *   cluster-wide objects and RBAC objects are all refused (SelfSubjectAccessReview and real
 *   calls → 403). With the opt-in secret-env component, and only then, it may create, read and
 *   delete Secrets in the apps namespace.
 * - Each permission in the Role is used: with it removed ("someone trimmed the Role"), a launcher
 *   flow fails with a Forbidden error that names exactly that permission, never a crash or a
 *   timeout, and a refused launch leaves nothing behind. The REST API and the CLI pass the same
 *   sentence on, and the server keeps running.
 */
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  NetworkingV1Api,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type KubeConfig,
  type V1PolicyRule,
  type V1Role,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Launcher } from '../../src/k8s/launcher.js';
import { ThreadRecords } from '../../src/k8s/thread-records.js';
import { DeploymentEvents } from '../../src/k8s/events.js';
import { Forbidden } from '../../src/k8s/errors.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';
import { explain } from '../../src/bot/error-text.js';
import { plain } from '../../src/bot/slack-text.js';
import { silentLogger } from '../../src/log.js';
import type { RunningTycho } from '../../src/server/tycho.js';
import { createTestNamespace, kubeConfig, systemObjects, waitFor } from '../support/cluster.js';
import { call, originalBody, startServer } from '../api/helpers.js';
import { errorLine, tycho } from '../cli/run-cli.js';
import {
  KUBERNETES_DIR,
  LEASE_NAME,
  REPO,
  ROLE_NAME,
  SA_NAME,
  SECRET_NAME,
  can,
  findObject,
  installTycho,
  removeServiceAccountFiles,
  render,
  serviceAccountKubeConfig,
  serviceAccountKubeconfigFile,
  statusOf,
} from './support.js';
import { failureOf } from '../support/failures.js';

/** An ingress domain, for the flows that use the ingress rules (the simulated controller answers). */
const INGRESS = { domain: 'apps.test', hostTemplate: '{name}.{domain}', annotations: {}, address: process.env.TYCHO_TEST_INGRESS_ADDRESS ?? '' };
const spec = (name: string, image = 'nginx'): LaunchSpec => ({ name, image, ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' });


/** A rule set as "group/resource:verb" strings ("" is the core group), "group/resource[name]:verb" when limited to names. */
function permissions(rules: V1PolicyRule[]): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups ?? []) {
      for (const res of r.resources ?? []) {
        for (const v of r.verbs) {
          if (r.resourceNames?.length) for (const n of r.resourceNames) out.add(`${g}/${res}[${n}]:${v}`);
          else out.add(`${g}/${res}:${v}`);
        }
      }
    }
  }
  return [...out].sort();
}

/** What `kc` may do in `namespace`, as the authorizer answers a SelfSubjectRulesReview. */
async function granted(kc: KubeConfig, namespace: string): Promise<string[]> {
  const review = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({ body: { spec: { namespace } } });
  // Every authenticated user may ask what it may do (system:basic-user); that is not Tycho's Role.
  const selfReviews = ['authorization.k8s.io/selfsubjectaccessreviews:create', 'authorization.k8s.io/selfsubjectrulesreviews:create'];
  return permissions(review.status!.resourceRules).filter((p) => !selfReviews.includes(p));
}

/** All Tycho may do in its own namespace: read and renew its leader Lease, by name. */
const LEADER_PERMISSIONS = ['get', 'patch', 'update'].map((verb) => `coordination.k8s.io/leases[${LEASE_NAME}]:${verb}`).sort();
const SECRET_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];
const secretBody = (name: string) => ({ metadata: { name }, stringData: { KEY: 'value' } });

let roleRules: V1PolicyRule[];
afterAll(removeServiceAccountFiles);

beforeAll(async () => {
  roleRules = findObject<V1Role>(await render(KUBERNETES_DIR), 'Role', ROLE_NAME).rules ?? [];
});

describe('the Role is no more than enough', () => {
  /** The apps namespace: where the Role is. */
  let ns: string;
  /** Tycho's own namespace: its ServiceAccount, its Lease. */
  let own: string;
  let other: string;
  let sa: KubeConfig;

  beforeAll(async () => {
    [ns, other] = await Promise.all([createTestNamespace('least-priv'), createTestNamespace('least-priv-other')]);
    own = (await installTycho(ns)).namespace;
    sa = await serviceAccountKubeConfig(own);
  });

  it('everything the ServiceAccount may do in the apps namespace is the Role\'s rules, and nothing else', async () => {
    expect(await granted(sa, ns)).toEqual(permissions(roleRules));
    expect(await granted(sa, ns)).toEqual([
      '/configmaps:create',
      '/configmaps:delete',
      '/configmaps:list',
      '/configmaps:patch',
      '/endpoints:list',
      '/endpoints:watch',
      '/events:create',
      '/persistentvolumeclaims:get',
      '/pods/log:get',
      '/pods:list',
      '/pods:watch',
      '/services:create',
      '/services:delete',
      '/services:get',
      '/services:list',
      '/services:watch',
      'apps/deployments/finalizers:update',
      'apps/deployments:create',
      'apps/deployments:delete',
      'apps/deployments:get',
      'apps/deployments:list',
      'apps/deployments:patch',
      'apps/deployments:watch',
      'discovery.k8s.io/endpointslices:list',
      'discovery.k8s.io/endpointslices:watch',
      'networking.k8s.io/ingresses:create',
      'networking.k8s.io/ingresses:delete',
      'networking.k8s.io/ingresses:get',
      'networking.k8s.io/ingresses:list',
      'networking.k8s.io/ingresses:watch',
    ]);
  });

  it('in its own namespace it may only read and renew its leader Lease, by name', async () => {
    expect(await granted(sa, own)).toEqual(LEADER_PERMISSIONS);
    const leases = sa.makeApiClient(CoordinationV1Api);
    // Take the Lease, renew it, read it back: what a leader does.
    const lease = await leases.readNamespacedLease({ namespace: own, name: LEASE_NAME });
    const acquired = await leases.replaceNamespacedLease({ namespace: own, name: LEASE_NAME, body: { ...lease, spec: { holderIdentity: 'tycho-pod-1', leaseDurationSeconds: 15 } } });
    expect(acquired.spec!.holderIdentity).toBe('tycho-pod-1');
    // A MicroTime wants six fractional digits (the client's Date serialises with three, which 1.20 refuses).
    const renewTime = new Date().toISOString().replace(/Z$/, '000Z');
    await leases.patchNamespacedLease(
      { namespace: own, name: LEASE_NAME, body: [{ op: 'add', path: '/spec/renewTime', value: renewTime }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    const renewed = await leases.readNamespacedLease({ namespace: own, name: LEASE_NAME });
    expect([renewed.spec!.holderIdentity, String(renewed.spec!.renewTime)]).toEqual(['tycho-pod-1', renewTime]);

    // Not another Lease: not create one, not read or take someone else's, not list them all.
    const admin = kubeConfig().makeApiClient(CoordinationV1Api);
    await admin.createNamespacedLease({ namespace: own, body: { metadata: { name: 'someone-else' } } });
    expect(await statusOf(leases.createNamespacedLease({ namespace: own, body: { metadata: { name: 'tycho-leader-2' } } }))).toBe(403);
    expect(await statusOf(leases.readNamespacedLease({ namespace: own, name: 'someone-else' }))).toBe(403);
    expect(await statusOf(leases.replaceNamespacedLease({ namespace: own, name: 'someone-else', body: { metadata: { name: 'someone-else' }, spec: { holderIdentity: 'tycho-pod-1' } } }))).toBe(403);
    expect(await statusOf(leases.listNamespacedLease({ namespace: own }))).toBe(403);
    expect(await statusOf(leases.deleteNamespacedLease({ namespace: own, name: LEASE_NAME }))).toBe(403);
    expect(await statusOf(leases.createNamespacedLease({ namespace: ns, body: { metadata: { name: LEASE_NAME } } }))).toBe(403);
    expect((await admin.listNamespacedLease({ namespace: own })).items.map((l) => l.metadata!.name).sort()).toEqual(['someone-else', LEASE_NAME]);
  });

  it('in the apps namespace it may keep its records of Slack threads (create, patch, list, delete), and cannot read a ConfigMap', async () => {
    const records = new ThreadRecords(sa, ns);
    const entry = { name: 'a', channel: 'C0TEAM0001', ts: '1.2', owner: '<@U0ALICE001>' };
    // What the leader does: open a thread, add its Ready reply, read them all, close it once.
    await records.open('uid-1', entry);
    await records.setReadyTs('uid-1', '1.3');
    expect(await records.all()).toEqual([{ uid: 'uid-1', entry: { ...entry, readyTs: '1.3' }, open: true }]);
    expect(await records.take('uid-1', entry)).toBe(true);
    // The second taker finds it closed: exactly one closes a thread.
    expect(await records.take('uid-1', entry)).toBe(false);
    const [closed] = await records.all();
    expect(closed).toMatchObject({ uid: 'uid-1', open: false });
    expect(await records.sweep([closed!], closed!.closedAt! + 2 * 3600_000)).toBe(1);
    expect(await records.all()).toEqual([]);
    // It cannot read a ConfigMap (an app's configuration) here, nor touch any in its own namespace.
    const core = sa.makeApiClient(CoreV1Api);
    expect(await statusOf(core.readNamespacedConfigMap({ namespace: ns, name: 'kube-root-ca.crt' }))).toBe(403);
    expect(await statusOf(core.listNamespacedConfigMap({ namespace: own }))).toBe(403);
    expect(await statusOf(core.createNamespacedConfigMap({ namespace: own, body: { metadata: { name: 'tycho-thread-x' } } }))).toBe(403);
  });

  it('it may record the audit trail\'s Events on a Deployment (create), and cannot read or change Events', async () => {
    const admin = new Launcher(kubeConfig(), { namespace: ns });
    await admin.up(spec('audited'), { wait: false });
    const d = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'audited' });
    const warnings: string[] = [];
    await new DeploymentEvents(sa, ns, { warn: (m: string) => warnings.push(m) }).record({ name: 'audited', uid: d.metadata!.uid! }, { type: 'Normal', reason: 'Launched', message: 'up by slack:U0ALICE001 via slack: done; rule: policy' });
    expect(warnings).toEqual([]);
    const events = await kubeConfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=audited,reason=Launched' });
    expect(events.items.map((e) => [e.involvedObject.uid, e.source?.component])).toEqual([[d.metadata!.uid, 'tycho']]);
    const core = sa.makeApiClient(CoreV1Api);
    expect(await statusOf(core.listNamespacedEvent({ namespace: ns }))).toBe(403);
    expect(await statusOf(core.deleteNamespacedEvent({ namespace: ns, name: events.items[0]!.metadata!.name! }))).toBe(403);
    await admin.down('audited');
  });

  it('cannot touch its own Deployment, Service or Secret, nor launch there', async () => {
    for (const [verb, resource, group] of [
      ['get', 'deployments', 'apps'],
      ['patch', 'deployments', 'apps'],
      ['create', 'deployments', 'apps'],
      ['delete', 'services', ''],
      ['list', 'pods', ''],
      ['create', 'pods', ''],
    ] as const) {
      expect([verb, resource, await can(sa, { namespace: own, verb, resource, ...(group ? { group } : {}) })]).toEqual([verb, resource, false]);
    }
    expect(await statusOf(sa.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: own, name: 'tycho' }))).toBe(403);
    const e = await failureOf(new Launcher(sa, { namespace: own }).up(spec('in-own')));
    expect(e).toBeInstanceOf(Forbidden);
    // Refused at its first call there, whichever that is; nothing was created.
    expect(e.message).toMatch(new RegExp(`^Tycho is not allowed to \\w+ [a-z.]+ in namespace "${own}"`));
    expect((await kubeConfig().makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: own })).items.map((d) => d.metadata!.name)).toEqual(['tycho']);
  });

  it('cannot read or create Secrets, in either namespace, not even its own token', async () => {
    for (const namespace of [ns, own]) {
      for (const verb of SECRET_VERBS) expect([namespace, verb, await can(sa, { namespace, verb, resource: 'secrets' })]).toEqual([namespace, verb, false]);
    }
    const core = sa.makeApiClient(CoreV1Api);
    expect(await statusOf(core.listNamespacedSecret({ namespace: ns }))).toBe(403);
    expect(await statusOf(core.createNamespacedSecret({ namespace: ns, body: secretBody('app-secret') }))).toBe(403);
    const token = (await kubeConfig().makeApiClient(CoreV1Api).readNamespacedServiceAccount({ namespace: own, name: SA_NAME })).secrets![0]!.name!;
    expect(await statusOf(core.readNamespacedSecret({ namespace: own, name: token }))).toBe(403);
    expect(await statusOf(core.readNamespacedSecret({ namespace: own, name: SECRET_NAME }))).toBe(403);
  });

  it('cannot touch another namespace, nor anything cluster-wide', async () => {
    for (const namespace of [other, own, 'default', 'kube-system']) {
      expect(await can(sa, { namespace, verb: 'create', group: 'apps', resource: 'deployments' })).toBe(false);
      expect(await can(sa, { namespace, verb: 'list', resource: 'pods' })).toBe(false);
    }
    const elsewhere = new Launcher(sa, { namespace: other });
    const up = await failureOf(elsewhere.up(spec('elsewhere')));
    expect(up).toBeInstanceOf(Forbidden);
    // Refused at its first call (following the system on the live view), before anything is created.
    expect(up.message).toMatch(new RegExp(`^Tycho is not allowed to (list|watch) (deployments\\.apps|services|pods|endpoints) in namespace "${other}"`));
    expect((await systemObjects(other, 'elsewhere')).deployments).toEqual([]);
    // Its four lists run at once and all are refused: whichever answer comes first is named.
    expect((await failureOf(elsewhere.list())).message).toMatch(new RegExp(`not allowed to list (deployments\\.apps|services|pods|endpoints) in namespace "${other}"`));

    const core = sa.makeApiClient(CoreV1Api);
    expect(await statusOf(core.listNamespacedPod({ namespace: 'kube-system' }))).toBe(403);
    expect(await statusOf(core.listPodForAllNamespaces())).toBe(403);
    expect(await statusOf(sa.makeApiClient(AppsV1Api).listDeploymentForAllNamespaces())).toBe(403);
    expect(await statusOf(core.listNamespace())).toBe(403);
    expect(await statusOf(core.listNode())).toBe(403);
    expect(await statusOf(core.createNamespace({ body: { metadata: { name: `${other}-x` } } }))).toBe(403);
  });

  it('cannot create or change RBAC objects, so it cannot give itself more', async () => {
    const rbac = sa.makeApiClient(RbacAuthorizationV1Api);
    const rules = [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }];
    const roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ROLE_NAME };
    const subjects = [{ kind: 'ServiceAccount', name: SA_NAME, namespace: own }];
    expect(await statusOf(rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'more' }, rules } }))).toBe(403);
    expect(await statusOf(rbac.createNamespacedRoleBinding({ namespace: ns, body: { metadata: { name: 'more' }, roleRef, subjects } }))).toBe(403);
    expect(await statusOf(rbac.createClusterRole({ body: { metadata: { name: `${ns}-more` }, rules } }))).toBe(403);
    expect(
      await statusOf(rbac.createClusterRoleBinding({ body: { metadata: { name: `${ns}-more` }, roleRef: { ...roleRef, kind: 'ClusterRole', name: 'cluster-admin' }, subjects } })),
    ).toBe(403);
    expect(await statusOf(rbac.replaceNamespacedRole({ namespace: ns, name: ROLE_NAME, body: { metadata: { name: ROLE_NAME }, rules: [...roleRules, ...rules] } }))).toBe(403);
    for (const namespace of [ns, own]) {
      for (const resource of ['roles', 'rolebindings']) {
        for (const verb of ['create', 'update', 'patch', 'delete', 'escalate', 'bind']) {
          expect(await can(sa, { namespace, verb, group: 'rbac.authorization.k8s.io', resource })).toBe(false);
        }
      }
    }
  });

  it('cannot run anything but the Deployments it launches (no bare pods, exec, ConfigMaps or tokens)', async () => {
    const refused: [string, string, string?, string?][] = [
      ['create', 'pods'],
      ['create', 'pods', '', 'exec'],
      // `get pods/log` is granted since `logs` (issue 18): reading what an app printed is read
      // only. Running in, attaching to or forwarding to a pod stays refused.
      ['create', 'pods', '', 'attach'],
      ['create', 'pods', '', 'portforward'],
      ['get', 'pods', '', 'exec'],
      ['delete', 'pods'],
      ['get', 'configmaps'],
      ['create', 'serviceaccounts', '', 'token'],
      ['create', 'replicasets', 'apps'],
      ['create', 'jobs', 'batch'],
      // Its Ingresses are made whole and removed whole; claims are the operator's, never Tycho's.
      ['update', 'ingresses', 'networking.k8s.io'],
      ['patch', 'ingresses', 'networking.k8s.io'],
      ['create', 'persistentvolumeclaims'],
      ['delete', 'persistentvolumeclaims'],
      ['list', 'persistentvolumeclaims'],
      ['update', 'deployments', 'apps', 'scale'],
    ];
    for (const [verb, resource, group, subresource] of refused) {
      expect([verb, resource, subresource, await can(sa, { namespace: ns, verb, resource, ...(group ? { group } : {}), ...(subresource ? { subresource } : {}) })]).toEqual([
        verb,
        resource,
        subresource,
        false,
      ]);
    }
  });

  it('binds only Tycho\'s ServiceAccount: the apps namespace\'s default account (which apps could run as) gets nothing', async () => {
    const review = await kubeConfig()
      .makeApiClient(AuthorizationV1Api)
      .createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${ns}:default`,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
            resourceAttributes: { namespace: ns, verb: 'create', group: 'apps', resource: 'deployments' },
          },
        },
      });
    expect(review.status?.allowed).toBe(false);
  });
});

describe('with the opt-in secret-env component (for --secret-env)', () => {
  let ns: string;
  let own: string;
  let sa: KubeConfig;

  beforeAll(async () => {
    ns = await createTestNamespace('secret-env');
    own = (await installTycho(ns, { components: ['components/secret-env'] })).namespace;
    sa = await serviceAccountKubeConfig(own);
  });

  it('it may create, read and delete Secrets in the apps namespace, and do nothing else with them', async () => {
    expect(await granted(sa, ns)).toEqual([...permissions(roleRules), '/secrets:create', '/secrets:delete', '/secrets:get'].sort());
    const core = sa.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: ns, body: secretBody('app-secret') });
    expect((await core.readNamespacedSecret({ namespace: ns, name: 'app-secret' })).data).toEqual({ KEY: Buffer.from('value').toString('base64') });
    // Never enumerate them, never change one in place.
    expect(await statusOf(core.listNamespacedSecret({ namespace: ns }))).toBe(403);
    expect(await statusOf(core.replaceNamespacedSecret({ namespace: ns, name: 'app-secret', body: secretBody('app-secret') }))).toBe(403);
    for (const verb of ['list', 'watch', 'update', 'patch']) expect([verb, await can(sa, { namespace: ns, verb, resource: 'secrets' })]).toEqual([verb, false]);
    await core.deleteNamespacedSecret({ namespace: ns, name: 'app-secret' });
    expect(await statusOf(kubeConfig().makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: ns, name: 'app-secret' }))).toBe(404);
  });

  it('it still has nothing on Secrets in its own namespace, where the Slack tokens are', async () => {
    await kubeConfig().makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: own, body: { metadata: { name: SECRET_NAME }, stringData: { SLACK_BOT_TOKEN: 'xoxb-not-real' } } });
    for (const verb of SECRET_VERBS) expect([verb, await can(sa, { namespace: own, verb, resource: 'secrets' })]).toEqual([verb, false]);
    expect(await statusOf(sa.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: own, name: SECRET_NAME }))).toBe(403);
    expect(await granted(sa, own)).toEqual(LEADER_PERMISSIONS);
  });
});

describe('a trimmed Role: a 403 names the missing permission, and is never a crash', () => {
  /** The apps namespace, with the Role. */
  let ns: string;
  /** Tycho's own namespace, with its ServiceAccount. */
  let own: string;
  let sa: KubeConfig;
  let launcher: Launcher;
  /** The same, with an ingress domain: what calls the ingress rules. */
  let ingressLauncher: Launcher;
  /** Sets things up and tidies up: the admin's own launcher. */
  let admin: Launcher;
  let rbac: RbacAuthorizationV1Api;

  beforeAll(async () => {
    ns = await createTestNamespace('trimmed');
    own = (await installTycho(ns)).namespace;
    sa = await serviceAccountKubeConfig(own);
    launcher = new Launcher(sa, { namespace: ns, readyTimeoutSeconds: 60 });
    ingressLauncher = new Launcher(sa, { namespace: ns, readyTimeoutSeconds: 60, ingress: INGRESS });
    admin = new Launcher(kubeConfig(), { namespace: ns, ingress: INGRESS });
    rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  });

  const all = () => permissions(roleRules);
  const attrs = (p: string) => {
    const [, group = '', resource = '', verb = ''] = /^([^/]*)\/([^:]+):(.+)$/.exec(p) ?? [];
    const [res, sub] = resource.split('/');
    return { namespace: ns, group, resource: res!, verb, ...(sub ? { subresource: sub } : {}) };
  };

  /** Replaces the Role with its rules minus `missing`, and waits until the authorizer agrees. */
  async function trimRole(missing: string | undefined): Promise<void> {
    const rules = roleRules
      .flatMap((r) => (r.resources ?? []).map((res) => ({ ...r, resources: [res], verbs: r.verbs.filter((v) => `${r.apiGroups![0]}/${res}:${v}` !== missing) })))
      .filter((r) => r.verbs.length > 0);
    const role = await rbac.readNamespacedRole({ namespace: ns, name: ROLE_NAME });
    await rbac.replaceNamespacedRole({ namespace: ns, name: ROLE_NAME, body: { ...role, rules } });
    await waitFor(
      async () => {
        for (const p of all()) if ((await can(sa, attrs(p))) !== (p !== missing)) return false;
        return true;
      },
      { what: missing ? `the authorizer to refuse ${missing}` : 'the authorizer to allow the whole Role again' },
    );
  }

  async function objectsOf(name: string): Promise<string[]> {
    const o = await systemObjects(ns, name);
    return [...o.deployments, ...o.replicaSets, ...o.pods, ...o.services].map((x) => `${x.kind ?? ''}${x.metadata!.name}`);
  }

  async function tidy(name: string): Promise<void> {
    await admin.down(name).catch(() => undefined);
    await waitFor(async () => (await objectsOf(name)).length === 0, { what: `${name} to be gone` });
  }

  afterAll(async () => {
    await trimRole(undefined).catch(() => undefined);
  });

  /** An Ingress of Tycho's left without its Deployment: like the Service, only `down` finishes it off. */
  async function orphanIngress(name: string): Promise<void> {
    const labels = { 'app.kubernetes.io/managed-by': 'tycho', 'tycho.renci.org/system': name };
    const backend = { service: { name, port: { number: 80 } } };
    await kubeConfig()
      .makeApiClient(NetworkingV1Api)
      .createNamespacedIngress({ namespace: ns, body: { metadata: { name, labels }, spec: { rules: [{ host: `${name}.apps.test`, http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] } } });
  }

  const exposed = (name: string): LaunchSpec => ({ ...spec(name), expose: 'ingress' });
  /** A refused launch must leave nothing behind: the rejection comes once its objects are gone. */
  const leavesNothing = (name: string, launch: Promise<unknown>) =>
    launch.finally(() => waitFor(async () => (await objectsOf(name)).length === 0, { what: `the refused launch of ${name} to leave nothing` }));

  /** A Service of Tycho's left without its Deployment (say, a launch cut short): only `down` finishes it off. */
  async function orphanService(name: string): Promise<void> {
    const labels = { 'app.kubernetes.io/managed-by': 'tycho', 'tycho.renci.org/system': name };
    await kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedService({ namespace: ns, body: { metadata: { name, labels }, spec: { selector: labels, ports: [{ port: 80 }] } } });
  }

  // Every rule of the Role, the launcher flow that needs it, and the words the refusal is given in.
  // Not here: `update deployments/finalizers`, which only clusters with the
  // OwnerReferencesPermissionEnforcement admission plugin check (this one does not), and
  // `list`/`watch` on EndpointSlices, which Tycho reads only where discovery.k8s.io/v1 is served
  // (1.21 and later; this 1.20 one reads Endpoints, see test/unit/endpoints-source.test.ts).
  // A refused list or watch of the live view is a Forbidden at once, never a retry loop.
  const cases: { missing: string; words: string; flow: string; prepare?: (name: string) => Promise<unknown>; run: (name: string) => Promise<unknown> }[] = [
    { missing: 'apps/deployments:create', words: 'create deployments.apps', flow: 'up', run: (n) => launcher.up(spec(n)) },
    { missing: 'apps/deployments:get', words: 'get deployments.apps', flow: 'down', prepare: (n) => admin.up(spec(n)), run: (n) => launcher.down(n) },
    { missing: 'apps/deployments:list', words: 'list deployments.apps', flow: 'list', run: () => launcher.list() },
    { missing: 'apps/deployments:watch', words: 'watch deployments.apps', flow: 'up (following it on the live view)', run: (n) => launcher.up(spec(n), { timeoutSeconds: 30 }) },
    { missing: 'apps/deployments:patch', words: 'patch deployments.apps', flow: 'annotate', prepare: (n) => admin.up(spec(n)), run: (n) => launcher.annotate(n, { 'tycho.renci.org/slack-ts': '1' }) },
    { missing: 'apps/deployments:delete', words: 'delete deployments.apps', flow: 'down', prepare: (n) => admin.up(spec(n)), run: (n) => launcher.down(n) },
    { missing: '/services:create', words: 'create services', flow: 'up', run: (n) => launcher.up(spec(n)) },
    { missing: '/services:get', words: 'get services', flow: 'down of a Service left without its Deployment', prepare: orphanService, run: (n) => launcher.down(n) },
    { missing: '/services:list', words: 'list services', flow: 'status', prepare: (n) => admin.up(spec(n)), run: (n) => launcher.status(n) },
    { missing: '/services:watch', words: 'watch services', flow: 'up (following it on the live view)', run: (n) => launcher.up(spec(n), { timeoutSeconds: 30 }) },
    { missing: '/services:delete', words: 'delete services', flow: 'down', prepare: (n) => admin.up(spec(n)), run: (n) => launcher.down(n) },
    { missing: '/pods:list', words: 'list pods', flow: 'list', run: () => launcher.list() },
    { missing: '/pods/log:get', words: 'get pods/log', flow: 'logs', prepare: (n) => admin.up(spec(n)), run: (n) => launcher.logs(n, { tail: 10, previous: false }) },
    { missing: '/pods:watch', words: 'watch pods', flow: 'up (following it on the live view)', run: (n) => launcher.up(spec(n), { timeoutSeconds: 30 }) },
    { missing: '/endpoints:list', words: 'list endpoints', flow: 'list', run: () => launcher.list() },
    { missing: '/endpoints:watch', words: 'watch endpoints', flow: 'up (following it on the live view)', run: (n) => launcher.up(spec(n), { timeoutSeconds: 30 }) },
    { missing: 'networking.k8s.io/ingresses:create', words: 'create ingresses.networking.k8s.io', flow: 'up exposed as ingress (rolled back)', run: (n) => leavesNothing(n, ingressLauncher.up(exposed(n))) },
    { missing: 'networking.k8s.io/ingresses:get', words: 'get ingresses.networking.k8s.io', flow: 'down of an Ingress left without its Deployment', prepare: orphanIngress, run: (n) => ingressLauncher.down(n) },
    { missing: 'networking.k8s.io/ingresses:list', words: 'list ingresses.networking.k8s.io', flow: 'list', run: () => ingressLauncher.list() },
    { missing: 'networking.k8s.io/ingresses:watch', words: 'watch ingresses.networking.k8s.io', flow: 'up (following it on the live view)', run: (n) => ingressLauncher.up(exposed(n), { timeoutSeconds: 30 }) },
    { missing: 'networking.k8s.io/ingresses:delete', words: 'delete ingresses.networking.k8s.io', flow: 'down', prepare: (n) => admin.up(exposed(n)), run: (n) => ingressLauncher.down(n) },
    {
      missing: '/persistentvolumeclaims:get',
      words: 'get persistentvolumeclaims',
      flow: 'up with --volume (checked before anything is created)',
      run: (n) => leavesNothing(n, launcher.up({ ...spec(n), volumes: [{ claim: 'scratch', path: '/data', readOnly: false }] })),
    },
  ];

  it('the cases below cover every rule this cluster uses', () => {
    const unusedHere = ['apps/deployments/finalizers:update', 'discovery.k8s.io/endpointslices:list', 'discovery.k8s.io/endpointslices:watch'];
    // The Slack reconciler's records of threads (no launcher flow): the test above uses each verb.
    const reconcilers = ['/configmaps:create', '/configmaps:delete', '/configmaps:list', '/configmaps:patch'];
    // The audit trail's Events (no launcher flow): the test of the audit trail below.
    const audit = ['/events:create'];
    expect([...cases.map((c) => c.missing), ...unusedHere, ...reconcilers, ...audit].sort()).toEqual(all());
    expect(new Set(cases.map((c) => c.missing)).size).toBe(cases.length);
  });

  it.each(cases)('without $missing, $flow fails with "not allowed to $words"', async ({ missing, words, prepare, run }) => {
    const name = `no-${missing.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '')}`;
    if (prepare) await prepare(name);
    await trimRole(missing);
    try {
      const e = await failureOf(run(name));
      expect(e).toBeInstanceOf(Forbidden);
      expect(e.code).toBe('forbidden');
      expect(e.message).toMatch(new RegExp(`^Tycho is not allowed to ${words.replace(/\./g, '\\.')} in namespace "${ns}", so it could not [A-Za-z ]+\\. Ask a cluster admin`));
      // It points at the Role's file, which exists.
      const file = /\(see (kubernetes\/[^)]+)\)/.exec(e.message)?.[1];
      expect(file && existsSync(join(REPO, file))).toBe(true);
      // The same sentence is what Slack shows.
      const said = explain(e, silentLogger, 'launch');
      expect([said.title, said.text.text]).toEqual(['Kubernetes refused the request', plain(e.message).text]);
    } finally {
      await trimRole(undefined);
      await tidy(name);
    }
  });

  it('a launch refused its Service leaves nothing behind, and every front end says why', async () => {
    await trimRole('/services:create');
    try {
      // The launcher: the Deployment it had created is removed again.
      const e = await failureOf(launcher.up(spec('half')));
      expect(e.message).toContain(`Tycho is not allowed to create services in namespace "${ns}", so it could not create the Service.`);
      await waitFor(async () => (await objectsOf('half')).length === 0, { what: 'the half-made system to be gone' });

      // REST, on a server running as the ServiceAccount: a 403 envelope with the same sentence,
      // and the server is still up and ready (it may still list Services).
      const token = 'deploy-test-token-0123456789';
      let server: RunningTycho | undefined;
      try {
        server = await startServer({ namespace: ns, kc: sa, token });
        const r = await call(server.url, '/system/start', originalBody('rest-half'), { headers: { Authorization: `Bearer ${token}` } });
        expect(r.status).toBe(403);
        expect(r.json).toMatchObject({ status: 'error', result: { code: 'forbidden' } });
        expect(r.json.message).toContain(`Tycho is not allowed to create services in namespace "${ns}"`);
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      } finally {
        await server?.stop();
      }
      await waitFor(async () => (await objectsOf('rest-half')).length === 0, { what: 'the REST launch to leave nothing' });

      // The CLI, on a kubeconfig with the ServiceAccount's token: exit status 5, one line, no stack.
      const cli = await tycho(['up', '-n', 'cli-half', '-c', 'nginx', '-p', '80'], { KUBECONFIG: await serviceAccountKubeconfigFile(own), TYCHO_NAMESPACE: ns });
      expect(cli.code).toBe(5);
      expect(errorLine(cli)).toContain(`tycho: Tycho is not allowed to create services in namespace "${ns}"`);
      expect(cli.stderr).not.toMatch(/\n\s+at /);
      await waitFor(async () => (await objectsOf('cli-half')).length === 0, { what: 'the CLI launch to leave nothing' });
    } finally {
      await trimRole(undefined);
    }
  });

  it('with the whole Role back, the same ServiceAccount launches and tears down again', async () => {
    const info = await launcher.up(spec('whole-again'));
    expect(info.ready).toBe(true);
    await launcher.down('whole-again');
    expect(await objectsOf('whole-again')).toEqual([]);
  });
});
