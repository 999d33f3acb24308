/**
 * The Role is enough: the launcher's whole integration suite (test/integration/launcher.test.ts,
 * imported below, not copied) runs again here with the launcher authenticated as Tycho's
 * ServiceAccount, using the Role and RoleBinding from kubernetes/ and nothing else.
 *
 * For each namespace the suite creates, actAs() installs kubernetes/ with that namespace as its
 * apps namespace (so the suite also runs under its ResourceQuota, LimitRange and
 * NetworkPolicies) and Tycho in a namespace of its own, and hands the launcher the in-cluster
 * KubeConfig that Tycho's pod would build: the SA's token and CA read by
 * KubeConfig.loadFromCluster(). The suite's own setup and assertions (namespaces, ReplicaSets,
 * a foreign Service) still run as admin.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { actAs } from '../support/cluster.js';
import { can, installTycho, removeServiceAccountFiles, serviceAccountKubeConfig, statusOf } from './support.js';
// Registers the suite's describe/it blocks in this file. Its beforeAll runs after actAs() below.
import '../integration/launcher.test.js';

const identities: { namespace: string; own: string; kc: KubeConfig }[] = [];

actAs(async (namespace) => {
  const { namespace: own } = await installTycho(namespace);
  const kc = await serviceAccountKubeConfig(own);
  identities.push({ namespace, own, kc });
  return kc;
});

afterAll(removeServiceAccountFiles);

describe('the identity the suite above ran as', () => {
  it('is Tycho\'s ServiceAccount with its in-cluster token, not the admin', async () => {
    expect(identities).toHaveLength(1);
    const { namespace, own, kc } = identities[0]!;
    expect(kc.getCurrentUser()?.authProvider).toMatchObject({ name: 'tokenFile' });
    // Its pod's namespace is Tycho's own, not the one it launched into.
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe(own);
    expect(own).not.toBe(namespace);
    expect(await can(kc, { namespace, verb: 'create', group: 'apps', resource: 'deployments' })).toBe(true);
    // An admin could do both of these.
    expect(await can(kc, { namespace, verb: 'list', resource: 'secrets' })).toBe(false);
    expect(await statusOf(kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace }))).toBe(403);
  });
});
