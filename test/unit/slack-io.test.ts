/**
 * SlackIO (src/bot/slack-io.ts) against the fake Slack, through a real Web API client built with
 * the options Tycho gives it (slackClientOptions), its timeout shortened. What must hold:
 * - a post Slack may have taken (its answer lost to a timeout, a 5xx) appears once, and the
 *   caller gets its ts;
 * - every post ends within its budget: a Retry-After longer than the budget gives up at once;
 * - one channel waiting out a Retry-After holds up neither other channels' posts nor updates.
 * Retry-After waits pass on a clock of the test's own, so no test waits a real second for them.
 */
import { webApi } from '@slack/bolt';
import { MAX_POST_ATTEMPT_MS, POSTS_IN_FLIGHT_PER_CHANNEL, SLACK_CALL_TIMEOUT_MS, SLACK_POST_BUDGET_MS, slackClientOptions, slackFailureObservers, SlackIO, systemMessage, type SlackIOOptions } from '../../src/bot/slack-io.js';
import { createLogger } from '../../src/log.js';
import { FakeSlack, type FakeMessage } from '../support/fake-slack.js';
import { InstantClock, ManualClock } from '../support/manual-clock.js';

/** The client's timeout here: a held answer costs this much real time. */
const CALL_TIMEOUT_MS = 300;



let fake: FakeSlack;
/** Each test's own bot token: the channel lanes are per token, so tests do not share them. */
let token = 0;

beforeEach(async () => {
  fake = await FakeSlack.start();
  token += 1;
});
afterEach(async () => {
  await fake.stop();
});

/** These tests are of Slack's refusals and answers, not of the pace (slack-pacing.test.ts): unpaced, each notice alone. */
const UNPACED: SlackIOOptions = { channelIntervalMs: 0, noticeBatchMs: 0 };

const lines: string[] = [];
const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });

function io(options: SlackIOOptions = {}): SlackIO {
  const client = new webApi.WebClient(`xoxb-test-${token}`, { ...slackClientOptions(fake.apiUrl), timeout: CALL_TIMEOUT_MS, logLevel: webApi.LogLevel.ERROR });
  return new SlackIO(client, log, { callTimeoutMs: CALL_TIMEOUT_MS, clock: new InstantClock(), ...UNPACED, ...options });
}

const msg = (text: string) => ({ text, blocks: [] });
const ready = systemMessage('uid-1', 'ready');
const inThread = (root: string) => fake.messages.filter((m: FakeMessage) => m.thread_ts === root);

async function root(s: SlackIO, channel = 'C1'): Promise<string> {
  const ts = await s.post(channel, msg('root'));
  if (!ts) throw new Error('the root message was not posted');
  return ts;
}

describe('a post that may have reached Slack is not posted twice', () => {
  test('its answer lost to the client timeout: one message in the thread, and the post returns its ts', async () => {
    const s = io();
    const thread = await root(s);
    fake.interject('chat.postMessage', { kind: 'held' }, { times: 1 });
    const outcome = await s.tryPost('C1', msg('Ready'), { threadTs: thread, metadata: ready });
    expect(inThread(thread)).toHaveLength(1);
    expect(outcome).toEqual({ kind: 'posted', ts: inThread(thread)[0]!.ts, found: true });
    // Slack was asked for the thread with the metadata, which is how the message was known.
    expect(fake.find('conversations.replies', (c) => c.args.ts === thread && c.args.include_all_metadata === 'true')).toHaveLength(1);
    expect(fake.find('chat.postMessage')).toHaveLength(2); // the root and the one reply
  });

  test('a 5xx after Slack posted it: one message', async () => {
    const s = io();
    const thread = await root(s);
    fake.interject('chat.postMessage', { kind: 'server-error', status: 503, done: true }, { times: 1 });
    expect(await s.post('C1', msg('Ready'), thread, ready)).toBe(inThread(thread)[0]?.ts);
    expect(inThread(thread)).toHaveLength(1);
  });

  test('a 5xx before Slack posted it: looked for, not found, posted once', async () => {
    const s = io();
    const thread = await root(s);
    fake.interject('chat.postMessage', { kind: 'server-error', status: 500, done: false }, { times: 1 });
    const outcome = await s.tryPost('C1', msg('Ready'), { threadTs: thread, metadata: ready });
    expect(inThread(thread)).toHaveLength(1);
    expect(outcome).toEqual({ kind: 'posted', ts: inThread(thread)[0]!.ts, found: false });
    expect(fake.find('chat.postMessage:failed')).toHaveLength(1);
  });

  test('a message outside a thread (a root, a notice), its answer lost: found in the channel by an id of its own', async () => {
    const s = io();
    fake.interject('chat.postMessage', { kind: 'held' }, { times: 1 });
    const ts = await s.post('C1', msg('root'));
    expect(fake.messages).toHaveLength(1);
    expect(ts).toBe(fake.messages[0]!.ts);
    expect(fake.find('conversations.history', (c) => c.args.channel === 'C1' && c.args.include_all_metadata === 'true')).toHaveLength(1);
  });

  test('when Slack cannot be asked either, it is not sent again, and the caller hears so', async () => {
    const s = io();
    const thread = await root(s);
    fake.interject('chat.postMessage', { kind: 'held' });
    fake.interject('conversations.replies', { kind: 'held' });
    const outcome = await s.tryPost('C1', msg('Ready'), { threadTs: thread, metadata: ready });
    expect(outcome.kind).toBe('unknown');
    expect(inThread(thread)).toHaveLength(1);
    expect(fake.find('chat.postMessage', (c) => c.args.thread_ts === thread)).toHaveLength(1);
  });
});

