/**
 * The Slack front end end to end: signed requests as Slack sends them, to the real server
 * (real Bolt, real launcher, real local Kubernetes), with Slack's Web API stood in for by a
 * recording fake. Each test asserts what people see in Slack and what is in the cluster.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ANN_OWNER_ID, ANN_SLACK_CHANNEL, ANN_SLACK_READY_TS, ANN_SLACK_TS } from '../../src/k8s/labels.js';
import { CLAIMED } from '../../src/k8s/claims.js';
import type { SlackCall } from '../support/fake-slack.js';
import { waitFor } from '../support/cluster.js';
import { OWNER_HEADER } from '../../src/api/wire.js';
import { call } from '../api/helpers.js';
import { openUrl } from '../support/open-url.js';
import { ADMIN, ALICE, BOB, type BotHarness, buttonsOf, isRoot, NOTIFY_CHANNEL, readyUrl, shownText, startBotHarness, TEAM_CHANNEL } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('bot-flows');
});
afterAll(async () => {
  await h?.stop();
});

const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;
const rootUpdate = (root: SlackCall, pred: (c: SlackCall) => boolean) => (c: SlackCall) => c.args.ts === root.result.ts && c.args.channel === root.args.channel && pred(c);

/** `/tycho up` as `user`, then waits for the root message and the Ready reply. */
async function launchReady(name: string, user = ALICE, image = 'nginx:1.25') {
  const res = await h.slash(`up -n ${name} -c ${image} -p 80`, { user });
  expect(res.status).toBe(200);
  const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  const ready = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
  return { root, ready, url: readyUrl(ready) };
}

describe('/tycho up → thread → Tear down button', () => {
  test('root message, progress and Ready in the thread, the URL answers; the owner tears it down and the URL stops answering', async () => {
    // slow-start: the simulated node spends a few seconds in ContainerCreating, so there is progress to report.
    const res = await h.slash('up -n web-one -c example/slow-start:1 -p 80');
    // Acked with an empty 200: the root message, not the ack, is what the channel sees.
    expect(res.status).toBe(200);
    expect(res.text).toBe('');

    const root = await h.slack.waitFor('chat.postMessage', isRoot('web-one'), 'the root message');
    expect(root.args.channel).toBe(TEAM_CHANNEL);
    expect(shownText(root)).toContain(`<@${ALICE}>`);
    expect(shownText(root)).toContain('example/slow-start:1');

    const ready = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
    const url = readyUrl(ready);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    // Progress: the root message moves through the stages in place (chat.update, safe to
    // repeat); the thread gets no chatter before its Ready reply.
    const progress = h.slack.find('chat.update', rootUpdate(root, (c) => shownText(c).includes('Status: *launching*'))).map(shownText);
    expect(progress.some((t) => t.includes('pulling the image'))).toBe(true);
    expect(h.slack.find('chat.postMessage', inThread(root)).indexOf(ready)).toBe(0);

    // The Ready reply carries Status and a danger-styled Tear down with a confirm dialog, valued by name only.
    const buttons = buttonsOf(ready);
    expect(buttons.map((b) => b.action_id).sort()).toEqual(['tycho_status', 'tycho_teardown']);
    const tearDown = buttons.find((b) => b.action_id === 'tycho_teardown')!;
    expect(tearDown).toMatchObject({ style: 'danger', value: 'web-one' });
    expect(tearDown.confirm).toBeDefined();

    // The root message is updated in place to ready, with the URL and the buttons.
    const rootReady = await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes(url) && shownText(c).includes('ready')), 'the root update to ready');
    expect(buttonsOf(rootReady).map((b) => b.action_id)).toContain('tycho_teardown');

    // The cluster: the Deployment and Service exist, and the thread is recorded on the Deployment
    // (the Ready reply once Slack has answered with its ts, which comes after the root update;
    // until then it is only claimed).
    const ann = await waitFor(async () => {
      const a = (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'web-one' })).metadata?.annotations ?? {};
      // "claimed" while the reply is being posted (claim → post → record), then its ts.
      return a[ANN_SLACK_READY_TS] && a[ANN_SLACK_READY_TS] !== CLAIMED ? a : undefined;
    }, { what: 'the Ready reply recorded on the Deployment' });
    expect(ann[ANN_SLACK_CHANNEL]).toBe(TEAM_CHANNEL);
    expect(ann[ANN_SLACK_TS]).toBe(root.result.ts);
    expect(ann[ANN_SLACK_READY_TS]).toBe(ready.result.ts);
    expect(ann[ANN_OWNER_ID]).toBe(`slack:${ALICE}`);
    expect(await h.serviceExists('web-one')).toBe(true);

    // The URL answers with the app's page.
    expect(await openUrl(url)).toEqual({ status: 200, body: expect.stringContaining('web-one') });

    // The team channel heard about the launch and the ready, with a link to the thread.
    const notices = () => h.slack.find('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`web-one`'));
    await waitFor(() => notices().length >= 2, { what: 'launch and ready notices' });
    expect(notices().every((c) => String(c.args.text).includes(`archives/${TEAM_CHANNEL}/p${String(root.result.ts).replace('.', '')}`))).toBe(true);

    // The owner clicks Tear down on the Ready reply.
    const click = await h.click({ user: ALICE, message: ready, action: 'tycho_teardown', value: 'web-one' });
    expect(click.status).toBe(200);

    const tornDown = await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes('was torn down by')), 'the root update to torn down');
    expect(shownText(tornDown)).toContain(`<@${ALICE}>`);
    expect(buttonsOf(tornDown)).toEqual([]);
    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith(`Torn down by <@${ALICE}>`), 'the torn-down reply');
    const readyAfter = await h.slack.waitFor('chat.update', (c) => c.args.ts === ready.result.ts, 'the Ready reply losing its buttons');
    expect(buttonsOf(readyAfter)).toEqual([]);
    await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`web-one`') && String(c.args.text).includes('torn down'), 'the teardown notice');

    expect(await h.deploymentExists('web-one')).toBe(false);
    expect(await h.serviceExists('web-one')).toBe(false);
    await waitFor(async () => 'refused' in (await openUrl(url)), { what: `${url} to stop answering` });

    // A second click on the same button (double click, or later): a clear answer, nothing else.
    const again = await h.click({ user: ALICE, message: ready, action: 'tycho_teardown', value: 'web-one' });
    expect(again.status).toBe(200);
    const answer = await h.slack.waitFor('response_url', (c) => c.tag === again.tag, 'the answer to a click on a gone system');
    expect(answer.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(answer.args.text)).toContain('already gone');
  });
});

