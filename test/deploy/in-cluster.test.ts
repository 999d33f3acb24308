/**
 * Tycho started the way its pod starts it: the environment the Deployment applied from
 * kubernetes/ gives it (the apps namespace, the Secret's keys), and the ServiceAccount's mounted
 * token read by KubeConfig.loadFromCluster(), with no kubeconfig. It is ready, and the REST API
 * launches, lists and tears down in the apps namespace as that account.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '../../src/config.js';
import { startTycho, type RunningTycho } from '../../src/server/tycho.js';
import { silentLogger } from '../../src/log.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { call, originalBody } from '../api/helpers.js';
import { openUrl } from '../support/open-url.js';
import { SECRET_NAME, installTycho, mountedConfigMaps, removeServiceAccountFiles, serviceAccountKubeConfig } from './support.js';

const TOKEN = 'in-cluster-test-token-0123456789';

/** The apps namespace. */
let ns: string;
/** Tycho's own namespace, where its pod would run. */
let own: string;
let sa: KubeConfig;
let env: Record<string, string>;
let tycho: RunningTycho | undefined;

beforeAll(async () => {
  ns = await createTestNamespace('in-cluster');
  own = (await installTycho(ns)).namespace;
  sa = await serviceAccountKubeConfig(own);
  const d = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: own, name: 'tycho' });
  // The Secret holds only the REST API token here (so Slack stays off); the kubelet hands it in
  // through the Deployment's secretKeyRef.
  const secret: Record<string, string> = { TYCHO_API_TOKEN: TOKEN };
  env = {};
  for (const e of d.spec!.template.spec!.containers[0]!.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      expect(ref.name).toBe(SECRET_NAME);
      env[e.name] = secret[ref.key]!;
    } else env[e.name] = e.value!;
  }
  // The policy file, as the kubelet mounts it from the ConfigMap kubectl applied.
  const configMaps = (await kubeConfig().makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: own })).items;
  env = mountedConfigMaps(env, d, configMaps);
});

afterAll(async () => {
  await tycho?.stop();
  await removeServiceAccountFiles();
});

it('the Deployment\'s environment is a valid configuration that launches into the apps namespace, with the API token', () => {
  const config = loadConfig(env);
  expect(config).toMatchObject({ namespace: ns, localCluster: 'never', port: 3000, host: '0.0.0.0', apiToken: TOKEN, slack: { mode: 'off' } });
});

// The manifests always set TYCHO_NAMESPACE: the pod's own namespace is not one Tycho may launch into.
it('with no TYCHO_NAMESPACE, the namespace comes from the service account\'s mounted namespace file', async () => {
  const { TYCHO_NAMESPACE: _, ...rest } = env;
  const t = await startTycho(loadConfig({ ...rest, PORT: '0', HOST: '127.0.0.1' }), silentLogger, { kubeConfig: sa });
  try {
    expect(t.launcher.namespace).toBe(own);
  } finally {
    await t.stop();
  }
});

it('is ready, and serves the REST API as the ServiceAccount: start, status, delete', async () => {
  // Only the port changes: the pod's 3000 may be taken on this machine.
  tycho = await startTycho(loadConfig({ ...env, PORT: '0', HOST: '127.0.0.1' }), silentLogger, { kubeConfig: sa });
  expect(tycho.launcher.namespace).toBe(ns);
  expect((await fetch(`${tycho.url}/healthz`)).status).toBe(200);
  const ready = await fetch(`${tycho.url}/readyz`);
  expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);

  const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
  const started = await call(tycho.url, '/system/start', originalBody('from-the-pod', 'nginx'), auth);
  expect(started.status).toBe(201);
  const url: string = started.json.result.url;
  expect(await openUrl(url)).toMatchObject({ status: 200 });

  // Only what it launched: Tycho's own Deployment is in another namespace.
  const all = await call(tycho.url, '/system/status', {}, auth);
  expect(all.status).toBe(200);
  expect(all.json.result.map((s: { name: string }) => s.name)).toEqual(['from-the-pod']);

  const deleted = await call(tycho.url, '/system/delete', { name: 'from-the-pod' }, auth);
  expect(deleted.status).toBe(200);
  expect((await call(tycho.url, '/system/status', {}, auth)).json.result).toEqual([]);
});
