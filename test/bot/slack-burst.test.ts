/**
 * Bursts (issue 18, Slack rate limits): 30 launches in one channel while the Slack stand-in
 * answers 429 with Retry-After (its per-channel posting limit, and a run of refused updates).
 * What people see must hold:
 * - no message is lost, only delayed: every thread has its root and its Ready reply, once;
 * - the order within each thread: the root, then Ready, and the root ends saying ready;
 * - Tycho keeps Slack's pace: one message call to a channel in flight at a time, in order;
 * - the team channel hears it batched: fewer messages than launches, each system named once as
 *   launching and once as ready, launching before ready.
 * The pace and the window are short here (what is under test does not depend on them); Slack's
 * own (1 s, 3 s) are the defaults.
 * A thread never waits for the team channel's window; a stop (SIGTERM drains, then stops) posts
 * the notices still to go before it ends.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { NOTIFY_CHANNEL, shownText, startBotHarness, TEAM_CHANNEL, type BotHarness } from './harness.js';

const LAUNCHES = 30;
let h: BotHarness;
let stopping: BotHarness | undefined;
/** The stop test stopped its Tycho itself (else, failed before it: the cleanup stops it). */
let stoppedInTest = false;

beforeAll(async () => {
  h = await startBotHarness('burst', { env: { TYCHO_SLACK_CHANNEL_INTERVAL_MS: '20', TYCHO_NOTICE_BATCH_MS: '1500' } });
  // Slack's limit, scaled: past 10 posts a second per channel (5 at once), 429 with Retry-After.
  h.slack.postRateLimit = { perSecond: 10, burst: 5 };
  // Answers take a while, as over a network: calls sent together are in flight together.
  h.slack.latencyMs = 15;
  // And a run of refused updates in the launches' channel.
  h.slack.interject('chat.update', { kind: 'ratelimited', retryAfterSeconds: 1 }, { times: 4, when: (a) => a.channel === TEAM_CHANNEL });
});

afterAll(async () => {
  await h?.stop();
  if (stopping) await (stoppedInTest ? stopping.slack.stop() : stopping.stop());
});

const names = Array.from({ length: LAUNCHES }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
const posts = (pred: (c: SlackCall) => boolean) => h.slack.find('chat.postMessage', pred);
const rootOf = (name: string) => (c: SlackCall) => c.args.channel === TEAM_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`is launching \`${name}\``);
const readyReplies = () => posts((c) => c.args.channel === TEAM_CHANNEL && !!c.args.thread_ts && String(c.args.text).startsWith('Ready:'));
/** Every line the team channel was told, in the order told. */
const noticeLines = () => h.slack.messages.filter((m) => m.channel === NOTIFY_CHANNEL).flatMap((m) => String(m.text).split('\n'));
const linesAbout = (name: string) => noticeLines().filter((l) => l.includes(`\`${name}\``));