describe('authorization', () => {
  test('a non-owner click is refused and nothing is deleted; /tycho down by the non-owner too; an admin may tear it down and the reply goes to the thread', async () => {
    const { root, ready, url } = await launchReady('web-two');

    const click = await h.click({ user: BOB, message: ready, action: 'tycho_teardown', value: 'web-two' });
    expect(click.status).toBe(200);
    const refusal = await h.slack.waitFor('response_url', (c) => c.tag === click.tag, 'the refusal');
    expect(refusal.args.response_type).toBe('ephemeral');
    expect(String(refusal.args.text)).toContain(`Only <@${ALICE}> or an admin can tear down`);

    const down = await h.slash('down -n web-two', { user: BOB });
    expect(down.status).toBe(200);
    const refusal2 = await h.slack.waitFor('response_url', (c) => c.tag === down.tag, 'the refusal of /tycho down');
    expect(String(refusal2.args.text)).toContain(`Only <@${ALICE}> or an admin can tear down`);

    // Nothing deleted, nothing announced.
    expect(await h.deploymentExists('web-two')).toBe(true);
    expect(await h.serviceExists('web-two')).toBe(true);
    expect(await openUrl(url)).toMatchObject({ status: expect.any(Number) });
    expect(h.slack.find('chat.update', rootUpdate(root, (c) => /torn down|being torn down/.test(shownText(c))))).toEqual([]);

    // An admin's /tycho down acts like the button: the thread and the root message say so.
    const adminDown = await h.slash('down -n web-two', { user: ADMIN, channel: 'C0OTHER001' });
    const confirm = await h.slack.waitFor('response_url', (c) => c.tag === adminDown.tag, 'the confirmation to the admin');
    expect(String(confirm.args.text)).toContain('Tore down `web-two`');
    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith(`Torn down by <@${ADMIN}>`), 'the torn-down reply in the original thread');
    await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes(`was torn down by <@${ADMIN}>`)), 'the root update');
    const readyAfter = await h.slack.waitFor('chat.update', (c) => c.args.ts === ready.result.ts, 'the Ready reply losing its buttons');
    expect(buttonsOf(readyAfter)).toEqual([]);
    expect(await h.deploymentExists('web-two')).toBe(false);
  });
});

