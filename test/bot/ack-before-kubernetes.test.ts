/**
 * "Ack at once, whatever the cluster is doing": Kubernetes is made slow by a proxy that holds
 * back every answer of the API server until the test lets them through. The slash command's
 * HTTP response must arrive while not a single byte of any Kubernetes answer has been
 * delivered. Ordering, not a stopwatch. (Bolt itself answers 404 after 3 s when a listener
 * never acks, so a bot that waited on Kubernetes would fail here, not hang.)
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { kubeConfig, waitFor } from '../support/cluster.js';
import { apiServerAddress, GatedProxy } from './gated-proxy.js';
import { ALICE, readyUrl, startBotHarness, type BotHarness } from './harness.js';

let proxy: GatedProxy;
let h: BotHarness;
beforeAll(async () => {
  const kc = kubeConfig();
  proxy = await GatedProxy.start(apiServerAddress(kc));
  h = await startBotHarness('bot-ack', { kubeConfig: proxy.kubeConfigThrough(kc) });
});
afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
});

test('the slash command is acked before any Kubernetes call finishes, and the launch completes once Kubernetes answers', async () => {
  expect(proxy.bytesToClient).toBe(0);

  const res = await h.slash('up -n slow-cluster -c nginx -p 80', { user: ALICE });
  const deliveredWhenAcked = proxy.bytesToClient;
  expect(res.status).toBe(200);
  expect(deliveredWhenAcked).toBe(0);

  // The work goes on after the ack: the root message is posted and a Kubernetes call is
  // under way (its request reached the API server), still without any answer delivered.
  const root = await h.slack.waitFor('chat.postMessage', (c) => String(c.args.text).includes('is launching `slow-cluster`') && !c.args.thread_ts, 'the root message');
  await waitFor(() => proxy.bytesToServer > 0, { what: 'a Kubernetes request through the proxy' });
  expect(proxy.bytesToClient).toBe(0);
  expect(h.slack.find('chat.postMessage', (c) => c.args.thread_ts === root.result.ts)).toEqual([]);

  // Let Kubernetes answer: the same launch runs to Ready.
  proxy.release();
  const ready = await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
  expect(readyUrl(ready)).toMatch(/^http:\/\//);
  expect(proxy.bytesToClient).toBeGreaterThan(0);

  const down = await h.slash('down -n slow-cluster');
  await h.slack.waitFor('response_url', (c) => c.tag === down.tag, 'the teardown');
  expect(await h.deploymentExists('slow-cluster')).toBe(false);
});
