/**
 * The Role is enough: the launcher's whole integration suite (test/integration/launcher.test.ts,
 * imported below, not copied) runs again here with the launcher authenticated as Tycho's
 * ServiceAccount, using the Role and RoleBinding from kubernetes/ and nothing else.
 *
 * For each namespace the suite creates, actAs() installs kubernetes/ into it (re-namespaced
 * with kustomize) and hands the launcher the in-cluster KubeConfig that Tycho's pod would build:
 * the SA's token and CA read by KubeConfig.loadFromCluster(). The suite's own setup and
 * assertions (namespaces, ReplicaSets, a foreign Service) still run as admin.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { actAs } from '../support/cluster.js';
import { can, installTycho, removeServiceAccountFiles, serviceAccountKubeConfig, statusOf } from './support.js';
// Registers the suite's describe/it blocks in this file. Its beforeAll runs after actAs() below.
import '../integration/launcher.test.js';

const identities: { namespace: string; kc: KubeConfig }[] = [];

actAs(async (namespace) => {
  await installTycho(namespace);
  const kc = await serviceAccountKubeConfig(namespace);
  identities.push({ namespace, kc });
  return kc;
});

afterAll(removeServiceAccountFiles);

describe('the identity the suite above ran as', () => {
  it('is Tycho\'s ServiceAccount with its in-cluster token, not the admin', async () => {
    expect(identities).toHaveLength(1);
    const { namespace, kc } = identities[0]!;
    expect(kc.getCurrentUser()?.authProvider).toMatchObject({ name: 'tokenFile' });
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(namespace);
    expect(await can(kc, { namespace, verb: 'create', group: 'apps', resource: 'deployments' })).toBe(true);
    // An admin could do both of these.
    expect(await can(kc, { namespace, verb: 'list', resource: 'secrets' })).toBe(false);
    expect(await statusOf(kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace }))).toBe(403);
  });
});