describe('double clicks', () => {
  test('two clicks at once tear down once; the second click is told it is already gone', async () => {
    const { root, ready } = await launchReady('web-double');
    const [a, b] = await Promise.all([
      h.click({ user: ALICE, message: ready, action: 'tycho_teardown', value: 'web-double' }),
      h.click({ user: ALICE, message: ready, action: 'tycho_teardown', value: 'web-double' }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const second = await h.slack.waitFor('response_url', (c) => c.tag === a.tag || c.tag === b.tag, 'the answer to the extra click');
    expect(String(second.args.text)).toContain('`web-double` is already gone');
    await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes('was torn down by')), 'the root update');
    // The teardown notice is the thread's last word: by then every reply has been posted.
    await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`web-double`') && String(c.args.text).includes('torn down'), 'the teardown notice');
    expect(h.slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Torn down by'))).toHaveLength(1);
    expect(h.slack.find('response_url', (c) => c.tag === a.tag || c.tag === b.tag)).toHaveLength(1);
    expect(await h.deploymentExists('web-double')).toBe(false);
  });
});

describe('no state in the process', () => {
  test('after a restart, the old button still finds the system, its owner and its thread', async () => {
    const { root, ready } = await launchReady('web-restart');
    await h.restart();

    // A non-owner is still refused: the owner comes from the Deployment, not from memory.
    const refused = await h.click({ user: BOB, message: ready, action: 'tycho_teardown', value: 'web-restart' });
    expect(String((await h.slack.waitFor('response_url', (c) => c.tag === refused.tag, 'the refusal')).args.text)).toContain(`Only <@${ALICE}>`);
    expect(await h.deploymentExists('web-restart')).toBe(true);

    const click = await h.click({ user: ALICE, message: ready, action: 'tycho_teardown', value: 'web-restart' });
    expect(click.status).toBe(200);
    await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes('was torn down by')), 'the root update after the restart');
    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Torn down by'), 'the reply in the original thread');
    expect(await h.deploymentExists('web-restart')).toBe(false);
  });
});

describe('request verification', () => {
  test('a bad signature or a stale timestamp gets 401 and creates nothing', async () => {
    const forged = await h.slash('up -n forged-one -c nginx -p 80', { send: { signature: `v0=${'0'.repeat(64)}` } });
    expect(forged.status).toBe(401);
    const wrongSecret = await h.slash('up -n forged-two -c nginx -p 80', { send: { secret: 'f'.repeat(32) } });
    expect(wrongSecret.status).toBe(401);
    // Correctly signed, but 10 minutes old: a replay.
    const stale = await h.slash('up -n stale-one -c nginx -p 80', { send: { timestamp: Math.floor(Date.now() / 1000) - 600 } });
    expect(stale.status).toBe(401);
    const staleClick = await h.click({ user: ALICE, message: { method: 'chat.postMessage', args: { channel: TEAM_CHANNEL, text: 'x' }, result: { ts: '1.000001' } }, action: 'tycho_teardown', value: 'web-one', send: { timestamp: Math.floor(Date.now() / 1000) - 600 } });
    expect(staleClick.status).toBe(401);

    // A good request after them is handled in full; by then the refused ones would have shown up.
    const list = await h.slash('list');
    expect(list.status).toBe(200);
    const answer = await h.slack.waitFor('response_url', (c) => c.tag === list.tag, 'the list');
    for (const name of ['forged-one', 'forged-two', 'stale-one']) {
      expect(await h.deploymentExists(name)).toBe(false);
      expect(shownText(answer)).not.toContain(name);
      expect(h.slack.calls.filter((c) => shownText(c).includes(name))).toEqual([]);
    }
    expect(h.slack.find('response_url', (c) => c.tag === forged.tag || c.tag === stale.tag || c.tag === staleClick.tag)).toEqual([]);
  });
});

