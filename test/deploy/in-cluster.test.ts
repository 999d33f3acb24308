/**
 * Tycho started the way its pod starts it: the environment the Deployment in kubernetes/ gives
 * it (the pod's namespace, the Secret's keys), and the ServiceAccount's mounted token read by
 * KubeConfig.loadFromCluster(), with no kubeconfig. It is ready, and the REST API launches,
 * lists and tears down as that account.
 */
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import { loadConfig } from '../../src/config.js';
import { startTycho, type RunningTycho } from '../../src/server/tycho.js';
import { silentLogger } from '../../src/server/log.js';
import { createTestNamespace } from '../support/cluster.js';
import { call, originalBody, probe } from '../api/helpers.js';
import { KUBERNETES_DIR, findObject, installTycho, removeServiceAccountFiles, render, serviceAccountKubeConfig } from './support.js';

const TOKEN = 'in-cluster-test-token-0123456789';

let ns: string;
let sa: KubeConfig;
let env: Record<string, string>;
let tycho: RunningTycho | undefined;

beforeAll(async () => {
  ns = await createTestNamespace('in-cluster');
  await installTycho(ns);
  sa = await serviceAccountKubeConfig(ns);
  const d = findObject<V1Deployment>(await render(KUBERNETES_DIR), 'Deployment', 'tycho');
  env = {};
  for (const e of d.spec!.template.spec!.containers[0]!.env ?? []) {
    if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = ns;
    else env[e.name] = e.value!;
  }
  // The Secret (envFrom): here only the REST API token, so Slack stays off.
  env.TYCHO_API_TOKEN = TOKEN;
});

afterAll(async () => {
  await tycho?.stop();
  await removeServiceAccountFiles();
});

it('the Deployment\'s environment is a valid configuration that launches into the pod\'s namespace', () => {
  const config = loadConfig(env);
  expect(config).toMatchObject({ namespace: ns, localCluster: 'never', port: 3000, host: '0.0.0.0', apiToken: TOKEN, slack: { mode: 'off' } });
});

it('with no TYCHO_NAMESPACE, the namespace comes from the service account\'s mounted namespace file', async () => {
  const { TYCHO_NAMESPACE: _, ...rest } = env;
  const t = await startTycho(loadConfig({ ...rest, PORT: '0', HOST: '127.0.0.1' }), silentLogger, { kubeConfig: sa });
  try {
    expect(t.launcher.namespace).toBe(ns);
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
  expect(await probe(url)).toMatchObject({ status: 200 });

  // Tycho's own Deployment (installed into the same namespace) is not one of its systems.
  const all = await call(tycho.url, '/system/status', {}, auth);
  expect(all.status).toBe(200);
  expect(all.json.result.map((s: { name: string }) => s.name)).toEqual(['from-the-pod']);

  const deleted = await call(tycho.url, '/system/delete', { name: 'from-the-pod' }, auth);
  expect(deleted.status).toBe(200);
  expect((await call(tycho.url, '/system/status', {}, auth)).json.result).toEqual([]);
});
