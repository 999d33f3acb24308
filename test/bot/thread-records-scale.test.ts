/**
 * Thousands of open Slack threads. The earlier ledger kept them all in one ConfigMap, which passed etcd's
 * 1 MiB limit at about 3,000 threads (every write then failed) and rewrote the whole map on each
 * change. With one record per thread, a launch and a teardown write the same few hundred bytes
 * with 10,000 threads open as with none, and a failover writes nothing.
 *
 * Bytes are what the API server answered to each write: the object as stored in etcd.
 */
import { afterAll, expect, test } from '@jest/globals';
import { AppsV1Api } from '@kubernetes/client-node';
import { ThreadRecords } from '../../src/k8s/thread-records.js';
import { LABEL_MANAGED_BY, LABEL_SYSTEM, MANAGED_BY_VALUE } from '../../src/k8s/labels.js';
import { ANN_REPAIR, REPAIR_OFF } from '../../src/k8s/system-repair.js';
import { createLogger } from '../../src/log.js';
import { limiter } from '../../src/concurrency.js';
import { kubeConfig, waitFor } from '../support/cluster.js';
import { countingProxyFor } from '../support/counted.js';
import type { CountingProxy } from '../../src/bench/counting-proxy.js';
import { ALICE, startBotHarness, TEAM_CHANNEL, type BotHarness } from './harness.js';

/**
 * 4,000 in `npm test`: past the ~3,000 threads where the one-ConfigMap ledger stopped working,
 * at a third of the cost (making 10,000 systems takes this 2-core machine's API server ~100 s).
 * TYCHO_TEST_THREADS=10000 runs the figure; the README quotes that run.
 */
const THREADS = Number(process.env.TYCHO_TEST_THREADS ?? 4_000);
let h: BotHarness | undefined;
let proxy: CountingProxy | undefined;
afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
});

test(`with ${THREADS.toLocaleString('en')} threads open, a failover writes nothing, and a launch and a teardown write what they write with none`, async () => {
  const counted = await countingProxyFor('server');
  proxy = counted.proxy;
  const lines: { msg: string; records?: number; closing?: number }[] = [];
  h = await startBotHarness('records-scale', { kubeConfig: counted.kc, log: createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l) as { msg: string }) }) });
  const hh = h;
  const c = () => counted.proxy.counts('server');

  /** One launch and teardown from Slack: the record's writes, and the bytes each stored. */
  const launchAndTearDown = async (name: string) => {
    await waitFor(() => counted.proxy.isQuiet('server', 500), { what: 'the server to settle' });
    counted.proxy.reset('server');
    expect((await hh.slash(`up -n ${name} -c nginx -p 80`)).status).toBe(200);
    const root = await hh.slack.waitFor('chat.postMessage', (m) => m.args.channel === TEAM_CHANNEL && !m.args.thread_ts && String(m.args.text).includes(`\`${name}\``), `the root of ${name}`);
    await hh.slack.waitFor('chat.postMessage', (m) => m.args.thread_ts === root.result.ts && String(m.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
    await waitFor(async () => (await new ThreadRecords(kubeConfig(), hh.namespace).all()).some((r) => r.entry.name === name && r.entry.readyTs), { what: 'the Ready reply in the record' });
    await waitFor(() => counted.proxy.isQuiet('server', 500), { what: 'the launch to settle' });
    const up = { ...c() };
    counted.proxy.reset('server');
    expect((await hh.slash(`down -n ${name}`)).status).toBe(200);
    await hh.slack.waitFor('chat.postMessage', (m) => m.args.thread_ts === root.result.ts && String(m.args.text).startsWith(`Torn down by <@${ALICE}>`), `the closing reply of ${name}`);
    await waitFor(() => counted.proxy.isQuiet('server', 500), { what: 'the teardown to settle' });
    const down = { ...c() };
    expect([up.calls['create configmaps'], up.calls['patch configmaps'], down.calls['patch configmaps']]).toEqual([1, 1, 1]);
    return { opened: up.bytesByCall['create configmaps']!, readyAdded: up.bytesByCall['patch configmaps']!, closed: down.bytesByCall['patch configmaps']! };
  };

  const none = await launchAndTearDown('alpha');
  // Made while no Tycho runs: the failover below is the next process to start.
  await hh.tycho.stop();
  const t0 = Date.now();

  // 10,000 systems with open threads. Their Deployments are paused with no replicas (the deployment
  // controller makes no ReplicaSet for a paused one, so it does not fall behind on the launch
  // that follows) and not to be repaired: what matters is that their records are open and their
  // systems alive.
  const apps = kubeConfig().makeApiClient(AppsV1Api);
  const records = new ThreadRecords(kubeConfig(), hh.namespace);
  const limit = limiter(64);
  await Promise.all(
    Array.from({ length: THREADS }, (_, i) =>
      limit(async () => {
        const name = `open-${i}`;
        const labels = { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_SYSTEM]: name };
        const d = await apps.createNamespacedDeployment({
          namespace: hh.namespace,
          body: {
            metadata: { name, labels, annotations: { [ANN_REPAIR]: REPAIR_OFF } },
            spec: { replicas: 0, paused: true, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'nginx' }] } } },
          },
        });
        await records.open(d.metadata!.uid!, { name, channel: TEAM_CHANNEL, ts: `1700000000.${String(i).padStart(6, '0')}`, image: 'nginx', owner: `<@${ALICE}>`, ownerId: `slack:${ALICE}` });
      }),
    ),
  );

  process.stderr.write(`[records-scale] ${THREADS} systems and records made in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  // A failover: the next leader reads every record (in pages) and writes none.
  const mark = lines.length;
  counted.proxy.reset('server');
  hh.tycho = await hh.startReplica();
  const caughtUp = await waitFor(() => lines.slice(mark).find((l) => l.msg === 'caught up on Slack threads'), { what: 'the catch-up', timeoutMs: 120_000 });
  expect(caughtUp).toMatchObject({ records: THREADS + 1, closing: 0 });
  await waitFor(() => counted.proxy.isQuiet('server', 500), { what: 'the catch-up to settle' });
  const failover = c();
  expect(Object.keys(failover.calls).filter((k) => /^(create|patch|update|delete) configmaps/.test(k))).toEqual([]);
  expect(failover.calls['list configmaps']).toBe(Math.ceil((THREADS + 1) / 500));

  const many = await launchAndTearDown('bravo');
  // The same bytes, give or take a resourceVersion's extra digit or two.
  for (const k of ['opened', 'readyAdded', 'closed'] as const) {
    expect(Math.abs(many[k] - none[k])).toBeLessThanOrEqual(8);
    expect(many[k]).toBeLessThan(2048);
  }
  process.stderr.write(`[records-scale] bytes stored per change, 0 vs ${THREADS} open threads: ${JSON.stringify({ none, many })}\n`);
}, 600_000);