describe('retries', () => {
  test('a repeated delivery (X-Slack-Retry-Num: 1) of the same command does not launch twice', async () => {
    const first = await h.slash('up -n web-three -c nginx -p 80', { tag: 'retry-cmd' });
    const retry = await h.slash('up -n web-three -c nginx -p 80', { tag: 'retry-cmd', send: { retryNum: 1 } });
    expect(first.status).toBe(200);
    expect(retry.status).toBe(200);
    const root = await h.slack.waitFor('chat.postMessage', isRoot('web-three'), 'the root message');
    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply');

    // One root message, no "name in use" failure from a second launch, one Deployment.
    expect(h.slack.find('chat.postMessage', isRoot('web-three'))).toHaveLength(1);
    expect(h.slack.calls.filter((c) => shownText(c).includes('already in use'))).toEqual([]);
    expect(h.slack.find('response_url', (c) => c.tag === 'retry-cmd')).toEqual([]);
    const deps = await h.apps.listNamespacedDeployment({ namespace: h.namespace, fieldSelector: 'metadata.name=web-three' });
    expect(deps.items).toHaveLength(1);

    await h.slash('down -n web-three', { tag: 'retry-cleanup' });
    await h.slack.waitFor('response_url', (c) => c.tag === 'retry-cleanup', 'the teardown');
  });
});

describe('a post Slack took, but answered with a server error', () => {
  test('the root message and the Ready reply appear once each (looked for before being sent again), and the thread is recorded', async () => {
    const rootOf = () => h.slack.find('chat.postMessage', isRoot('web-answer'))[0];
    h.slack.interject('chat.postMessage', { kind: 'server-error', status: 503, done: true }, { times: 1, when: (a) => !a.thread_ts && String(a.text).includes('is launching `web-answer`') });
    h.slack.interject('chat.postMessage', { kind: 'server-error', status: 503, done: true }, { times: 1, when: (a) => !!a.thread_ts && a.thread_ts === rootOf()?.result.ts });
    const { root, ready } = await launchReady('web-answer');
    const ann = await waitFor(async () => {
      const a = (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'web-answer' })).metadata?.annotations ?? {};
      return a[ANN_SLACK_READY_TS] && a[ANN_SLACK_READY_TS] !== CLAIMED ? a : undefined;
    }, { what: 'the Ready reply recorded on the Deployment' });
    expect(ann[ANN_SLACK_TS]).toBe(root.result.ts);
    expect(ann[ANN_SLACK_READY_TS]).toBe(ready.result.ts);
    expect(h.slack.find('chat.postMessage', isRoot('web-answer'))).toHaveLength(1);
    expect(h.slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'))).toHaveLength(1);
    expect(h.slack.find('conversations.history', (c) => c.args.channel === TEAM_CHANNEL)).not.toHaveLength(0);
    expect(h.slack.find('conversations.replies', (c) => c.args.ts === root.result.ts)).not.toHaveLength(0);

    await h.slash('down -n web-answer', { tag: 'answer-cleanup' });
    await h.slack.waitFor('response_url', (c) => c.tag === 'answer-cleanup', 'the teardown');
  });
});

describe('bad input', () => {
  test.each([
    ['up -n Bad_Name -c nginx -p 80', 'Bad_Name', 'Usage: /tycho up'],
    ['up -n no-image -p 80', 'no-image', 'Usage: /tycho up'],
    ['up -n bad-port -c nginx -p 99999', 'bad-port', 'Usage: /tycho up'],
    ['up -n bad-flag -c nginx -p 80 --bogus 1', 'bad-flag', 'Usage: /tycho up'],
    ['launch -n nope -c nginx -p 80', 'nope', 'Usage: /tycho up|down|extend|status|list|logs|restart|help'],
  ])('"/tycho %s" gets an ephemeral reason and usage line, and creates nothing', async (text, name, usage) => {
    const res = await h.slash(text);
    expect(res.status).toBe(200);
    // Answered in the ack itself: no cluster needed to say what is wrong.
    expect(res.json?.response_type).toBe('ephemeral');
    expect(String(res.json?.text)).toContain(usage);
    expect(String(res.json?.text).split('\n')[0]!.length).toBeGreaterThan(0);
    expect(JSON.stringify(res.json?.blocks)).toContain(usage);

    const list = await h.slash('list');
    await h.slack.waitFor('response_url', (c) => c.tag === list.tag, 'the list');
    expect(await h.deploymentExists(name.toLowerCase())).toBe(false);
    expect(h.slack.find('chat.postMessage', (c) => shownText(c).includes(`\`${name}\``))).toEqual([]);
  });
});

