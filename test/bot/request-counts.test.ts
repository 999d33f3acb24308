/**
 * What Tycho's server asks of the API server, counted by a proxy in front of it (the one the
 * benchmark uses, src/bench/counting-proxy.ts), by verb and resource:
 * - once its live view has synced, `list` and `status` make no request at all;
 * - one launch from Slack makes the two creates of the front end plus the writes the README's
 *   budget states for the reconciler (whose claim carries the URL check), reads nothing and
 *   opens no watch.
 * Lease renewals go on in the background and are left out.
 */
import type { ActorCounts, CountingProxy } from '../../src/bench/counting-proxy.js';
import { countingProxyFor } from '../support/counted.js';
import { ANN_SLACK_READY_TS, ANN_URL_CHECK } from '../../src/k8s/labels.js';
import { CLAIMED } from '../../src/k8s/claims.js';
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

/** Requests by "verb resource", without the Lease's renewals (reads and updates of the Lease). */
function requests(c: ActorCounts): Record<string, number> {
  return Object.fromEntries(Object.entries(c.calls).filter(([k]) => k !== 'update leases' && k !== 'get leases'));
}

/** The Ready reply's ts once it is recorded: the reply is created unclaimed ('') and claimed before its post. */
async function readyTs(name: string): Promise<string | undefined> {
  const v = (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name })).metadata?.annotations?.[ANN_SLACK_READY_TS];
  return v && v !== CLAIMED ? v : undefined;
}

it('list and status are answered from the live view: no request once it has synced', async () => {
  const name = 'counted-before';
  await h.slash(`up -n ${name} -c nginx -p 80`);
  await waitFor(() => readyTs(name), { what: 'the launch to finish' });
  await waitFor(() => proxy.isQuiet('server', 500), { what: 'the server to settle' });
  proxy.reset('server');
  expect((await h.tycho.launcher.list()).map((s) => s.name)).toContain(name);
  expect((await h.tycho.launcher.status(name)).ready).toBe(true);
  expect(requests(proxy.counts('server'))).toEqual({});
});

it('one launch from Slack: 2 creates, its audit Event and the 4 stated reconciler writes (the claim carries the URL check), no read, no watch', async () => {
  await waitFor(() => proxy.isQuiet('server', 500), { what: 'the server to settle' });
  const watchesBefore = proxy.counts('server').watchesOpen;
  proxy.reset('server');
  const name = 'counted';
  await h.slash(`up -n ${name} -c nginx -p 80`);
  const root = await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === TEAM_CHANNEL && String(c.args.text).includes(`\`${name}\``) && !c.args.thread_ts, 'the root message');
  await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
  await waitFor(() => readyTs(name), { what: 'the Ready reply recorded' });
  await waitFor(() => proxy.isQuiet('server', 1000), { what: 'the server to settle after the launch' });
  const c = proxy.counts('server');
  const a = (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name })).metadata!.annotations!;
  expect(a[ANN_URL_CHECK]).toBeDefined();
  expect(requests(c)).toEqual({
    // The front end: the Deployment (with the root message's ts in its body), then its Service.
    'create deployments': 1,
    'create services': 1,
    // The reconciler: the claim of the Ready reply (one JSON patch that tests it is still
    // unclaimed, and records the URL check), then the reply's ts.
    'patch deployments': 2,
    // The thread's record (a small ConfigMap of its own): created, then the Ready reply's ts in it.
    'create configmaps': 1,
    'patch configmaps': 1,
    // The audit trail: the launch as an Event on its Deployment (src/audit.ts).
    'create events': 1,
  });
  expect(c.verbs.watch).toBe(0);
  expect(c.watchesOpen).toBe(watchesBefore);
});