describe('findPosted', () => {
  test('pages through the thread for the message of that system and key', async () => {
    const s = io();
    const thread = await root(s);
    for (const key of ['a', 'b', 'c', 'd']) await s.post('C1', msg(key), thread, systemMessage('uid-1', key));
    await s.post('C1', msg('other system'), thread, systemMessage('uid-2', 'ready'));
    await s.post('C1', msg('Ready'), thread, ready);
    fake.pageLimit = 2;
    expect(await s.findPosted('C1', thread, 'uid-1', 'ready')).toEqual({ kind: 'posted', ts: inThread(thread).at(-1)!.ts });
    expect(fake.find('conversations.replies').length).toBeGreaterThanOrEqual(4); // 7 messages, 2 a page
    expect(await s.findPosted('C1', thread, 'uid-1', 'gone')).toEqual({ kind: 'absent' });
    expect(await s.findPosted('C1', thread, 'uid-3', 'ready')).toEqual({ kind: 'absent' });
  });

  test('says refused, in Slack words, when Slack will not let the thread be read (so a recovery settles instead of asking for ever)', async () => {
    expect(await io().findPosted('C1', '1700000000.000001', 'uid-1', 'ready')).toEqual({ kind: 'refused', error: 'thread_not_found' });
  });

  test('a lookup Slack refuses is one failed call to the metrics, not two', async () => {
    const heard: string[] = [];
    const observe = (kind: string) => void heard.push(kind);
    slackFailureObservers.add(observe);
    try {
      expect((await io().findPosted('C1', '1700000000.000001', 'uid-1', 'ready')).kind).toBe('refused');
    } finally {
      slackFailureObservers.delete(observe);
    }
    expect(heard).toEqual(['refused']);
  });

  test('a post that must look first, in a thread Slack will not let it read, is refused, not sent', async () => {
    expect(await io().tryPost('C1', msg('again'), { threadTs: '1700000000.000001', lookFirst: true })).toEqual({ kind: 'refused', error: 'thread_not_found' });
    expect(fake.messages).toHaveLength(0);
  });
});

