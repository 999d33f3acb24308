/**
 * A namespace whose ResourceQuota (or LimitRange) refuses a system's pod: the ReplicaSet cannot
 * create it (FailedCreate), and the Deployment says so in its ReplicaFailure condition. Every
 * front end reports that refusal with the quota's own words as soon as Kubernetes records it,
 * instead of waiting out the readiness timeout. The ready timeout here is long enough that a
 * launch which only timed out answers `timeout`, which the assertions below tell apart.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OWNER_HEADER } from '../../src/api/wire.js';
import { call } from '../api/helpers.js';
import { tycho } from '../cli/run-cli.js';
import { kubeConfig, waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { ALICE, type BotHarness, isRoot, shownText, startBotHarness } from './harness.js';

let h: BotHarness;
let kubeconfigPath: string;

beforeAll(async () => {
  h = await startBotHarness('quota', { env: { TYCHO_READY_TIMEOUT: '40' } });
  await h.core.createNamespacedResourceQuota({ namespace: h.namespace, body: { metadata: { name: 'no-pods' }, spec: { hard: { pods: '0' } } } });
  // Admission reads the quota's status, which the quota controller fills in a moment later.
  await waitFor(async () => (await h.core.readNamespacedResourceQuota({ namespace: h.namespace, name: 'no-pods' })).status?.hard?.pods === '0', { what: 'the quota to be in force' });
  kubeconfigPath = join(await mkdtemp(join(tmpdir(), 'tycho-quota-')), 'kubeconfig');
  await writeFile(kubeconfigPath, kubeConfig().exportConfig());
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;

describe('a ResourceQuota of pods: 0', () => {
  test('REST: start answers 403 quota_exceeded with the quota\'s message', async () => {
    const r = await call(h.tycho.url, '/system/start', { name: 'over-rest', containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] }, { headers: { [OWNER_HEADER]: 'carol' } });
    expect([r.status, r.json?.result?.code]).toEqual([403, 'quota_exceeded']);
    expect(r.json.message).toContain('exceeded quota: no-pods');
    expect(r.json.message).toContain('"over-rest"');
    // One sentence of Tycho's, quoting the quota; not the API server's object name prefix.
    expect(r.json.message).not.toMatch(/pods ".*" is forbidden/);
    expect(r.json.message).not.toContain('\n');
  }, 60_000);

  test('Slack: the thread and the root message say the quota refused it', async () => {
    expect((await h.slash('up -n over-slack -c nginx -p 80', { user: ALICE })).status).toBe(200);
    const root = await h.slack.waitFor('chat.postMessage', isRoot('over-slack'), 'the root message');
    const reply = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && /quota|did not become ready/.test(String(c.args.text)), 'the failure reply');
    expect(String(reply.args.text)).toContain('exceeded quota: no-pods');
    const failed = await h.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('failed'), 'the root update to failed');
    expect(shownText(failed)).toContain('quota');
    expect(h.slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'))).toEqual([]);
  }, 60_000);

  test('CLI: up exits with the quota code and the quota\'s message', async () => {
    const r = await tycho(['up', '-n', 'over-cli', '-c', 'nginx', '-p', '80', '--timeout', '40'], { KUBECONFIG: kubeconfigPath, TYCHO_NAMESPACE: h.namespace, TYCHO_OWNER: 'carol' });
    expect(r.stderr).toContain('exceeded quota: no-pods');
    expect(r.code).toBe(5);
  }, 60_000);
});