describe('failures', () => {
  test('an image pull failure is reported in the thread in words, and the root message says failed', async () => {
    const res = await h.slash('up -n broken-pull -c registry.example/pull-error:1 -p 80');
    expect(res.status).toBe(200);
    const root = await h.slack.waitFor('chat.postMessage', isRoot('broken-pull'), 'the root message');
    const failure = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes('could not be pulled'), 'the failure reply');
    expect(String(failure.args.text)).toContain('registry.example/pull-error:1');
    // A sentence, not a stack trace or an API body.
    expect(shownText(failure)).not.toMatch(/at .*\.ts:\d+|ApiException|"kind":"Status"/);

    const failed = await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes('failed')), 'the root update to failed');
    expect(shownText(failed)).toContain('the image could not be pulled');
    // The failed system stays (TYCHO_ON_FAILURE=keep), so the root offers to tear it down.
    expect(buttonsOf(failed).map((b) => b.action_id)).toContain('tycho_teardown');
    await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`broken-pull`') && String(c.args.text).includes('failed'), 'the failure notice');

    const click = await h.click({ user: ALICE, message: failed, action: 'tycho_teardown', value: 'broken-pull' });
    expect(click.status).toBe(200);
    await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes('was torn down by')), 'the teardown');
    expect(await h.deploymentExists('broken-pull')).toBe(false);
  });

  test('a name already in use is explained in the thread, without offering to tear down the other system', async () => {
    await launchReady('taken-name', ALICE);
    await h.slash('up -n taken-name -c nginx -p 80', { user: BOB });
    const roots = await waitFor(() => {
      const r = h.slack.find('chat.postMessage', isRoot('taken-name'));
      return r.length === 2 ? r : undefined;
    }, { what: 'the second root message' });
    const second = roots[1]!;
    expect(shownText(second)).toContain(`<@${BOB}>`);
    const failure = await h.slack.waitFor('chat.postMessage', (c) => inThread(second)(c) && String(c.args.text).includes('already in use'), 'the name-in-use reply');
    expect(String(failure.args.text)).toContain(`<@${ALICE}>`);
    const failed = await h.slack.waitFor('chat.update', rootUpdate(second, (c) => shownText(c).includes('failed')), 'the root update');
    expect(buttonsOf(failed)).toEqual([]);
    // Alice's system is untouched.
    const dep = await h.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'taken-name' });
    expect(dep.metadata?.annotations?.[ANN_OWNER_ID]).toBe(`slack:${ALICE}`);
    await h.slash('down -n taken-name', { tag: 'taken-cleanup' });
    await h.slack.waitFor('response_url', (c) => c.tag === 'taken-cleanup', 'the teardown');
  });

  test('in a channel the bot is not in, it says so ephemerally and launches nothing', async () => {
    h.slack.refuseChannels.add('C0PRIVATE1');
    const res = await h.slash('up -n not-invited -c nginx -p 80', { channel: 'C0PRIVATE1' });
    expect(res.status).toBe(200);
    const answer = await h.slack.waitFor('response_url', (c) => c.tag === res.tag, 'the explanation');
    expect(answer.args.response_type).toBe('ephemeral');
    expect(String(answer.args.text)).toContain('did not launch `not-invited`');
    expect(await h.deploymentExists('not-invited')).toBe(false);
  });
});

