/**
 * SlackIO's pace (src/bot/slack-io.ts), against the fake Slack through a real Web API client:
 * - about one message a second per channel: a channel's next post or update waits out the
 *   interval, another channel's does not wait for it, and one channel has one call in flight;
 * - notices to the team channel arriving together are one message, each line as it would be
 *   alone (linking its thread); a lone notice is as it always was; none is lost when the process
 *   stops (the gathering ends at once) or while Slack is away.
 * Waits pass on a clock of the test's own: no test waits the real interval or window.
 */
import { webApi } from '@slack/bolt';
import { noticeMessage, type Message, type RootFacts } from '../../src/bot/blocks.js';
import { slackClientOptions, SlackIO, type SlackIOOptions } from '../../src/bot/slack-io.js';
import { silentLogger } from '../../src/log.js';
import { FakeSlack, TEAM_URL, type SlackCall } from '../support/fake-slack.js';
import { InstantClock, ManualClock } from '../support/manual-clock.js';



const CALL_TIMEOUT_MS = 2_000;
const TEAM = 'CTEAM';
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

function io(options: SlackIOOptions): SlackIO {
  const client = new webApi.WebClient(`xoxb-pace-${token}`, { ...slackClientOptions(fake.apiUrl), timeout: CALL_TIMEOUT_MS, logLevel: webApi.LogLevel.ERROR });
  return new SlackIO(client, silentLogger, { callTimeoutMs: CALL_TIMEOUT_MS, ...options });
}

const msg = (text: string): Message => ({ text, blocks: [] });
const isMessage = (c: SlackCall) => c.method === 'chat.postMessage' || c.method === 'chat.update';
const textsIn = (channel: string) => fake.calls.filter((c) => isMessage(c) && c.args.channel === channel).map((c) => String(c.args.text));
const facts = (name: string): RootFacts => ({ name, image: 'nginx', owner: { id: 'slack:U0ALICE001', display: '<@U0ALICE001>' } });
const permalinkOf = (channel: string, ts: string) => `${TEAM_URL}archives/${channel}/p${ts.replace('.', '')}`;
const teamPosts = () => fake.find('chat.postMessage', (c) => c.args.channel === TEAM);

/** Whichever comes first: something waits on the clock, or `p` ends (it did not wait). */
const waitsOrEnds = (clock: ManualClock, p: Promise<unknown>) => Promise.race([clock.someoneSleeps().then(() => 'waits'), p.then(() => 'went at once')]);

describe('about one message a second per channel', () => {
  test("a channel's next post and update wait out the interval; another channel's post does not wait for them", async () => {
    const clock = new ManualClock();
    const s = io({ clock, channelIntervalMs: 1_000, noticeBatchMs: 0 });
    const root = await s.post('C1', msg('one'));
    expect(root).toBeDefined();

    const second = s.post('C1', msg('two'));
    // Another channel is not held up by C1's pace.
    expect(await s.post('C2', msg('elsewhere'))).toBeDefined();
    expect(await waitsOrEnds(clock, second)).toBe('waits');
    expect(textsIn('C1')).toEqual(['one']);
    clock.advance(1_000);
    await second;
    expect(textsIn('C1')).toEqual(['one', 'two']);

    const update = s.update({ channel: 'C1', ts: root! }, msg('one, edited'));
    expect(await waitsOrEnds(clock, update)).toBe('waits');
    expect(textsIn('C1')).toEqual(['one', 'two']);
    clock.advance(1_000);
    expect(await update).toBe(true);
    expect(textsIn('C1')).toEqual(['one', 'two', 'one, edited']);
  });

  test('one call to a channel in flight at a time: a burst of posts and updates goes one after another, in order', async () => {
    const s = io({ clock: new InstantClock(), channelIntervalMs: 1, noticeBatchMs: 0 });
    const root = await s.post('C1', msg('root'));
    const asked = [
      ...Array.from({ length: 12 }, (_, i) => s.post('C1', msg(`post ${i}`), root)),
      ...Array.from({ length: 6 }, (_, i) => s.update({ channel: 'C1', ts: root! }, msg(`update ${i}`))),
    ];
    await Promise.all(asked);
    const calls = fake.calls.filter((c) => isMessage(c) && c.args.channel === 'C1').sort((a, b) => a.arrived! - b.arrived!);
    expect(calls).toHaveLength(19);
    for (let i = 1; i < calls.length; i++) expect({ call: calls[i]!.args.text, arrivedAfterTheLastWasAnswered: calls[i]!.arrived! > calls[i - 1]!.answered! }).toEqual({ call: calls[i]!.args.text, arrivedAfterTheLastWasAnswered: true });
    // In the order asked: the posts of one thread as they were asked for.
    expect(calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.args.text)).toEqual(['root', ...Array.from({ length: 12 }, (_, i) => `post ${i}`)]);
  });
});

