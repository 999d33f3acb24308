/**
 * Load: many `/tycho up` in one channel, against a Slack stand-in that enforces its posting
 * limit (about one message per second per channel, short bursts allowed; over it, HTTP 429 with
 * Retry-After), and a counting proxy in front of the API server. What must hold:
 * - no message is lost or doubled: every root message, Ready reply and notice exactly once;
 * - Tycho waits as Slack tells it to: it is refused no more often than it posts, never a storm
 *   of retries;
 * - the server holds the live view's four watches however many launches are in flight.
 * TYCHO_LOAD_LAUNCHES sets how many (200 by default). The stand-in's limit is Slack's scaled up
 * 8× (8 posts a second per channel, bursts of 6; TYCHO_LOAD_POSTS_PER_SECOND=1 for Slack's own):
 * what is under test, waiting as told with nothing lost or doubled, does not depend on the rate,
 * and at Slack's own 200 launches take at least 400 s (a root message and a Ready reply each, in
 * one channel), two thirds of `npm test`'s time. The burst scales with the rate: a sender told
 * to wait (Retry-After is whole seconds) finds at most a burst's worth of room when it is back,
 * so with 8 a second but bursts of 3 it posted 3 a second, as at 4 (measured: 141 s either way).
 */
import type { CountingProxy } from '../../src/bench/counting-proxy.js';
import { countingProxyFor } from '../support/counted.js';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { NOTIFY_CHANNEL, startBotHarness, TEAM_CHANNEL, type BotHarness } from './harness.js';

const LAUNCHES = Number(process.env.TYCHO_LOAD_LAUNCHES ?? 200);
/** Slack's limit is 1 chat.postMessage per second per channel, a few over it in a burst (see above). */
const PER_SECOND = Number(process.env.TYCHO_LOAD_POSTS_PER_SECOND ?? 8);
const LIMIT = { perSecond: PER_SECOND, burst: Math.max(3, Math.round(PER_SECOND * 0.75)) };
/** Long enough for Slack's limit alone (two posts per launch in one channel), with room for the cluster. */
const BUDGET_MS = (LAUNCHES * 2 * 1000) / LIMIT.perSecond + 300_000;

let proxy: CountingProxy;
let h: BotHarness;

beforeAll(async () => {
  const counted = await countingProxyFor('server');
  proxy = counted.proxy;
  h = await startBotHarness('load', { kubeConfig: counted.kc, env: { TYCHO_READY_TIMEOUT: String(Math.ceil(BUDGET_MS / 1000)) } });
  h.slack.postRateLimit = LIMIT;
});

afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
});

const names = Array.from({ length: LAUNCHES }, (_, i) => `load-${String(i).padStart(3, '0')}`);
const posts = (pred: (c: SlackCall) => boolean) => h.slack.find('chat.postMessage', pred);
const rootOf = (name: string) => (c: SlackCall) => c.args.channel === TEAM_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`is launching \`${name}\``);
const readyReplies = () => posts((c) => c.args.channel === TEAM_CHANNEL && !!c.args.thread_ts && String(c.args.text).startsWith('Ready:'));
const notices = (name: string, words: string) => posts((c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes(`\`${name}\``) && String(c.args.text).includes(words));

test(
  `${LAUNCHES} launches in one channel, within Slack's posting limit: every message exactly once, four watches`,
  async () => {
    const watchesAtStart = proxy.counts('server').watchesOpen;
    expect(watchesAtStart).toBe(4);
    proxy.reset('server');
    const started = Date.now();
    const acks = await Promise.all(names.map((n) => h.slash(`up -n ${n} -c nginx -p 80`)));
    expect(acks.map((a) => a.status)).toEqual(names.map(() => 200));

    // Polled once a second: the server runs in this process, and a check on every Slack call
    // would take its time from the server.
    const poll = { timeoutMs: BUDGET_MS, intervalMs: 1000 };
    await waitFor(() => readyReplies().length >= LAUNCHES, { ...poll, what: `${LAUNCHES} Ready replies` });
    // And the notices that go with them (another channel, limited on its own).
    const readyNotices = () => posts((c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('is ready'));
    await waitFor(() => readyNotices().length >= LAUNCHES, { ...poll, what: 'every Ready notice' });

    const replies = readyReplies();
    for (const n of names) {
      const roots = posts(rootOf(n));
      expect(roots).toHaveLength(1);
      expect(replies.filter((r) => r.args.thread_ts === roots[0]!.result.ts)).toHaveLength(1);
      expect(notices(n, 'is launching')).toHaveLength(1);
      expect(notices(n, 'is ready')).toHaveLength(1);
    }
    expect(replies).toHaveLength(LAUNCHES);
    // Slack refused some posts (the limit was reached), and Tycho waited as told before trying again.
    const refused = h.slack.find('chat.postMessage:ratelimited').length;
    const posted = posts(() => true).length;
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(posted);
    // The live view's four watches, however many launches were in flight, across the API
    // server's rollovers (it ends each at its timeoutSeconds, 300 s): never more than four at
    // once, and four now, once a rollover in progress (if any) has re-opened its watch.
    const c = proxy.counts('server');
    expect(c.watchesPeak).toBe(4);
    await waitFor(() => proxy.counts('server').watchesOpen === 4, { what: `the server to hold four watches (${proxy.counts('server').watchesOpen} open when the wait began)` });
    // Each kind re-opened only when the API server ended it (a rollover, and a re-list after a
    // 410 at most), never once per launch.
    const rounds = 1 + Math.ceil((Date.now() - started) / 300_000);
    for (const kind of ['deployments', 'pods', 'services', 'endpoints']) expect(c.calls[`watch ${kind}`] ?? 0).toBeLessThanOrEqual(rounds);
    expect(c.verbs.watch).toBeLessThanOrEqual(4 * rounds);
    expect(c.calls['create deployments']).toBe(LAUNCHES);
  },
  BUDGET_MS + 120_000,
);
