/**
 * With an ingress domain configured, every front end hands out the https:// URL, and that URL
 * answers through the (simulated) ingress controller with the operator's certificate: Slack's
 * Ready reply (signed slash command), the REST API's start and status (with the original's port
 * field), and the CLI. A sign-in configuration (ingress-nginx asking oauth2-proxy) lands on the
 * Ingress as configured, and Tycho adds no sign-in of its own.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { NetworkingV1Api } from '@kubernetes/client-node';
import { kubeConfig } from '../support/cluster.js';
import { openUrl } from '../support/open-url.js';
import { wildcardCertificate, type TestCertificates } from '../support/test-ca.js';
import { call, originalBody } from '../api/helpers.js';
import { tycho } from '../cli/run-cli.js';
import { type BotHarness, isRoot, readyUrl, startBotHarness } from './harness.js';

/** The README's sign-in example (ingress-nginx external auth through oauth2-proxy), as JSON. */
const SIGN_IN = {
  'nginx.ingress.kubernetes.io/auth-url': 'https://auth.apps.test/oauth2/auth',
  'nginx.ingress.kubernetes.io/auth-signin': 'https://auth.apps.test/oauth2/start?rd=$scheme://$host$escaped_request_uri',
  'nginx.ingress.kubernetes.io/auth-response-headers': 'X-Auth-Request-User,X-Auth-Request-Email',
};

let h: BotHarness;
let certs: TestCertificates;

beforeAll(async () => {
  certs = await wildcardCertificate('apps.test');
  h = await startBotHarness('ingress-fronts', {
    env: {
      TYCHO_INGRESS_DOMAIN: 'apps.test',
      TYCHO_INGRESS_CLASS: 'nginx',
      TYCHO_INGRESS_TLS_SECRET: 'wildcard-tls',
      TYCHO_INGRESS_ANNOTATIONS: JSON.stringify(SIGN_IN),
      TYCHO_INGRESS_ADDRESS: process.env.TYCHO_TEST_INGRESS_ADDRESS ?? '',
    },
  });
  await h.core.createNamespacedSecret({
    namespace: h.namespace,
    body: { metadata: { name: 'wildcard-tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': certs.cert.toString('base64'), 'tls.key': certs.key.toString('base64') } },
  });
});
afterAll(async () => {
  await h?.stop();
});


describe('with an ingress domain', () => {
  test('Slack: the Ready reply links the https URL, which answers with the operator\'s certificate; the sign-in annotations are on the Ingress', async () => {
    await h.slash('up -n slack-app -c nginx -p 8888');
    const root = await h.slack.waitFor('chat.postMessage', isRoot('slack-app'), 'the root message');
    const ready = await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
    expect(readyUrl(ready)).toBe('https://slack-app.apps.test/');
    expect(await openUrl(readyUrl(ready), { ca: certs.ca })).toEqual({ status: 200, body: expect.stringContaining('Hello from slack-app') });

    const ing = await kubeConfig().makeApiClient(NetworkingV1Api).readNamespacedIngress({ namespace: h.namespace, name: 'slack-app' });
    expect(ing.metadata!.annotations).toEqual(SIGN_IN);
    expect(ing.spec!.ingressClassName).toBe('nginx');
  });

  test('REST: start and status answer with the https URL; the original\'s port field is the ingress\'s 443', async () => {
    const started = await call(h.tycho.url, '/system/start', originalBody('rest-app', 'nginx'));
    expect(started.status).toBe(201);
    expect(started.json.result).toMatchObject({
      url: 'https://rest-app.apps.test/',
      url_verified: true,
      url_checked: 'public',
      containers: { 'rest-app-c': { port: 443 } },
    });
    expect(await openUrl('https://rest-app.apps.test/', { ca: certs.ca })).toMatchObject({ status: 200 });
    const status = await call(h.tycho.url, '/system/status', { name: 'rest-app' });
    expect(status.json.result).toEqual([expect.objectContaining({ name: 'rest-app', url: 'https://rest-app.apps.test/', port: 443, ready: true })]);
  });

  test('REST: volumes in the original\'s pvc:// shape are checked before anything is created', async () => {
    const withVolume = originalBody('rest-vol', 'nginx');
    Object.assign(withVolume.containers[0]!, { volumes: ['pvc://no-such-claim/alice:/home/jovyan/work'] });
    const r = await call(h.tycho.url, '/system/start', withVolume);
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ status: 'error', result: { code: 'claim_unavailable' } });
    expect(r.json.message).toContain(`There is no PersistentVolumeClaim named no-such-claim in namespace ${h.namespace}`);
    expect(await h.deploymentExists('rest-vol')).toBe(false);
  });

  test('REST: a node port is still asked for by --service-type NodePort in Slack, and the original client gets its port field', async () => {
    await h.slash('up -n node-app -c nginx -p 80 --service-type NodePort');
    const root = await h.slack.waitFor('chat.postMessage', isRoot('node-app'), 'the root message');
    await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
    const status = await call(h.tycho.url, '/system/status', { name: 'node-app' });
    const [item] = status.json.result as { url: string; port: number; ports: { nodePort?: number }[] }[];
    expect(item!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(item!.port).toBe(item!.ports[0]!.nodePort);
    expect(item!.url).toBe(`http://127.0.0.1:${item!.port}`);
  });

  test('CLI: `tycho up` prints the https URL, and `tycho status` shows it', async () => {
    const up = await tycho(['up', '-n', 'cli-app', '-c', 'nginx', '-p', '8888', '-s', h.tycho.url], { TYCHO_OWNER: 'carol' });
    expect(up.code).toBe(0);
    expect(up.stdout.trim()).toBe('https://cli-app.apps.test/');
    expect(await openUrl('https://cli-app.apps.test/', { ca: certs.ca })).toMatchObject({ status: 200 });
    const status = await tycho(['status', 'cli-app', '-s', h.tycho.url], {});
    expect(status.stdout).toContain('https://cli-app.apps.test/');

    const down = await tycho(['down', 'cli-app', '-s', h.tycho.url], {});
    expect(down.code).toBe(0);
    expect(await openUrl('https://cli-app.apps.test/', { ca: 'unverified' })).toMatchObject({ status: 404 });
  });
});