describe('every post ends within its budget', () => {
  test('the budget is well within the 30 s a pod gets to stop, and the longest attempt covers it', () => {
    expect(SLACK_POST_BUDGET_MS).toBeLessThanOrEqual(20_000);
    expect(MAX_POST_ATTEMPT_MS).toBeGreaterThanOrEqual(SLACK_POST_BUDGET_MS + SLACK_CALL_TIMEOUT_MS);
    expect(slackClientOptions()).toMatchObject({ retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: SLACK_CALL_TIMEOUT_MS });
  });

  test('a Retry-After that fits is waited out, then the message is posted', async () => {
    const clock = new InstantClock();
    const s = io({ clock });
    fake.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 3 }, { times: 1 });
    expect(await s.tryPost('C1', msg('root'))).toMatchObject({ kind: 'posted', found: false });
    expect(clock.slept).toBe(3000);
    expect(fake.messages).toHaveLength(1);
  });

  test('a Retry-After of 120 s gives up at once, and the channel is not asked again until it is over', async () => {
    const clock = new InstantClock();
    const s = io({ clock });
    fake.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 120 }, { times: 1 });
    expect(await s.tryPost('C1', msg('first'))).toEqual({ kind: 'not-posted', error: expect.stringContaining('rate') });
    expect(clock.slept).toBe(0);
    expect(await s.tryPost('C1', msg('second'))).toMatchObject({ kind: 'not-posted' });
    expect(fake.find('chat.postMessage:ratelimited')).toHaveLength(1);
    expect(fake.find('chat.postMessage')).toHaveLength(0);
    // Another channel is not held up.
    expect(await s.tryPost('C2', msg('elsewhere'))).toMatchObject({ kind: 'posted' });
    clock.slept += 120_000;
    expect(await s.tryPost('C1', msg('later'))).toMatchObject({ kind: 'posted' });
    expect(clock.slept).toBe(120_000);
  });

  test('a chat.update refused for 120 s gives up at once', async () => {
    const clock = new InstantClock();
    const s = io({ clock });
    const ts = await root(s);
    fake.interject('chat.update', { kind: 'ratelimited', retryAfterSeconds: 120 }, { times: 1 });
    expect(await s.update({ channel: 'C1', ts }, msg('changed'))).toBe(false);
    expect(clock.slept).toBe(0);
    expect(fake.find('chat.update')).toHaveLength(0);
  });

  test('Slack unreachable: the post gives up within the budget, certain it posted nothing', async () => {
    const clock = new InstantClock();
    const budgetMs = 5_000;
    const client = new webApi.WebClient(`xoxb-test-${token}`, { ...slackClientOptions('http://127.0.0.1:1/api/'), timeout: CALL_TIMEOUT_MS, logLevel: webApi.LogLevel.ERROR });
    const s = new SlackIO(client, log, { callTimeoutMs: CALL_TIMEOUT_MS, budgetMs, clock, ...UNPACED });
    const started = clock.now();
    expect(await s.tryPost('C1', msg('root'))).toMatchObject({ kind: 'not-posted' });
    expect(clock.now() - started).toBeLessThanOrEqual(budgetMs);
    expect(clock.slept).toBeGreaterThan(0); // it did try again meanwhile
  });
});

describe('one channel waiting on a Retry-After holds up no other', () => {
  test("another channel's post and update go through while it waits; it posts once its wait is over", async () => {
    const clock = new ManualClock();
    const s = io({ clock });
    const thread = await root(s, 'C2');
    fake.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 5 }, { times: 1, when: (a) => a.channel === 'C1' });
    let waiting = true;
    const slow = s.tryPost('C1', msg('slow')).finally(() => (waiting = false));
    await clock.someoneSleeps();

    expect(await s.post('C2', msg('reply'), thread)).toBeDefined();
    expect(await s.update({ channel: 'C2', ts: thread }, msg('root, changed'))).toBe(true);
    expect(waiting).toBe(true);

    clock.advance(5000);
    expect(await slow).toMatchObject({ kind: 'posted' });
    expect(fake.messages.map((m) => m.text)).toEqual(['root, changed', 'reply', 'slow']);
  });

  test("a post's claim is taken when its turn in the channel comes, not while it waits behind another", async () => {
    const clock = new ManualClock();
    const s = io({ clock });
    fake.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 5 }, { times: 1 });
    const first = s.tryPost('C1', msg('first'));
    await clock.someoneSleeps();
    let claimed = false;
    const second = s.tryPost('C1', msg('second'), {
      claim: async () => {
        claimed = true;
        return true;
      },
    });
    const refused = s.tryPost('C1', msg('unclaimed'), { claim: async () => false });
    expect(claimed).toBe(false);
    clock.advance(5000);
    expect(await first).toMatchObject({ kind: 'posted' });
    expect(await second).toMatchObject({ kind: 'posted' });
    expect(claimed).toBe(true);
    expect(await refused).toEqual({ kind: 'not-claimed' });
    // Both go once the pause is over, side by side (a few posts to one channel are in flight at once).
    expect(fake.messages.map((m) => m.text).sort()).toEqual(['first', 'second']);
  });
});