describe('status, list, help', () => {
  test('answer ephemerally with Block Kit: name, owner, URL, age, state', async () => {
    const { ready, url } = await launchReady('web-status');

    const status = await h.slash('status -n web-status');
    const s = await h.slack.waitFor('response_url', (c) => c.tag === status.tag, 'the status answer');
    expect(s.args.response_type).toBe('ephemeral');
    const fields = JSON.stringify(s.args.blocks);
    for (const part of ['*Name*', '`web-status`', '*Owner*', `<@${ALICE}>`, '*URL*', url, '*Age*', '*State*', 'ready']) expect(fields).toContain(part);

    const list = await h.slash('list');
    const l = await h.slack.waitFor('response_url', (c) => c.tag === list.tag, 'the list answer');
    expect(l.args.response_type).toBe('ephemeral');
    expect(JSON.stringify(l.args.blocks)).toContain('`web-status`');

    const missing = await h.slash('status -n no-such-app');
    const m = await h.slack.waitFor('response_url', (c) => c.tag === missing.tag, 'the not-found answer');
    expect(String(m.args.text)).toContain('There is no system named "no-such-app"');

    // The Status button: the same, for the clicker only.
    const click = await h.click({ user: BOB, message: ready, action: 'tycho_status', value: 'web-status' });
    const c = await h.slack.waitFor('response_url', (x) => x.tag === click.tag, 'the Status button answer');
    expect(c.args).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(JSON.stringify(c.args.blocks)).toContain(url);

    const help = await h.slash('help');
    expect(help.json?.response_type).toBe('ephemeral');
    expect(String(help.json?.text)).toContain('/tycho up -n NAME -c IMAGE -p PORT');
    expect(help.json?.blocks).toBeDefined();

    await h.slash('down -n web-status', { tag: 'status-cleanup' });
    await h.slack.waitFor('response_url', (x) => x.tag === 'status-cleanup', 'the teardown');
  });
});

describe('a teardown while the launch is still starting', () => {
  test('the root message ends torn down, not failed; the thread says who tore it down; no failure notice', async () => {
    // never-ready: the simulated node runs the container but it never becomes Ready, so the launch waits.
    await h.slash('up -n never-up -c example.org/never-ready -p 80');
    const root = await h.slack.waitFor('chat.postMessage', isRoot('never-up'), 'the root message');
    await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes('started, not ready yet')), 'the root showing it started');

    const down = await h.slash('down -n never-up');
    const confirm = await h.slack.waitFor('response_url', (c) => c.tag === down.tag, 'the confirmation of /tycho down');
    expect(String(confirm.args.text)).toContain('Tore down `never-up`');

    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith(`Torn down by <@${ALICE}>`), 'the torn-down reply');
    await h.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`never-up`') && String(c.args.text).includes('torn down'), 'the teardown notice');

    const updates = h.slack.find('chat.update', rootUpdate(root, () => true));
    expect(updates.filter((c) => shownText(c).includes('failed'))).toEqual([]);
    const final = updates[updates.length - 1]!;
    expect(shownText(final)).toContain(`was torn down by <@${ALICE}>`);
    expect(buttonsOf(final)).toEqual([]);
    expect(h.slack.find('chat.postMessage', (c) => inThread(root)(c) && shownText(c).includes(':x:'))).toEqual([]);
    expect(h.slack.find('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('`never-up`') && String(c.args.text).includes('failed'))).toEqual([]);
    expect(await h.deploymentExists('never-up')).toBe(false);
  });
});

describe('a teardown from another front end while the launch is still starting', () => {
  test('the root message does not stay "launching"', async () => {
    await h.slash('up -n never-rest -c example.org/never-ready -p 80');
    const root = await h.slack.waitFor('chat.postMessage', isRoot('never-rest'), 'the root message');
    await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes('started, not ready yet')), 'the root showing it started');

    expect((await call(h.tycho.url, '/system/delete', { name: 'never-rest' }, { headers: { [OWNER_HEADER]: 'carol' } })).status).toBe(200);

    // The thread says who, as the REST API recorded it.
    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Torn down by carol'), 'the torn-down reply');
    const final = await h.slack.waitFor('chat.update', rootUpdate(root, (c) => shownText(c).includes('was torn down by carol')), 'the root marked torn down');
    expect(buttonsOf(final)).toEqual([]);
    expect(h.slack.find('chat.update', rootUpdate(root, (c) => shownText(c).includes('failed')))).toEqual([]);
    expect(await h.deploymentExists('never-rest')).toBe(false);
  });
});

