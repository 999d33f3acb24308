/**
 * What a chat user may not make the cluster do (issue 8), end to end through signed Slack
 * requests: launch options beyond the operator's policy are refused in the ack, naming the rule
 * and its setting, with nothing created; an admin may go beyond it; and secret values stay out
 * of Slack, the logs and the Deployment.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ANN_COMMAND } from '../../src/k8s/labels.js';
import { createLogger } from '../../src/log.js';
import type { SlackCall } from '../support/fake-slack.js';
import { waitFor } from '../support/cluster.js';
import { ADMIN, ALICE, type BotHarness, isRoot, shownText, startBotHarness } from './harness.js';

let h: BotHarness;
/** Everything Tycho logs, at debug level. */
const logLines: string[] = [];
beforeAll(async () => {
  h = await startBotHarness('bot-policy', { log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }) });
});
afterAll(async () => {
  await h?.stop();
});

const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;

/** `/tycho up` until its Ready reply. */
async function launchReady(text: string, name: string, user = ALICE) {
  await h.slash(text, { user });
  const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
}

async function tearDown(name: string, user = ALICE) {
  const down = await h.slash(`down -n ${name}`, { user });
  await h.slack.waitFor('response_url', (c) => c.tag === down.tag, `the teardown of ${name}`);
}

describe('launch options a chat user may not choose', () => {
  test.each([
    ['up -n lb-app -c nginx -p 80 --service-type LoadBalancer', 'lb-app', /Exposing a system as loadbalancer is not allowed here: people may choose only nodeport \(the operator's setting TYCHO_USER_EXPOSE_MODES\)/],
    ['up -n big-cpu -c nginx -p 80 --cpu 60', 'big-cpu', /The cpu amount "60" is more than the 4 cpu a system may have here \(the operator's setting TYCHO_MAX_CPU\)/],
    ['up -n big-memory -c nginx -p 80 --memory 200Gi', 'big-memory', /The memory amount "200Gi" is more than the 16Gi a system may have here \(the operator's setting TYCHO_MAX_MEMORY\)/],
    ['up -n two-gpus -c nginx -p 80 --gpu 2', 'two-gpus', /The GPU count 2 is more than the 1 GPU a system may have here \(the operator's setting TYCHO_MAX_GPU\)/],
    ['up -n huge-memory -c nginx -p 80 --memory 99999999999999999999Ei', 'huge-memory', /The memory amount "99999999999999999999Ei" is too large: Kubernetes can hold less than 8Ei\./],
  ])('"/tycho %s" is refused in the ack, naming the rule and its setting, with the usage; nothing is created', async (text, name, rule) => {
    const res = await h.slash(text);
    expect(res.status).toBe(200);
    expect(res.json?.response_type).toBe('ephemeral');
    expect(String(res.json?.text)).toMatch(rule);
    expect(String(res.json?.text)).toContain('Usage: /tycho up');

    // A later command's answer has arrived, so anything the refused one would have posted has too.
    const list = await h.slash('list');
    await h.slack.waitFor('response_url', (c) => c.tag === list.tag, 'the list');
    expect(h.slack.find('chat.postMessage', (c) => shownText(c).includes(`\`${name}\``))).toEqual([]);
    expect(await h.deploymentExists(name)).toBe(false);
    expect(await h.serviceExists(name)).toBe(false);
  });

  test('an admin (TYCHO_ADMINS) may choose another service type and more than the maxima', async () => {
    await launchReady('up -n admin-app -c nginx -p 80 --service-type ClusterIP --cpu 5', 'admin-app', ADMIN);
    const svc = await h.core.readNamespacedService({ namespace: h.namespace, name: 'admin-app' });
    expect(svc.spec?.type).toBe('ClusterIP');
    const dep = await h.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'admin-app' });
    expect(dep.spec?.template.spec?.containers[0]?.resources?.limits).toMatchObject({ cpu: '5' });
    await tearDown('admin-app', ADMIN);
  });
});

describe('secrets stay secret', () => {
  test('-e is masked in the recorded command; --secret-env lives in a Secret owned by the Deployment, referenced by secretKeyRef, never shown or logged, and garbage-collected after down', async () => {
    const name = 'with-secret';
    await launchReady(`up -n ${name} -c nginx -p 80 -e GREETING=plain-hello --secret-env DB_PASSWORD=hunter2`, name);

    const dep = await h.apps.readNamespacedDeployment({ namespace: h.namespace, name });
    // The record anyone with `get deployments` can read: keys only.
    expect(dep.metadata?.annotations?.[ANN_COMMAND]).toBe(`/tycho up -n ${name} -c nginx -p 80 -e GREETING=*** --secret-env DB_PASSWORD=***`);
    expect(JSON.stringify(dep.metadata)).not.toContain('plain-hello');
    // The secret value is nowhere in the Deployment, its pod template included.
    expect(JSON.stringify(dep)).not.toContain('hunter2');
    const env = dep.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'DB_PASSWORD')).toMatchObject({ valueFrom: { secretKeyRef: { name, key: 'DB_PASSWORD' } } });
    expect(dep.spec?.paused).toBeFalsy();

    // The pod that runs reads it from the Secret too.
    const pods = await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: `tycho.renci.org/system=${name}` });
    expect(pods.items.length).toBeGreaterThan(0);
    expect(pods.items[0]!.spec?.containers[0]?.env?.find((e) => e.name === 'DB_PASSWORD')?.valueFrom?.secretKeyRef).toMatchObject({ name, key: 'DB_PASSWORD' });

    const secret = await h.core.readNamespacedSecret({ namespace: h.namespace, name });
    expect(Buffer.from(secret.data?.DB_PASSWORD ?? '', 'base64').toString('utf8')).toBe('hunter2');
    expect(Object.keys(secret.data ?? {})).toEqual(['DB_PASSWORD']);
    expect(secret.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'tycho', 'tycho.renci.org/system': name });
    expect(secret.metadata?.ownerReferences).toEqual([expect.objectContaining({ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: dep.metadata?.uid, controller: true })]);

    // Slack and the log never saw the value.
    expect(h.slack.calls.filter((c) => JSON.stringify(c).includes('hunter2'))).toEqual([]);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => l.includes('hunter2'))).toEqual([]);

    await tearDown(name);
    // Kubernetes' garbage collector (the real controller-manager) removes what the Deployment owned.
    await waitFor(
      () =>
        h.core.readNamespacedSecret({ namespace: h.namespace, name }).then(
          () => false,
          (e: { code?: number }) => e.code === 404,
        ),
      { what: `the Secret ${name} to be garbage-collected` },
    );
    expect(h.slack.calls.filter((c) => JSON.stringify(c).includes('hunter2'))).toEqual([]);
  });
});
