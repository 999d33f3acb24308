/**
 * Crash alerts after launch. A system that served and whose container then crashes (a non-zero
 * exit, or OOMKilled) gets one alert in its thread, its owner tagged, with the reason, the exit
 * code, the last lines of the crashed run's log (redacted) and Restart, Logs and Tear down
 * buttons; and one "serving again" once it serves again. A crash loop is one incident, not one
 * alert per restart. Two replicas still give exactly one of each. A pod replaced on purpose
 * (kubectl delete pod) within the grace period is no incident.
 *
 * Crashes are made on demand with the node simulator's crash annotation (kubelet-simulator.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { RunningTycho } from '../../src/server/tycho.js';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { crashes } from './crashes.js';
import { ALICE, type BotHarness, buttonsOf, shownText, startBotHarness } from './harness.js';

const SECRET = 'xoxb-1234567890-abcdefghijkl';
let h: BotHarness;
let sim: ReturnType<typeof crashes>;
const replicas: RunningTycho[] = [];
beforeAll(async () => {
  // A short grace: a crash incident ends once the system has served again this long.
  h = await startBotHarness('crash-alerts', { env: { TYCHO_INCIDENT_GRACE_SECONDS: '2' } });
  sim = crashes(h);
});
const launchReady = (name: string) => sim.launchReady(name, SECRET);
const readyPod = (name: string, not?: string) => sim.readyPod(name, not);
const crash = (name: string, how: string) => sim.crash(name, how);
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await h?.stop();
});

function thread(root: SlackCall) {
  const inThread = (c: SlackCall) => c.args.thread_ts === root.result.ts;
  return {
    alerts: () => h.slack.find('chat.postMessage', (c) => inThread(c) && String(c.args.text).includes('crashed')),
    recoveries: () => h.slack.find('chat.postMessage', (c) => inThread(c) && String(c.args.text).includes('is serving again')),
    others: () => h.slack.find('chat.postMessage', (c) => inThread(c) && /stopped serving|failed/.test(String(c.args.text))),
    roots: () => h.slack.find('chat.update', (c) => c.args.ts === root.result.ts),
  };
}

function expectAlert(alert: SlackCall, name: string, reason: string, exitCode: number, lastWords: string): void {
  const shown = shownText(alert);
  expect(String(alert.args.text)).toContain(`\`${name}\` crashed`);
  expect(shown).toContain(`<@${ALICE}>`);
  expect(shown).toContain(reason);
  expect(shown).toContain(`exit code ${exitCode}`);
  // The crashed run's last lines, secrets taken out.
  expect(shown).toContain(lastWords);
  expect(shown).toContain('token=[REDACTED]');
  expect(shown).not.toContain(SECRET);
  expect(buttonsOf(alert).map((b) => [b.action_id, b.value])).toEqual([
    ['tycho_restart', name],
    ['tycho_logs', name],
    ['tycho_teardown', name],
  ]);
}

describe('crash alerts', () => {
  test('a crash after Ready: one alert with the reason, exit code, previous log and buttons, and one "serving again"; a second crash (OOMKilled): one more of each; a deleted pod: none', async () => {
    const root = await launchReady('crashy');
    const t = thread(root);
    // A pod replaced on purpose is no incident: a new pod, restartCount 0, back within the grace.
    const first = await readyPod('crashy');
    await h.core.deleteNamespacedPod({ namespace: h.namespace, name: first.metadata!.name! });
    await readyPod('crashy', first.metadata!.uid);

    await crash('crashy', 'error-1');
    const alert = await h.slack.waitFor('chat.postMessage', (c) => t.alerts().includes(c), 'the crash alert');
    expectAlert(alert, 'crashy', 'Error', 1, 'Error: simulated crash after Ready');
    await h.slack.waitFor('chat.postMessage', (c) => t.recoveries().includes(c), 'the serving-again reply');
    // The root showed the crash while it lasted, and shows it ready again after.
    expect(t.roots().some((c) => shownText(c).includes('crashed'))).toBe(true);
    await waitFor(() => !shownText(t.roots().at(-1)!).includes('crashed') && shownText(t.roots().at(-1)!).includes('is ready'), { what: 'the root ready again' });

    await crash('crashy', 'oom-2');
    await waitFor(() => t.alerts().length === 2, { what: 'the second crash alert' });
    expectAlert(t.alerts()[1]!, 'crashy', 'OOMKilled', 137, 'Killed (simulated: out of memory');
    await waitFor(() => t.recoveries().length === 2, { what: 'the second serving-again reply' });
    expect(t.alerts()).toHaveLength(2);
    expect(t.recoveries()).toHaveLength(2);
    expect(t.others()).toHaveLength(0);
  }, 120_000);

  test('two replicas: still exactly one alert and one "serving again" per crash', async () => {
    replicas.push(await h.startReplica());
    const root = await launchReady('crashy-two');
    const t = thread(root);
    for (const n of [1, 2]) {
      await crash('crashy-two', `error-${n}`);
      await waitFor(() => t.recoveries().length === n, { what: `serving-again reply ${n}` });
      expect(t.alerts()).toHaveLength(n);
    }
    expectAlert(t.alerts()[0]!, 'crashy-two', 'Error', 1, 'Error: simulated crash after Ready');
    expect(t.recoveries()).toHaveLength(2);
    expect(t.others()).toHaveLength(0);
  }, 120_000);
});