describe('the other front ends', () => {
  test('a system started over REST shows in /tycho list with its URL and owner; one started with /tycho up shows in POST /system/status', async () => {
    const started = await call(h.tycho.url, '/system/start', { name: 'from-rest', containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] }, { headers: { [OWNER_HEADER]: 'carol' } });
    expect(started.status).toBe(201);
    const restUrl = String(started.json.result.url);
    expect(restUrl).toMatch(/^http:\/\//);

    const list = await h.slash('list');
    const l = await h.slack.waitFor('response_url', (c) => c.tag === list.tag, 'the list answer');
    expect(l.args.response_type).toBe('ephemeral');
    const section = (l.args.blocks as { fields?: { text: string }[] }[]).find((b) => JSON.stringify(b).includes('`from-rest`'));
    const fields = (section?.fields ?? []).map((f) => f.text);
    expect(fields).toContain(`*URL*\n<${restUrl}>`);
    expect(fields).toContain('*Owner*\ncarol');

    const { url } = await launchReady('from-slack');
    const status = await call(h.tycho.url, '/system/status', {});
    expect(status.status).toBe(200);
    const item = (status.json.result as { name: string; url: string; owner: string; origin: string }[]).find((s) => s.name === 'from-slack');
    expect(item).toMatchObject({ url, owner: `<@${ALICE}>`, origin: 'slack' });

    expect((await call(h.tycho.url, '/system/delete', { name: 'from-rest' })).status).toBe(200);
    const down = await h.slash('down -n from-slack', { tag: 'cross-cleanup' });
    await h.slack.waitFor('response_url', (c) => c.tag === down.tag, 'the teardown');
  });
});

