/**
 * A Tear down click while the reconciler is still finishing its messages. Slack's answer to
 * the Ready reply is held back (HeldSlack), so the click lands after Slack has shown the Ready
 * reply and before Tycho has heard back (and recorded it). The root message must end torn down,
 * with no buttons on a system that is gone, and so must the Ready reply.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { HeldSlack } from './held-slack.js';
import { ALICE, type BotHarness, buttonsOf, isRoot, NOTIFY_CHANNEL, shownText, startBotHarness } from './harness.js';

let gate: HeldSlack;
let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('bot-race', {
    slackApiUrl: async (slack) => {
      gate = await HeldSlack.start(slack.origin);
      return gate.apiUrl;
    },
  });
});
afterAll(async () => {
  await gate?.stop();
  await h?.stop();
});

const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;
const updatesOf = (m: SlackCall) => h.slack.find('chat.update', (c) => c.args.ts === m.result.ts && c.args.channel === m.args.channel);

describe('Tear down clicked on the Ready reply before Slack has answered its post', () => {
  test('the root message ends torn down without buttons, and so does the Ready reply', async () => {
    gate.holdWhen = (method, args) => method === 'chat.postMessage' && (args.get('text') ?? '').startsWith('Ready:');
    await h.slash('up -n racy-ready -c nginx -p 80', { user: ALICE });
    const root = await h.slack.waitFor('chat.postMessage', isRoot('racy-ready'), 'the root message');
    // Slack has the Ready reply (so people see it and its buttons); Tycho still waits for its ts.
    const ready = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
    await waitFor(() => gate.held === 1, { what: "Slack's answer to the Ready reply being held" });

    await h.click({ user: ALICE, message: ready, action: 'tycho_teardown', value: 'racy-ready' });
    await waitFor(async () => !(await h.deploymentExists('racy-ready')), { what: 'racy-ready to be gone' });

    // Now Tycho hears back about its Ready reply; the thread's closing words come after it.
    gate.release();
    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith(`Torn down by <@${ALICE}>`), 'the torn-down reply');
    await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`racy-ready`') && String(c.args.text).includes('torn down'), 'the end of the thread');

    const rootFinal = updatesOf(root).at(-1)!;
    expect(shownText(rootFinal)).toContain(`was torn down by <@${ALICE}>`);
    expect(buttonsOf(rootFinal)).toEqual([]);
    const readyFinal = updatesOf(ready).at(-1)!;
    expect(buttonsOf(readyFinal)).toEqual([]);
  });
});

describe('Tear down clicked on the root message before the Ready reply is recorded', () => {
  test('the Ready reply, posted after the teardown began, ends without buttons too', async () => {
    gate.holdWhen = (method, args) => method === 'chat.postMessage' && (args.get('text') ?? '').startsWith('Ready:');
    await h.slash('up -n racy-root -c nginx -p 80', { user: ALICE });
    const root = await h.slack.waitFor('chat.postMessage', isRoot('racy-root'), 'the root message');
    const rootReady = await h.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('is ready'), 'the root update to ready');
    const ready = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
    await waitFor(() => gate.held === 1, { what: "Slack's answer to the Ready reply being held" });

    // The root's buttons: the teardown cannot know about a Ready reply not yet recorded on the Deployment.
    await h.click({ user: ALICE, message: rootReady, action: 'tycho_teardown', value: 'racy-root' });
    await waitFor(async () => !(await h.deploymentExists('racy-root')), { what: 'racy-root to be gone' });

    gate.release();
    await h.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('was torn down by'), 'the root update to torn down');
    await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`racy-root`') && String(c.args.text).includes('torn down'), 'the end of the thread');

    expect(buttonsOf(updatesOf(root).at(-1)!)).toEqual([]);
    const readyFinal = updatesOf(ready).at(-1);
    expect(readyFinal && shownText(readyFinal)).toContain('Torn down since');
    expect(buttonsOf(readyFinal!)).toEqual([]);
  });
});
