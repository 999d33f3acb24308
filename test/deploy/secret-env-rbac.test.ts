/**
 * --secret-env against the shipped RBAC, as Tycho's ServiceAccount (kubernetes/ installed into a
 * test namespace, the SA's own token):
 * - The base Role has no rights on Secrets, so a launch with a secret is refused in one sentence
 *   that tells the operator what to enable, and leaves nothing behind (the Deployment is rolled back).
 * - With the one extra rule the opt-in needs (create on Secrets), it works end to end, and the
 *   Secret goes with the system through Kubernetes' garbage collector: Tycho needs no delete.
 */
import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Launcher } from '../../src/k8s/launcher.js';
import { Forbidden } from '../../src/k8s/errors.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';
import { createTestNamespace, kubeConfig, systemObjects, waitFor } from '../support/cluster.js';
import { can, installTycho, removeServiceAccountFiles, SA_NAME, serviceAccountKubeConfig } from './support.js';

const spec = (name: string): LaunchSpec => ({
  name,
  image: 'nginx',
  ports: [80],
  env: [{ name: 'DB_USER', value: 'alice' }],
  secretEnv: [{ name: 'DB_PASSWORD', value: 'hunter2' }],
  owner: { id: 'cli:alice', display: 'alice' },
  origin: 'cli',
});

let ns: string;
/** Where Tycho itself (and its ServiceAccount) lives. */
let own: string;
let sa: KubeConfig;
let launcher: Launcher;
const core = () => kubeConfig().makeApiClient(CoreV1Api);
const secretExists = (name: string) => core().readNamespacedSecret({ namespace: ns, name }).then(() => true, (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)));

beforeAll(async () => {
  ns = await createTestNamespace('secret-env-rbac');
  // Tycho's ServiceAccount lives in its own namespace; it launches into `ns`.
  own = (await installTycho(ns)).namespace;
  sa = await serviceAccountKubeConfig(own);
  launcher = new Launcher(sa, { namespace: ns, readyTimeoutSeconds: 60 });
});
afterAll(removeServiceAccountFiles);

it('with the base Role: refused in one sentence naming the opt-in, and nothing is left behind', async () => {
  const err = await launcher.up(spec('no-rights')).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Forbidden);
  expect((err as Error).message).toBe(
    `Tycho is not allowed to create Secrets in namespace "${ns}", so it cannot launch with --secret-env; nothing was created. The operator must enable the opt-in secret-env RBAC component (create on Secrets; see "Secret environment variables" in the README).`,
  );
  const left = await systemObjects(ns, 'no-rights');
  expect([...left.deployments, ...left.replicaSets, ...left.pods, ...left.services]).toEqual([]);
  expect(await secretExists('no-rights')).toBe(false);
});

it('with create on Secrets added: the Secret is made, the system becomes ready, and the Secret is garbage-collected after down', async () => {
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: 'tycho-secret-env' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }] } });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: 'tycho-secret-env' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tycho-secret-env' },
      subjects: [{ kind: 'ServiceAccount', name: SA_NAME, namespace: own }],
    },
  });
  await waitFor(() => can(sa, { namespace: ns, verb: 'create', resource: 'secrets' }), { what: 'the new Role to take effect' });
  // Still nothing else: Tycho cannot read any Secret, its own included.
  expect(await can(sa, { namespace: ns, verb: 'get', resource: 'secrets' })).toBe(false);
  expect(await can(sa, { namespace: ns, verb: 'delete', resource: 'secrets' })).toBe(false);

  const system = await launcher.up(spec('with-rights'));
  expect(system.ready).toBe(true);
  expect(await secretExists('with-rights')).toBe(true);

  await launcher.down('with-rights');
  await waitFor(async () => !(await secretExists('with-rights')), { what: 'the Secret to be garbage-collected' });
});