test(`${LAUNCHES} launches in one channel while Slack answers 429: nothing lost, each thread in order, the team channel batched`, async () => {
  const acks = await Promise.all(names.map((n) => h.slash(`up -n ${n} -c nginx -p 80`)));
  expect(acks.map((a) => a.status)).toEqual(names.map(() => 200));

  const poll = { timeoutMs: 90_000, intervalMs: 250 };
  await waitFor(() => readyReplies().length >= LAUNCHES, { ...poll, what: `${LAUNCHES} Ready replies` });
  await waitFor(() => noticeLines().filter((l) => l.includes('is ready')).length >= LAUNCHES, { ...poll, what: 'every Ready notice' });
  // The roots' last word (their updates come after the Ready reply's claim).
  const rootTs = new Map(names.map((n) => [n, posts(rootOf(n))[0]?.result.ts as string | undefined]));
  const rootSays = (n: string) => h.slack.messages.find((m) => m.channel === TEAM_CHANNEL && m.ts === rootTs.get(n))?.text ?? '';
  await waitFor(() => names.every((n) => /is ready/.test(rootSays(n))), { ...poll, what: 'every root saying ready' });

  // Slack refused some calls, and nothing was lost for it.
  expect(h.slack.find('chat.postMessage:ratelimited').length + h.slack.find('chat.update:ratelimited').length).toBeGreaterThan(0);
  for (const n of names) {
    expect({ n, roots: posts(rootOf(n)).length }).toEqual({ n, roots: 1 });
    const root = rootTs.get(n)!;
    // The thread as Slack keeps it, in the order posted: the root, then its one Ready reply.
    const thread = h.slack.messages.filter((m) => m.channel === TEAM_CHANNEL && (m.ts === root || m.thread_ts === root));
    expect({ n, thread: thread.map((m) => (m.ts === root ? 'root' : String(m.text).split(':')[0])) }).toEqual({ n, thread: ['root', 'Ready'] });
    // The team channel: once launching, once ready, in that order.
    expect({ n, told: linesAbout(n).map((l) => (l.includes('is launching') ? 'launching' : l.includes('is ready') ? 'ready' : l)) }).toEqual({ n, told: ['launching', 'ready'] });
  }
  expect(readyReplies()).toHaveLength(LAUNCHES);

  // Batched: fewer messages in the team channel than launches, let alone than notices.
  const teamMessages = h.slack.messages.filter((m) => m.channel === NOTIFY_CHANNEL);
  expect(teamMessages.length).toBeLessThan(LAUNCHES);

  // Slack's pace: in each channel, every message call (taken or refused) arrived after the one
  // before it was answered, in the order they were sent.
  for (const channel of [TEAM_CHANNEL, NOTIFY_CHANNEL]) {
    const calls = h.slack.calls.filter((c) => /^chat\.(postMessage|update)/.test(c.method) && c.args.channel === channel).sort((a, b) => a.arrived! - b.arrived!);
    const overlapping = calls.filter((c, i) => i > 0 && c.arrived! < calls[i - 1]!.answered!).map((c) => `${c.method} ${String(c.args.text).slice(0, 40)}`);
    expect({ channel, overlapping }).toEqual({ channel, overlapping: [] });
  }
}, 150_000);

test("a thread does not wait for the team channel: with its notices still gathering, its teardown is told at once; a stop posts them all, in order", async () => {
  // A window far longer than the test: only the stop can end it.
  stopping = await startBotHarness('burst-stop', { env: { TYCHO_NOTICE_BATCH_MS: '60000' } });
  const s = stopping;
  expect((await s.slash('up -n gathered -c nginx -p 80')).status).toBe(200);
  const root = await s.slack.waitFor('chat.postMessage', (c) => c.args.channel === TEAM_CHANNEL && !c.args.thread_ts && String(c.args.text).includes('`gathered`'), 'the root message');
  const inThread = (c: SlackCall) => c.args.thread_ts === root.result.ts;
  await s.slack.waitFor('chat.postMessage', (c) => inThread(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
  // Torn down while the team channel's window is open: the thread is told now, not after the
  // window (its Ready notice waits there, behind the launching notice).
  await s.tycho.launcher.down('gathered', 'cli:bob');
  await s.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && /torn down/i.test(shownText(c)), 'the root saying torn down, not held behind the Ready notice');
  await s.slack.waitFor('chat.postMessage', (c) => inThread(c) && String(c.args.text).startsWith('Torn down by bob'), 'the closing reply');
  expect(s.slack.messages.filter((m) => m.channel === NOTIFY_CHANNEL)).toEqual([]);
  // The stop posts what the team channel has still to hear, each once, in the order it happened.
  await s.tycho.stop();
  stoppedInTest = true;
  const told = s.slack.messages.filter((m) => m.channel === NOTIFY_CHANNEL).flatMap((m) => String(m.text).split('\n'));
  expect(told).toEqual([expect.stringContaining('is launching `gathered`'), expect.stringMatching(/`gathered`.* is ready/), expect.stringMatching(/`gathered`.*torn down/i)]);
}, 90_000);
