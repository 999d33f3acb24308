/**
 * GET /metrics (Prometheus text, prom-client): what operators ask of a launcher, read off what a
 * scrape returns after launches that got Ready, one that failed, and teardowns by the owner, by
 * someone else and from outside Tycho; Slack's refusals and rate limits; the Lease.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { waitFor } from '../support/cluster.js';
import { ALICE, startBotHarness, type BotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('metrics');
});
afterAll(async () => {
  await h?.stop();
});

/** One sample's value from a scrape (0 when absent), e.g. sample(text, 'tycho_launches_total{result="ready"}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const scrape = async () => {
  const res = await fetch(`${h.tycho.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
};

test('launches by result with their duration, teardowns by reason, running systems, Slack errors and waits, and the leader', async () => {
  const before = await scrape();
  expect(sample(before, 'tycho_launches_total{result="ready"}')).toBe(0);
  const alice = { id: `slack:${ALICE}`, display: 'alice' };
  // Two that get Ready (from Slack, whose posts meet one 5xx and one rate limit), one that cannot pull its image.
  h.slack.interject('chat.postMessage', { kind: 'server-error', status: 503, done: false }, { times: 1 });
  h.slack.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 1 }, { times: 1 });
  expect((await h.slash('up -n m-one -c example/app:1 -p 80')).status).toBe(200);
  await h.tycho.launcher.up({ name: 'm-two', image: 'example/app:1', ports: [80], owner: alice, origin: 'api' }, { wait: true });
  await expect(h.tycho.launcher.up({ name: 'm-bad', image: 'example/pull-error:1', ports: [80], owner: alice, origin: 'api' }, { wait: true })).rejects.toMatchObject({ code: 'image_pull_failed' });
  await waitFor(async () => sample(await scrape(), 'tycho_launches_total{result="ready"}') === 2, { what: 'two Ready launches counted' });

  // Torn down by its owner, by someone else (an admin), and from outside Tycho.
  await h.tycho.launcher.down('m-two', alice.id);
  await h.tycho.launcher.down('m-one', 'cli:bob');
  await h.apps.deleteNamespacedDeployment({ namespace: h.namespace, name: 'm-bad' });
  await waitFor(async () => sample(await scrape(), 'tycho_teardowns_total{reason="outside"}') === 1, { what: 'the outside teardown counted' });

  const text = await scrape();
  expect(sample(text, 'tycho_launches_total{result="ready"}')).toBe(2);
  expect(sample(text, 'tycho_launches_total{result="failed"}')).toBe(1);
  expect(sample(text, 'tycho_launch_duration_seconds_count')).toBe(2);
  expect(sample(text, 'tycho_launch_duration_seconds_bucket{le="600"}')).toBe(2);
  expect(sample(text, 'tycho_teardowns_total{reason="user"}')).toBe(1);
  expect(sample(text, 'tycho_teardowns_total{reason="admin"}')).toBe(1);
  expect(sample(text, 'tycho_slack_api_errors_total{kind="maybe-sent"}')).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'tycho_slack_api_errors_total{kind="rate-limited"}')).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'tycho_slack_rate_limit_wait_seconds_total')).toBeGreaterThanOrEqual(1);
  expect(sample(text, 'tycho_leader')).toBe(1);
  // Counts only: no names, owners or URLs.
  expect(text).not.toMatch(/m-one|m-two|alice|127\.0\.0\.1/);
  await waitFor(async () => !/tycho_running_systems\{stage="\w+"\} [1-9]/.test(await scrape()), { what: 'no running systems left' });
}, 120_000);