describe('a burst of posts to one channel', () => {
  test(`up to ${POSTS_IN_FLIGHT_PER_CHANNEL} are in flight at once, the rest wait their turn, and each is posted once`, async () => {
    const n = POSTS_IN_FLIGHT_PER_CHANNEL;
    // Slack takes each post and holds its answer: a post stays in flight until the test lets it end.
    fake.interject('chat.postMessage', { kind: 'held' }, { times: n });
    const patient = 30_000;
    const client = new webApi.WebClient(`xoxb-test-${token}`, { ...slackClientOptions(fake.apiUrl), timeout: patient, logLevel: webApi.LogLevel.ERROR });
    const s = new SlackIO(client, log, { callTimeoutMs: patient, clock: new InstantClock(), ...UNPACED });
    const texts = Array.from({ length: n + 2 }, (_, i) => `post ${i}`);
    let ended = 0;
    const posts = texts.map((t) => s.tryPost('C1', msg(t)).finally(() => ended++));
    // One at a time, the second post would start only once the first had ended.
    await fake.waitFor('chat.postMessage', (c) => c.args.text === `post ${n - 1}`, `post ${n - 1} while posts 0 to ${n - 2} are unanswered`, 10_000);
    expect(ended).toBe(0);
    expect(fake.messages.map((m) => m.text)).toHaveLength(n);
    fake.releaseHeld();
    expect((await Promise.all(posts)).map((o) => o.kind)).toEqual(texts.map(() => 'posted'));
    expect(fake.messages.map((m) => m.text).sort()).toEqual([...texts].sort());
  });
});

describe('updates of one message', () => {
  test('go out one after another in the order asked, so the last asked is what Slack shows', async () => {
    const s = io();
    const ts = await root(s);
    // The first update's answer is held back: a second writer of the same message must wait for it.
    fake.interject('chat.update', { kind: 'held' }, { times: 1 });
    const first = s.update({ channel: 'C1', ts }, msg('launching'));
    await fake.waitFor('chat.update', (c) => c.args.text === 'launching', 'the first update', 10_000);
    const second = s.update({ channel: 'C1', ts }, msg('failed'));
    // Another message's update is not held up by it.
    const other = await root(s);
    expect(await s.update({ channel: 'C1', ts: other }, msg('other'))).toBe(true);
    expect(fake.find('chat.update', (c) => c.args.ts === ts).map((c) => c.args.text)).toEqual(['launching']);
    fake.releaseHeld();
    expect(await Promise.all([first, second])).toEqual([true, true]);
    expect(fake.find('chat.update', (c) => c.args.ts === ts).map((c) => c.args.text)).toEqual(['launching', 'failed']);
    expect(fake.messages.find((m) => m.ts === ts)?.text).toBe('failed');
  });
});

describe('notices in the team channel', () => {
  test("one thread's notices appear in the order they were asked for, even when the first is held up", async () => {
    const s = io();
    // The first notice's link is slow to come (its answer lost to the client's timeout, then asked again).
    fake.interject('chat.getPermalink', { kind: 'held' }, { times: 1 });
    const facts = { name: 'web', image: 'nginx', owner: { id: 'U1', display: 'alice' } };
    const thread = { channel: 'C1', ts: '1700000000.000001' };
    const launching = s.notify({ notifyChannel: 'CTEAM' }, facts, { kind: 'launching' }, thread);
    const ready = s.notify({ notifyChannel: 'CTEAM' }, facts, { kind: 'ready', url: 'http://web.example' }, thread);
    await Promise.all([launching, ready]);
    const said = fake.messages.filter((m) => m.channel === 'CTEAM').map((m) => (/is launching/.test(m.text ?? '') ? 'launching' : /is ready/.test(m.text ?? '') ? 'ready' : m.text));
    expect(said).toEqual(['launching', 'ready']);
  });
});

test('a refusal is final and logged in Slack words', async () => {
  fake.refuseChannels.add('C9');
  const outcome = await io().tryPost('C9', msg('root'));
  expect(outcome).toEqual({ kind: 'refused', error: 'not_in_channel' });
  expect(fake.find('chat.postMessage')).toHaveLength(1);
  expect(lines.some((l) => l.includes('not_in_channel') && l.includes('C9'))).toBe(true);
});
