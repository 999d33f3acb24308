/**
 * At most TYCHO_LAUNCH_CONCURRENCY launches are at work at once (here 1); the others wait their
 * turn in order, and each requester is told, only to them, that their launch is queued and at
 * what position. The first launch is held at work by holding its Deployment create at a proxy in
 * front of the API server (HttpFaultProxy), so the queue is there exactly while the test looks,
 * without timers.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { kubeConfig, waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { HttpFaultProxy } from '../support/fault-proxy.js';
import { ALICE, BOB, type BotHarness, isRoot, startBotHarness } from './harness.js';

let gate: HttpFaultProxy;
let h: BotHarness;
beforeAll(async () => {
  gate = await HttpFaultProxy.start(kubeConfig());
  h = await startBotHarness('launch-queue', { env: { TYCHO_LAUNCH_CONCURRENCY: '1' }, kubeConfig: gate.kubeConfigThrough(kubeConfig()) });
});
afterAll(async () => {
  await gate?.stop();
  await h?.stop();
});

const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;

test('launches beyond the limit are told they are queued and at what position, then run in order', async () => {
  gate.holdWhen = (method, path) => method === 'POST' && path.includes('/deployments');
  await h.slash('up -n queue-1 -c nginx -p 80', { user: ALICE, tag: 'q1' });
  await waitFor(() => gate.held === 1, { what: 'the first launch at work (its Deployment create held)' });

  await h.slash('up -n queue-2 -c nginx -p 80', { user: BOB, tag: 'q2' });
  const second = await h.slack.waitFor('response_url', (c) => c.tag === 'q2', 'the queue notice of the second launch');
  await h.slash('up -n queue-3 -c nginx -p 80', { user: ALICE, tag: 'q3' });
  const third = await h.slack.waitFor('response_url', (c) => c.tag === 'q3', 'the queue notice of the third launch');
  expect(String(second.args.text)).toMatch(/queued.*position 1\b/i);
  expect(String(second.args.text)).toContain('`queue-2`');
  expect(String(third.args.text)).toMatch(/queued.*position 2\b/i);
  // Only the requester sees it; the first launch, which did not wait, was told nothing of a queue.
  expect([second.args.response_type, third.args.response_type]).toEqual(['ephemeral', 'ephemeral']);
  expect(h.slack.find('response_url', (c) => c.tag === 'q1')).toEqual([]);
  // Nothing of the queued ones happened yet: no root message, no Deployment.
  expect(h.slack.find('chat.postMessage', isRoot('queue-2'))).toEqual([]);
  expect(await h.deploymentExists('queue-2')).toBe(false);

  gate.release();
  for (const name of ['queue-1', 'queue-2', 'queue-3']) {
    const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
  }
  // In order: the roots were posted as the launches were asked for.
  const order = h.slack.find('chat.postMessage', (c) => ['queue-1', 'queue-2', 'queue-3'].some((n) => isRoot(n)(c))).map((c) => /`(queue-\d)`/.exec(String(c.args.text))![1]);
  expect(order).toEqual(['queue-1', 'queue-2', 'queue-3']);
}, 90_000);
