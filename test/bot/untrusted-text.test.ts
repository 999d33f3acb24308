/**
 * Text from outside reaches Slack inert, end to end: a container's termination message (from
 * the pod's status, as a kubelet reports it) and an owner name typed into the REST API cannot
 * mention anyone, ping a channel or plant a link, in the thread, on the root message, in the
 * notice or in an ephemeral answer. Mentions Tycho composes itself (the verified owner) stay live.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OWNER_HEADER } from '../../src/api/wire.js';
import { TERMINATION_MESSAGE_ENV } from '../../src/local/kubelet-simulator.js';
import { call } from '../api/helpers.js';
import type { SlackCall } from '../support/fake-slack.js';
import { mrkdwnObjects } from '../support/mrkdwn.js';
import { ALICE, BOB, NOTIFY_CHANNEL, shownText, startBotHarness, type BotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('bot-untrusted');
});
afterAll(async () => {
  await h?.stop();
});

const HOSTILE = '<@U0123ABCD> see http://evil.example <!channel>';

/**
 * What people see is inert: no live mention or ping from the hostile text, its words shown as
 * text, the URL only inside a code span (in `text` and in blocks), and Slack's own
 * auto-linking off in every block.
 */
function expectInert(call: SlackCall): void {
  const shown = shownText(call);
  for (const live of ['<@U0123ABCD>', '<!channel>', '<!here>', '<http://evil', '<@U0ADMIN001>']) expect(shown).not.toContain(live);
  expect(shown).not.toMatch(/[^`]http:\/\/evil\.example/);
  for (const o of mrkdwnObjects(call.args.blocks ?? [])) expect(o.verbatim).toBe(true);
}

const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;

describe('a termination message with mentions and a URL', () => {
  test('is shown as text in the thread, on the root message, in the notice and in status', async () => {
    const res = await h.slash(`up -n evil-words -c example/crashloop:1 -p 80 -e "${TERMINATION_MESSAGE_ENV}=${HOSTILE}"`);
    expect(res.status).toBe(200);
    const root = await h.slack.waitFor('chat.postMessage', (c) => !c.args.thread_ts && c.args.channel !== NOTIFY_CHANNEL && String(c.args.text).includes('`evil-words`'), 'the root message');

    const reply = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes('keeps exiting'), 'the crash reply');
    expectInert(reply);
    // The words themselves are there for whoever debugs the app, just not live.
    expect(shownText(reply)).toContain('&lt;@U0123ABCD&gt;');
    expect(shownText(reply)).toContain('`http://evil.example`');
    expect(shownText(reply)).toContain('&lt;!channel&gt;');

    const failed = await h.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('keeps exiting'), 'the root message turning failed');
    expectInert(failed);
    expect(shownText(failed)).toContain('&lt;@U0123ABCD&gt;');
    // The owner, from the signed user ID, is still a live mention.
    expect(shownText(failed)).toContain(`Launched by <@${ALICE}>`);

    const notice = await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`evil-words`') && String(c.args.text).includes('failed'), 'the failure notice');
    expectInert(notice);

    const status = await h.slash('status -n evil-words');
    const answer = await h.slack.waitFor('response_url', (c) => c.tag === status.tag, 'the status answer');
    expectInert(answer);
    expect(shownText(answer)).toContain('&lt;@U0123ABCD&gt;');

    for (const c of h.slack.calls) expectInert(c);
  });
});

describe('owner names typed by people', () => {
  test('a CLI owner (TYCHO_OWNER is free text) is text in status, in a name clash and in a refused teardown', async () => {
    // What `TYCHO_OWNER=… tycho up` does in direct mode: the launcher with a cli: owner.
    const owner = { id: 'cli:mallory', display: '<@U0ADMIN001> <!here> http://evil.example' };
    await h.tycho.launcher.up({ name: 'cli-owned', image: 'nginx', ports: [80], owner, origin: 'cli' }, { wait: false });

    const status = await h.slash('status -n cli-owned', { user: BOB });
    const s = await h.slack.waitFor('response_url', (c) => c.tag === status.tag, 'the status answer');
    expectInert(s);
    expect(shownText(s)).toContain('`&lt;@U0ADMIN001&gt;` &lt;!here&gt; `http://evil.example`');

    await h.slash('up -n cli-owned -c nginx -p 80', { user: BOB });
    const root = await h.slack.waitFor('chat.postMessage', (c) => !c.args.thread_ts && c.args.channel !== NOTIFY_CHANNEL && String(c.args.text).includes(`<@${BOB}> is launching \`cli-owned\``), 'the clash root');
    const clash = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes('already in use'), 'the name-in-use reply');
    expectInert(clash);

    const down = await h.slash('down cli-owned', { user: BOB });
    const refusal = await h.slack.waitFor('response_url', (c) => c.tag === down.tag, 'the refusal');
    expect(String(refusal.args.text)).toContain('or an admin can tear down');
    expectInert(refusal);
    expect(await h.deploymentExists('cli-owned')).toBe(true);
    await h.tycho.launcher.down('cli-owned');
  });

  test('a REST owner (X-Tycho-Owner) that Slack would link is put in a code span', async () => {
    const started = await call(h.tycho.url, '/system/start?wait=false', { name: 'rest-owned', containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] }, { headers: { [OWNER_HEADER]: 'boss@evil.example' } });
    expect(started.status).toBe(201);
    const status = await h.slash('status -n rest-owned');
    const s = await h.slack.waitFor('response_url', (c) => c.tag === status.tag, 'the status answer');
    expect(shownText(s)).toContain('*Owner*\\n`boss@evil.example`');
    expect(shownText(s)).not.toMatch(/[^`]boss@evil\.example/);
    expect((await call(h.tycho.url, '/system/delete', { name: 'rest-owned' })).status).toBe(200);
  });
});
