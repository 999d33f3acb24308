/**
 * What Tycho's server asks of the API server, counted by a proxy in front of it (the one the
 * benchmark uses, src/bench/counting-proxy.ts), by verb and resource:
 * - once its live view has synced, `list` and `status` make no request at all;
 * - one launch from Slack makes the two creates of the front end plus the writes the README's
 *   budget states for the reconciler and the URL check, and opens no watch.
 * Lease renewals go on in the background and are counted apart.
 */
import type { ActorCounts, CountingProxy } from '../../src/bench/counting-proxy.js';
import { countingProxyFor } from '../support/counted.js';
import { ANN_SLACK_READY_TS, ANN_URL_CHECK } from '../../src/k8s/labels.js';
import { waitFor } from '../support/cluster.js';
import { startBotHarness, TEAM_CHANNEL, type BotHarness } from './harness.js';

let proxy: CountingProxy;
let h: BotHarness;

beforeAll(async () => {
  const counted = await countingProxyFor('server');
  proxy = counted.proxy;
  h = await startBotHarness('req-counts', { kubeConfig: counted.kc });
  await waitFor(() => h.tycho.launcher.list().then(() => proxy.isQuiet('server', 500)), { what: 'the server to settle after its start' });
});

afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
});

/**
 * Requests by "verb resource" that the API server carried out, without the Lease's renewals
 * (reads and updates of the Lease). A claim that lost a race with a controller's status write
 * (409) reads and tries again: those retries are not part of the budget, so they are left out.
 */
function requests(c: ActorCounts): Record<string, number> {
  const retried = c.conflicts['patch deployments'] ?? 0;
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(c.calls)) {
    if (k === 'update leases' || k === 'get leases') continue;
    // Each lost claim cost one read before it: subtract both.
    const kept = n - (c.conflicts[k] ?? 0) - (k === 'get deployments' ? retried : 0);
    if (kept > 0) out[k] = kept;
  }
  return out;
}

it('list and status are answered from the live view: no request once it has synced', async () => {
  const name = 'counted-before';
  await h.slash(`up -n ${name} -c nginx -p 80`);
  await waitFor(async () => (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name })).metadata?.annotations?.[ANN_SLACK_READY_TS], { what: 'the launch to finish' });
  await waitFor(() => proxy.isQuiet('server', 500), { what: 'the server to settle' });
  proxy.reset('server');
  expect((await h.tycho.launcher.list()).map((s) => s.name)).toContain(name);
  expect((await h.tycho.launcher.status(name)).ready).toBe(true);
  expect(requests(proxy.counts('server'))).toEqual({});
});

it('one launch from Slack: 2 creates, the stated reconciler writes and the URL check, no watch', async () => {
  await waitFor(() => proxy.isQuiet('server', 500), { what: 'the server to settle' });
  const watchesBefore = proxy.counts('server').watchesOpen;
  proxy.reset('server');
  const name = 'counted';
  await h.slash(`up -n ${name} -c nginx -p 80`);
  const root = await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === TEAM_CHANNEL && String(c.args.text).includes(`\`${name}\``) && !c.args.thread_ts, 'the root message');
  await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
  await waitFor(async () => (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name })).metadata?.annotations?.[ANN_SLACK_READY_TS] !== 'claimed', { what: 'the Ready reply recorded' });
  await waitFor(() => proxy.isQuiet('server', 1000), { what: 'the server to settle after the launch' });
  const c = proxy.counts('server');
  const a = (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name })).metadata!.annotations!;
  expect(a[ANN_URL_CHECK]).toBeDefined();
  expect(requests(c)).toEqual({
    // The front end: the Deployment (with the root message's ts in its body), then its Service.
    'create deployments': 1,
    'create services': 1,
    // The URL check's verdict, then the reconciler's claim and record of the Ready reply.
    'patch deployments': 3,
    // The claim's read: its write is conditional on the resourceVersion it read.
    'get deployments': 1,
    // The ledger of open threads: the entry, then the Ready reply's ts in it.
    'patch leases': 2,
  });
  expect(c.verbs.watch).toBe(0);
  expect(c.watchesOpen).toBe(watchesBefore);
});