describe('/tycho logs', () => {
  const SECRET = 'xoxb-1234567890-abcdefghijkl';
  test('short: a code block in the system\'s thread, secrets redacted; long: uploaded to the thread as a file; --previous, refusals and bad input get one sentence', async () => {
    const res = await h.slash(`up -n logs-web -c nginx:1.25 -p 80 -e "SIMULATED_LOG=connecting with token=${SECRET} to db password=hunter2"`);
    expect(res.status).toBe(200);
    const root = await h.slack.waitFor('chat.postMessage', isRoot('logs-web'), 'the root message of logs-web');
    await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply of logs-web');

    // Short: in the thread, as a code block, with the container's own lines and no secret.
    const asked = await h.slash('logs -n logs-web');
    const posted = await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes("'s log"), 'the log in the thread');
    const shown = shownText(posted);
    expect(shown).toContain('```');
    expect(shown).toContain('Listening on 0.0.0.0:80');
    expect(shown).toContain('token=[REDACTED]');
    expect(shown).toContain('password=[REDACTED]');
    expect(JSON.stringify(h.slack.calls)).not.toContain(SECRET);
    expect(JSON.stringify(h.slack.calls)).not.toContain('hunter2');
    expect(String((await h.slack.waitFor('response_url', (c) => c.tag === asked.tag, 'the note to the asker')).args.text)).toContain('in its thread');

    // Asked from another channel: answered there, to the asker only.
    const elsewhere = await h.slash('logs -n logs-web --tail 2', { channel: 'C0ELSEWHERE' });
    const there = await h.slack.waitFor('response_url', (c) => c.tag === elsewhere.tag, 'the log answered where asked');
    expect(there.args.response_type).toBe('ephemeral');
    // shownText is JSON: the newline between the two lines shows as \n.
    expect(shownText(there)).toContain('Ready to serve requests\\nGET / 200');
    expect(shownText(there)).not.toContain('Listening');

    // --previous of a container that never restarted: one sentence.
    const previous = await h.slash('logs -n logs-web --previous');
    const p = await h.slack.waitFor('response_url', (c) => c.tag === previous.tag, 'the --previous answer');
    expect(String(p.args.text)).toContain('"logs-web" has not restarted, so there is no previous log');

    // Someone else's system: refused, nothing posted.
    const before = h.slack.find('chat.postMessage', inThread(root)).length;
    const bob = await h.slash('logs -n logs-web', { user: BOB });
    const refused = await h.slack.waitFor('response_url', (c) => c.tag === bob.tag, 'the refusal');
    expect(String(refused.args.text)).toContain('or an admin can read the logs of "logs-web"');
    expect(h.slack.find('chat.postMessage', inThread(root))).toHaveLength(before);

    // Bad input, answered in the ack.
    const bad = await h.slash('logs -n logs-web --tail 0');
    expect(String(bad.json?.text)).toContain('--tail takes a whole number of lines from 1 to 10000, not "0".');
    const missing = await h.slash('logs -n no-such-app');
    expect(String((await h.slack.waitFor('response_url', (c) => c.tag === missing.tag, 'the not-found answer')).args.text)).toContain('There is no system named "no-such-app"');

    // Long: 300 lines are too many for a message; uploaded to the thread as a file.
    const long = await h.slash('up -n logs-long -c nginx:1.25 -p 80 -e SIMULATED_LOG_LINES=300');
    expect(long.status).toBe(200);
    const longRoot = await h.slack.waitFor('chat.postMessage', isRoot('logs-long'), 'the root message of logs-long');
    await h.slack.waitFor('chat.postMessage', (c) => inThread(longRoot)(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply of logs-long');
    await h.slash('logs -n logs-long --tail 300');
    const complete = await h.slack.waitFor('files.completeUploadExternal', (c) => c.args.channel_id === TEAM_CHANNEL && c.args.thread_ts === longRoot.result.ts, 'the file shared in the thread');
    const fileId = String(complete.args.files[0].id);
    const got = h.slack.find('files.getUploadURLExternal', (c) => c.result.file_id === fileId)[0]!;
    expect(got.args.filename).toBe('logs-long.log');
    const upload = h.slack.find('file.upload', (c) => c.args.file_id === fileId)[0]!;
    const lines = String(upload.args.content).trimEnd().split('\n');
    expect(lines).toHaveLength(300);
    expect(lines[lines.length - 1]).toBe('GET / 200');
    expect(upload.args.content).toContain('GET /items/300 200 (simulated request 300 of 300)');
    expect(Number(got.args.length)).toBe(Buffer.byteLength(String(upload.args.content)));
    expect(h.slack.find('chat.postMessage', (c) => inThread(longRoot)(c) && String(c.args.text).includes("'s log"))).toHaveLength(0);

    for (const name of ['logs-web', 'logs-long']) {
      await h.slash(`down -n ${name}`, { tag: `${name}-cleanup` });
      await h.slack.waitFor('response_url', (x) => x.tag === `${name}-cleanup`, `the teardown of ${name}`);
    }
  });
});

// Last in the file: every flow above has run, so the fake has seen every Web API method the bot uses.
describe('manifest.yml', () => {
  /** The bot scopes each Web API method needs (from Slack's method pages), space-separated; "" = none. */
  const SCOPE_OF: Record<string, string> = {
    'auth.test': '',
    'chat.postMessage': 'chat:write',
    'chat.update': 'chat:write',
    'chat.getPermalink': '',
    // Public channels, private ones: Slack checks the scope of the channel's kind.
    'conversations.replies': 'channels:history groups:history',
    'conversations.history': 'channels:history groups:history',
    // `/tycho logs` of a long log: the upload flow (the POST of the bytes to the URL needs none).
    'files.getUploadURLExternal': 'files:write',
    'files.completeUploadExternal': 'files:write',
  };

  test('asks for exactly the bot scopes the app uses, with Socket Mode and interactivity on', () => {
    const manifest = readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8');
    const bot = /^ {4}bot:\n((?: {6}- .+\n)+)/m.exec(manifest)?.[1] ?? '';
    const declared = bot.split('\n').map((l) => l.replace(/^\s*-\s*/, '').trim()).filter(Boolean).sort();

    const methods = [...new Set(h.slack.calls.map((c) => c.method).filter((m) => m !== 'response_url' && m !== 'file.upload'))];
    for (const m of methods) expect(Object.keys(SCOPE_OF)).toContain(m);
    const used = [...new Set(['commands', ...methods.flatMap((m) => SCOPE_OF[m]!.split(' ')).filter(Boolean)])].sort();
    expect(declared).toEqual(used);

    expect(manifest).toMatch(/^ {2}socket_mode_enabled: true$/m);
    expect(manifest).toMatch(/^ {2}interactivity:\n {4}is_enabled: true$/m);
    expect(manifest).toMatch(/^ {4}- command: \/tycho\n {6}description: .+\n {6}usage_hint: .+$/m);
  });
});
