/**
 * The App Home's Home tab: each person sees their own systems (state, URL, age, expiry) with
 * Tear down, Extend and Logs buttons. The buttons run the same commands as /tycho, so the same
 * rules refuse them; a click there has no channel to answer in, so the answer is a direct
 * message. The tab is published when it is opened and again when one of its systems changes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dmOf, type SlackCall } from '../support/fake-slack.js';
import { ALICE, BOB, type BotHarness, isRoot, shownText, startBotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('bot-home');
});
afterAll(async () => {
  await h?.stop();
});

async function launchReady(name: string, user: string): Promise<SlackCall> {
  await h.slash(`up -n ${name} -c nginx:1.25 -p 80`, { user });
  const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  return h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
}

/** The published Home view's blocks, as one string. */
const homeText = (c: SlackCall) => JSON.stringify(c.args.view);
const shows = (c: SlackCall, name: string) => homeText(c).includes(`\`${name}\``);
/** A Home published for `user` after `after` publishes, that `test` accepts. */
function nextHome(user: string, test: (c: SlackCall) => boolean, what: string, after = h.slack.homesOf(user).length): Promise<SlackCall> {
  return h.slack.waitFor('views.publish', (c) => c.args.user_id === user && c.result.ok === true && h.slack.homesOf(user).indexOf(c) >= after && test(c), what);
}
const buttonsIn = (c: SlackCall) =>
  ((c.args.view?.blocks ?? []) as { type: string; elements?: { action_id: string; value?: string }[] }[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
/** A direct message to `user` that `test` accepts. */
const dmTo = (user: string, test: (text: string) => boolean, what: string) =>
  h.slack.waitFor('chat.postMessage', (c) => (c.args.channel === user || c.args.channel === dmOf(user)) && test(shownText(c)), what);

describe('the App Home', () => {
  beforeAll(async () => {
    await Promise.all([launchReady('home-a1', ALICE), launchReady('home-a2', ALICE), launchReady('home-a3', ALICE), launchReady('home-b1', BOB)]);
  });

  test("opening Home shows the user's own systems, with state, URL, age, expiry and the three buttons, and not another user's", async () => {
    const after = h.slack.homesOf(ALICE).length;
    expect((await h.openHome(ALICE)).status).toBe(200);
    const home = await nextHome(ALICE, (c) => shows(c, 'home-a1'), "Alice's Home", after);
    expect(home.args.view.type).toBe('home');
    for (const name of ['home-a1', 'home-a2', 'home-a3']) expect(shows(home, name)).toBe(true);
    expect(shows(home, 'home-b1')).toBe(false);
    const text = homeText(home);
    expect(text).toContain('ready');
    expect(text).toMatch(/http:\/\/[^"]+/);
    expect(text).toContain('Age');
    expect(text).toContain('Expires');
    expect(text).toContain('<!date^');
    const buttons = buttonsIn(home);
    for (const name of ['home-a1', 'home-a2', 'home-a3']) {
      expect(buttons.filter((b) => b.value?.split('@')[0] === name).map((b) => b.action_id).sort()).toEqual(['tycho_extend', 'tycho_logs', 'tycho_teardown']);
    }
    expect(buttons.some((b) => b.value === 'home-b1')).toBe(false);
  });

  test('a system torn down elsewhere (/tycho down) refreshes the Home of its owner, who had opened it', async () => {
    const after = h.slack.homesOf(ALICE).length;
    await h.slash('down -n home-a1', { user: ALICE });
    const home = await nextHome(ALICE, (c) => !shows(c, 'home-a1'), 'Home without home-a1', after);
    expect(shows(home, 'home-a2')).toBe(true);
    expect(shows(home, 'home-a3')).toBe(true);
  });

  test("a non-owner's Tear down and Extend clicked in Home are refused by the commands' rules, told in a direct message", async () => {
    expect((await h.clickHome({ user: BOB, action: 'tycho_teardown', value: 'home-a2' })).status).toBe(200);
    await dmTo(BOB, (t) => t.includes(`Only <@${ALICE}> or an admin can tear down \\"home-a2\\"`), "the refusal of Bob's Tear down");
    expect((await h.clickHome({ user: BOB, action: 'tycho_extend', value: 'home-a2' })).status).toBe(200);
    await dmTo(BOB, (t) => t.includes(`Only <@${ALICE}> or an admin can extend \\"home-a2\\"`), "the refusal of Bob's Extend");
    expect(await h.deploymentExists('home-a2')).toBe(true);
    // Bob's own Home has his system only.
    const after = h.slack.homesOf(BOB).length;
    await h.openHome(BOB);
    const home = await nextHome(BOB, () => true, "Bob's Home", after);
    expect(shows(home, 'home-b1')).toBe(true);
    expect(shows(home, 'home-a2')).toBe(false);
  });

  test("the owner's Extend and Tear down in Home work, are told in a direct message, and the Home is refreshed", async () => {
    await h.clickHome({ user: ALICE, action: 'tycho_extend', value: 'home-a3' });
    await dmTo(ALICE, (t) => t.includes('Extended `home-a3`'), 'the answer to Extend');
    const after = h.slack.homesOf(ALICE).length;
    await h.clickHome({ user: ALICE, action: 'tycho_teardown', value: 'home-a2' });
    await dmTo(ALICE, (t) => t.includes('Tore down `home-a2`'), 'the answer to Tear down');
    expect(await h.deploymentExists('home-a2')).toBe(false);
    const home = await nextHome(ALICE, (c) => !shows(c, 'home-a2'), 'Home without home-a2', after);
    expect(shows(home, 'home-a3')).toBe(true);
  });
});

test('manifest.yml turns the Home tab on, subscribes to app_home_opened, and lets Tycho write direct messages', () => {
  const manifest = readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8');
  expect(manifest).toMatch(/^ {2}app_home:\n {4}home_tab_enabled: true\n {4}messages_tab_enabled: true\n/m);
  expect(manifest).toMatch(/^ {2}event_subscriptions:\n {4}bot_events:\n {6}- app_home_opened$/m);
});
