/**
 * A reply told once (here a crash alert) whose writer stopped before Slack took it is not lost.
 * Its claim, the incident record's move to "open", is written with a pending mark on the
 * Deployment (src/bot/pending-replies.ts). Slack answers the alert 429 with Retry-After 120, and
 * Tycho is stopped and started again, knowing nothing but what Kubernetes holds: the new process
 * finds the mark older than any writer's attempt, looks in the thread, and posts the alert exactly
 * once; the "serving again" reply follows, once. Before the marks, the record said the incident
 * was told, and the alert never came.
 *
 * The post budget is the shortest the reconciler takes (5 s), so a mark is recovered within seconds.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { ANN_SLACK_INCIDENT, ANN_SLACK_PENDING } from '../../src/k8s/labels.js';
import { parseIncident } from '../../src/bot/incident.js';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { crashes } from './crashes.js';
import { ALICE, type BotHarness, shownText, startBotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('reply-recovery', { env: { TYCHO_INCIDENT_GRACE_SECONDS: '2' }, slackBudgetMs: 5_000 });
});
afterAll(async () => {
  await h?.stop();
});

async function annotations(name: string): Promise<Record<string, string>> {
  return (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name })).metadata?.annotations ?? {};
}

test('a crash alert refused 429 Retry-After 120 when Tycho restarts: the new process posts it exactly once, and the serving-again reply once', async () => {
  const sim = crashes(h);
  const root = await sim.launchReady('recovers', 'token-never-shown-0000');
  const inThread = (c: SlackCall) => c.args.thread_ts === root.result.ts;
  const isAlert = (c: SlackCall) => inThread(c) && String(c.args.text).includes('crashed');
  h.slack.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 120 }, { times: 1, when: (a) => a.thread_ts === root.result.ts && String(a.text).includes('crashed') });

  await sim.crash('recovers', 'error-1');
  await h.slack.waitFor('chat.postMessage:ratelimited', isAlert, 'the crash alert refused for 120 s');
  // Claimed and not posted: the incident is recorded as told, and its alert is marked pending.
  const claimed = await annotations('recovers');
  expect(parseIncident(claimed[ANN_SLACK_INCIDENT])).toMatchObject({ n: 1, open: true, kind: 'crash' });
  expect(claimed[ANN_SLACK_PENDING]).toMatch(/^crash-1@\S+$/);
  expect(h.slack.find('chat.postMessage', isAlert)).toEqual([]);

  await h.restart();
  const alert = await h.slack.waitFor('chat.postMessage', isAlert, 'the crash alert, posted by the restarted Tycho');
  expect(String(alert.args.text)).toContain('`recovers` crashed');
  expect(shownText(alert)).toContain(`<@${ALICE}>`);
  expect(shownText(alert)).toContain('exit code 1');
  await h.slack.waitFor('chat.postMessage', (c) => inThread(c) && String(c.args.text).includes('is serving again'), 'the serving-again reply');
  // Settled: no mark left, and each reply once.
  await waitFor(async () => (await annotations('recovers'))[ANN_SLACK_PENDING] === '', { what: 'the pending marks cleared' });
  expect(h.slack.find('chat.postMessage', isAlert)).toEqual([alert]);
  expect(h.slack.find('chat.postMessage', (c) => inThread(c) && String(c.args.text).includes('is serving again'))).toHaveLength(1);
}, 120_000);