describe("the team channel's notices", () => {
  /** Three systems' threads in C1, and their "launching" notices asked for together. */
  async function threeLaunching(s: SlackIO) {
    const names = ['alpha', 'bravo', 'charlie'];
    const threads = [];
    for (const name of names) threads.push({ name, ts: (await s.post('C1', msg(name)))! });
    const told = Promise.all(threads.map((t) => s.notify({ notifyChannel: TEAM }, facts(t.name), { kind: 'launching' }, { channel: 'C1', ts: t.ts })));
    const lines = threads.map((t) => noticeMessage(facts(t.name), { kind: 'launching' }, permalinkOf('C1', t.ts)));
    return { told, lines };
  }

  test('several arriving within the window are one message, each line as it would be alone, linking its thread', async () => {
    const clock = new ManualClock();
    const s = io({ clock, channelIntervalMs: 0, noticeBatchMs: 3_000 });
    const { told, lines } = await threeLaunching(s);
    expect(await waitsOrEnds(clock, told)).toBe('waits');
    clock.advance(3_000);
    await told;
    expect(teamPosts()).toHaveLength(1);
    expect(String(teamPosts()[0]!.args.text).split('\n')).toEqual(lines.map((l) => l.text));
    expect(teamPosts()[0]!.args.blocks).toEqual(lines.flatMap((l) => l.blocks));
  });

  test('a lone notice is the notice it always was', async () => {
    const clock = new ManualClock();
    const s = io({ clock, channelIntervalMs: 0, noticeBatchMs: 3_000 });
    const ts = (await s.post('C1', msg('alpha')))!;
    const told = s.notify({ notifyChannel: TEAM }, facts('alpha'), { kind: 'ready', url: 'http://alpha.example' }, { channel: 'C1', ts });
    await waitsOrEnds(clock, told);
    clock.advance(3_000);
    await told;
    const alone = noticeMessage(facts('alpha'), { kind: 'ready', url: 'http://alpha.example' }, permalinkOf('C1', ts));
    expect(teamPosts().map((c) => ({ text: c.args.text, blocks: c.args.blocks }))).toEqual([alone]);
  });

  test('a process that stops posts the notices gathered so far at once, as one message', async () => {
    const clock = new ManualClock();
    const s = io({ clock, channelIntervalMs: 0, noticeBatchMs: 3_000 });
    const { told, lines } = await threeLaunching(s);
    expect(await waitsOrEnds(clock, told)).toBe('waits');
    // No time passes: the stop ends the gathering.
    await s.stopDelivery();
    await told;
    expect(teamPosts()).toHaveLength(1);
    expect(String(teamPosts()[0]!.args.text).split('\n')).toEqual(lines.map((l) => l.text));
  });

  test('notices asked for while Slack is away are posted once it is back, each once, together', async () => {
    const clock = new ManualClock();
    const s = io({ clock, channelIntervalMs: 0, noticeBatchMs: 3_000 });
    await fake.outage();
    const names = ['alpha', 'bravo', 'charlie'];
    const told = Promise.all(names.map((n) => s.notify({ notifyChannel: TEAM }, facts(n), { kind: 'expired' })));
    let done = false;
    void told.then(() => (done = true));
    // The clock moves on whenever SlackIO waits on it (the window, its pauses between tries);
    // Slack comes back after a few minutes of it.
    for (let minutes = 0; !done; ) {
      await Promise.race([clock.someoneSleeps(), told]);
      clock.advance(10_000);
      if (++minutes === 30) await fake.back();
      await new Promise((r) => setImmediate(r));
    }
    expect(teamPosts()).toHaveLength(1);
    expect(String(teamPosts()[0]!.args.text).split('\n')).toEqual(names.map((n) => noticeMessage(facts(n), { kind: 'expired' }).text));
  });
});
