/**
 * Requests Slack signed correctly that are still not for this Tycho: from another workspace,
 * for another app, or with a timestamp a day ahead. The first two are acked with an empty 200
 * and nothing else happens (no Slack call, nothing in the cluster); the last gets 401.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { APP_ID, TEAM_ID, type SlackCall } from '../support/fake-slack.js';
import { ALICE, shownText, startBotHarness, type BotHarness, type RequestSource } from './harness.js';

const FOREIGN_TEAM: RequestSource = { team_id: 'T0OTHERWS' };
const FOREIGN_APP: RequestSource = { api_app_id: 'A0OTHERAPP' };

/** Nothing in Slack and nothing in the cluster mentions the name, once a later request has been answered in full. */
async function expectNoTrace(h: BotHarness, names: string[], tags: string[]): Promise<void> {
  const fence = await h.slash('list');
  await h.slack.waitFor('response_url', (c) => c.tag === fence.tag, 'the list that follows');
  for (const name of names) {
    expect([name, await h.deploymentExists(name)]).toEqual([name, false]);
    expect(h.slack.calls.filter((c) => c.tag !== fence.tag && shownText(c).includes(name))).toEqual([]);
  }
  expect(h.slack.find('response_url', (c) => tags.includes(c.tag ?? ''))).toEqual([]);
}

describe('with the workspace and app learned from auth.test', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness('bot-foreign');
  });
  afterAll(async () => {
    await h?.stop();
  });

  test.each([
    ['another workspace (team_id)', FOREIGN_TEAM],
    ['another app (api_app_id)', FOREIGN_APP],
  ])('a signed command from %s is acked empty, and nothing is done', async (_what, from) => {
    // help is answered in the ack itself: an empty ack shows that no listener ran.
    const help = await h.slash('help', { from });
    expect([help.status, help.text]).toEqual([200, '']);
    const name = `foreign-${from.team_id ? 'team' : 'app'}`;
    const up = await h.slash(`up -n ${name} -c nginx -p 80`, { from });
    expect([up.status, up.text]).toEqual([200, '']);
    await expectNoTrace(h, [name], [help.tag, up.tag]);
  });

  test('a Tear down click from another workspace leaves the system running', async () => {
    const launched = await h.slash('up -n mine-one -c nginx -p 80');
    expect(launched.status).toBe(200);
    const root = await h.slack.waitFor('chat.postMessage', (c) => !c.args.thread_ts && String(c.args.text).includes('is launching `mine-one`'), 'the root message');
    await h.slack.waitFor('chat.postMessage', (c: SlackCall) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
    const click = await h.click({ user: ALICE, message: root, action: 'tycho_teardown', value: 'mine-one', from: FOREIGN_TEAM });
    expect([click.status, click.text]).toEqual([200, '']);
    // Teardowns of one system run one after the other: had the click started one, this
    // `down` would find the system already gone or going, instead of tearing it down itself.
    const down = await h.slash('down -n mine-one');
    const answer = await h.slack.waitFor('response_url', (c) => c.tag === down.tag, 'the owner\'s own teardown');
    expect(String(answer.args.text)).toContain('Tore down `mine-one`');
    expect(h.slack.find('response_url', (c) => c.tag === click.tag)).toEqual([]);
  });

  test('the installed workspace and app are answered as before', async () => {
    const help = await h.slash('help', { from: { team_id: TEAM_ID, api_app_id: APP_ID } });
    expect(help.status).toBe(200);
    expect(help.text).toContain('up -n NAME');
  });

  test('a signed request with a timestamp a day in the future: 401, and nothing is done', async () => {
    const ahead = Math.floor(Date.now() / 1000) + 24 * 60 * 60;
    const up = await h.slash('up -n future-one -c nginx -p 80', { send: { timestamp: ahead } });
    expect(up.status).toBe(401);
    const help = await h.slash('help', { send: { timestamp: ahead } });
    expect([help.status, help.text]).toEqual([401, '']);
    await expectNoTrace(h, ['future-one'], [up.tag, help.tag]);
  });
});

describe('when auth.test does not name the app', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness('bot-foreign-app', { installation: { team_id: TEAM_ID }, env: { SLACK_APP_ID: APP_ID } });
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('SLACK_APP_ID is the app checked against', async () => {
    const foreign = await h.slash('help', { from: FOREIGN_APP });
    expect([foreign.status, foreign.text]).toEqual([200, '']);
    const own = await h.slash('help');
    expect(own.text).toContain('up -n NAME');
  });
});
