/**
 * Expiry end to end (real server, real Bolt, the local Kubernetes, the fake Slack): a system
 * launched with --ttl is warned in its thread TYCHO_EXPIRY_WARNING before its expiry, with its
 * owner tagged and an Extend button, and is removed once it expires; its thread and the team
 * channel say it expired. Extend moves the expiry (button and command), only for the owner or an
 * admin. A restart in between does not lose the expiry; two replicas remove it once.
 *
 * The warning lead is 8 s here and the TTLs 20 s or less, so each test takes about half a minute.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ANN_DELETED_BY, ANN_EXPIRES, ANN_SLACK_EXPIRY_WARNING_TS, EXPIRED_BY } from '../../src/k8s/labels.js';
import { patchDeploymentAnnotations } from '../../src/k8s/deployment-annotations.js';
import type { SlackCall } from '../support/fake-slack.js';
import { waitFor } from '../support/cluster.js';
import { ADMIN, ALICE, BOB, buttonsOf, NOTIFY_CHANNEL, shownText, startBotHarness, TEAM_CHANNEL, type BotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('expiry', { env: { TYCHO_EXPIRY_WARNING: '8s', TYCHO_DEFAULT_TTL: '2h', TYCHO_MAX_TTL: '1d' } });
});
afterAll(async () => {
  await h?.stop();
});

const isRoot = (name: string) => (c: SlackCall) => c.args.channel !== NOTIFY_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`is launching \`${name}\``);
const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;
const isWarning = (root: SlackCall) => (c: SlackCall) => inThread(root)(c) && String(c.args.text).includes(' expires ');
const isExpiredReply = (root: SlackCall) => (c: SlackCall) => inThread(root)(c) && String(c.args.text).startsWith('Expired and removed');
const isGoneReply = (root: SlackCall) => (c: SlackCall) => inThread(root)(c) && /^(Expired and removed|Torn down by)/.test(String(c.args.text));
const expiredNotices = (name: string) => h.slack.find('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes(`\`${name}\``) && String(c.args.text).includes('expired'));

async function annotationsOf(name: string): Promise<Record<string, string>> {
  return (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name })).metadata?.annotations ?? {};
}

async function expiresOf(name: string): Promise<string | undefined> {
  return (await annotationsOf(name))[ANN_EXPIRES];
}

/** `/tycho up … --ttl TTL` as Alice; waits for the root message and the Ready reply. */
async function launch(name: string, ttl: string) {
  const res = await h.slash(`up -n ${name} -c nginx:1.25 -p 80 --ttl ${ttl}`);
  expect(res.status).toBe(200);
  const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
  return root;
}

/** Tycho's audit Events on a system's Deployment (they outlive it), by reason, in order. */
async function auditEvents(name: string): Promise<string[]> {
  const list = await h.core.listNamespacedEvent({ namespace: h.namespace, fieldSelector: `involvedObject.kind=Deployment,involvedObject.name=${name}` });
  return list.items
    .filter((e) => e.source?.component === 'tycho' || e.reportingComponent === 'tycho')
    .sort((a, b) => String(a.eventTime ?? a.firstTimestamp ?? '').localeCompare(String(b.eventTime ?? b.firstTimestamp ?? '')))
    .map((e) => `${e.reason}: ${e.message}`);
}

async function gone(name: string): Promise<void> {
  await waitFor(async () => !(await h.deploymentExists(name)), { what: `${name} removed`, timeoutMs: 60_000 });
}

describe('expiry', () => {
  test('a 20 s TTL: the thread is warned (owner tagged, Extend button), then the system is removed and the thread and team channel say it expired', async () => {
    const launchedAt = Date.now();
    const root = await launch('exp-twenty', '20s');
    const expires = await expiresOf('exp-twenty');
    expect(Date.parse(expires!) - launchedAt).toBeGreaterThan(15_000);
    expect(Date.parse(expires!) - launchedAt).toBeLessThanOrEqual(21_000);

    const warning = await h.slack.waitFor('chat.postMessage', isWarning(root), 'the expiry warning');
    expect(shownText(warning)).toContain(`<@${ALICE}>`);
    // The button carries the expiry it was made for, so a second click of it extends nothing.
    expect(buttonsOf(warning)).toEqual([expect.objectContaining({ action_id: 'tycho_extend', value: `exp-twenty@${new Date(expires!).toISOString()}` })]);
    // Warned before it is removed, not after.
    expect(await h.deploymentExists('exp-twenty')).toBe(true);

    const closing = await h.slack.waitFor('chat.postMessage', isExpiredReply(root), 'the closing reply saying it expired', 60_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expires!));
    await gone('exp-twenty');
    expect(await h.serviceExists('exp-twenty')).toBe(false);
    expect(shownText(closing)).not.toContain('Torn down by');
    await h.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('expired and was removed'), 'the root saying it expired');
    await waitFor(() => expiredNotices('exp-twenty').length === 1, { what: 'the team channel told it expired' });
    expect(h.slack.find('chat.postMessage', isWarning(root))).toHaveLength(1);
    expect(h.slack.find('chat.postMessage', isGoneReply(root))).toHaveLength(1);
  });

  test('Extend by button and by command moves the expiry; a non-owner is refused in one sentence; a longer --ttl than the maximum is refused; the new expiry gets its own warning', async () => {
    const root = await launch('exp-ext', '12s');
    const warning = await h.slack.waitFor('chat.postMessage', isWarning(root), 'the first warning');
    const first = (await expiresOf('exp-ext'))!;

    // Bob is not the owner: refused, and the expiry stays.
    const bobClick = await h.click({ user: BOB, message: warning, action: 'tycho_extend', value: 'exp-ext' });
    const refusal = await h.slack.waitFor('response_url', (c) => c.tag === bobClick.tag, "the refusal of Bob's click");
    expect(String(refusal.args.text)).toMatch(/^:no_entry: Only <@U0ALICE001> or an admin can extend "exp-ext"\.$/);
    const bobTyped = await h.slash('extend -n exp-ext', { user: BOB });
    const refusal2 = await h.slack.waitFor('response_url', (c) => c.tag === bobTyped.tag, "the refusal of Bob's /tycho extend");
    expect(String(refusal2.args.text)).toContain('or an admin can extend');
    expect(await expiresOf('exp-ext')).toBe(first);

    // Alice clicks Extend twice at once (a double click): the default TTL (2h) more, once. The
    // button carries the expiry it was made for; the second click finds it moved.
    const value = buttonsOf(warning)[0]!.value!;
    const clicks = await Promise.all([1, 2].map(() => h.click({ user: ALICE, message: warning, action: 'tycho_extend', value })));
    const answers = await Promise.all(clicks.map((click) => h.slack.waitFor('response_url', (c) => c.tag === click.tag, 'the answer to an Extend click')));
    expect(answers.map((a) => String(a.args.text).replace(/<!date[^>]*>/, 'DATE')).sort()).toEqual([
      ':hourglass_flowing_sand: Extended `exp-ext`: it now expires DATE.',
      ':hourglass_flowing_sand: `exp-ext` was already extended: it expires DATE.',
    ]);
    const clicked = (await expiresOf('exp-ext'))!;
    expect(Date.parse(clicked) - Date.parse(first)).toBe(2 * 3600_000);
    // The warning itself now says who extended it and until when, and has no button left to click again.
    const isWarningUpdate = (c: SlackCall) => c.args.channel === warning.args.channel && c.args.ts === warning.result.ts;
    const updated = await h.slack.waitFor('chat.update', isWarningUpdate, 'the warning updated after the Extend click');
    expect(shownText(updated)).toContain(`<@${ALICE}> extended \`exp-ext\``);
    expect(shownText(updated)).toContain(`|${clicked}>`);
    expect(shownText(updated)).not.toContain(`|${first}>`);
    expect(buttonsOf(updated)).toEqual([]);
    // The click retired the warning in the extend's own write: the thread does not update it again.
    expect((await annotationsOf('exp-ext'))[ANN_SLACK_EXPIRY_WARNING_TS]).toBe('');

    // Over the maximum (1d): one sentence naming the setting, and the usage.
    const tooLong = await h.slash('extend -n exp-ext --ttl 2d');
    expect(tooLong.text).toContain("longer than the 1d a system may live here (the operator's setting TYCHO_MAX_TTL)");
    expect(tooLong.text).toContain('/tycho extend -n NAME');
    expect(await expiresOf('exp-ext')).toBe(clicked);

    // An admin's /tycho extend with --ttl adds that much.
    const admin = await h.slash('extend -n exp-ext --ttl 1h', { user: ADMIN });
    await h.slack.waitFor('response_url', (c) => c.tag === admin.tag && String(c.args.text).includes('Extended'), "the answer to the admin's extend");
    expect(Date.parse((await expiresOf('exp-ext'))!) - Date.parse(clicked)).toBe(3600_000);

    // An expiry moved close again (as an operator might with kubectl): a new expiry, a new warning.
    await patchDeploymentAnnotations(h.apps, { namespace: h.namespace, name: 'exp-ext', annotations: { [ANN_EXPIRES]: new Date(Date.now() + 5_000).toISOString() } });
    await h.slack.waitFor('chat.postMessage', (c) => isWarning(root)(c) && c !== warning, 'a second warning, for the new expiry');
    await h.slack.waitFor('chat.postMessage', isExpiredReply(root), 'the closing reply', 60_000);
    await gone('exp-ext');
    expect(h.slack.find('chat.postMessage', isWarning(root))).toHaveLength(2);
    // Bob's refused click (before Alice's) left the message as it was, and the thread (which has
    // reconciled since: the second warning) did not update it after the click: one update in all.
    expect(h.slack.find('chat.update', isWarningUpdate)).toEqual([updated]);
  });

  test('an extend from anywhere (here a typed /tycho extend) updates the warning once: who moved the expiry, to when, and no Extend button for the old one', async () => {
    const root = await launch('exp-typed', '12s');
    const warning = await h.slack.waitFor('chat.postMessage', isWarning(root), 'the warning');
    const typed = await h.slash('extend -n exp-typed --ttl 1h');
    await h.slack.waitFor('response_url', (c) => c.tag === typed.tag && String(c.args.text).includes('Extended'), 'the answer to /tycho extend');
    const moved = (await expiresOf('exp-typed'))!;
    const isWarningUpdate = (c: SlackCall) => c.args.channel === warning.args.channel && c.args.ts === warning.result.ts;
    const updated = await h.slack.waitFor('chat.update', isWarningUpdate, 'the warning updated after the typed extend');
    expect(shownText(updated)).toContain(`<@${ALICE}> extended \`exp-typed\`: it now expires`);
    expect(shownText(updated)).toContain(`|${moved}>`);
    expect(buttonsOf(updated)).toEqual([]);
    // Once: its ts is forgotten after the update.
    await waitFor(async () => (await annotationsOf('exp-typed'))[ANN_SLACK_EXPIRY_WARNING_TS] === '', { what: 'the warning retired' });
    expect(h.slack.find('chat.update', isWarningUpdate)).toEqual([updated]);
    // Gone again, so that the next tests start with no system of this one's left.
    await h.slash('down -n exp-typed');
    await gone('exp-typed');
  });

  test('a system the reaper has marked cannot be extended (button or command): refused in one sentence, the expiry and the message stay, and it is removed', async () => {
    const root = await launch('exp-doomed', '1h');
    const first = (await expiresOf('exp-doomed'))!;
    // As the reaper marks it before its teardown; the test's finalizer keeps it through the delete.
    await h.apps.patchNamespacedDeployment(
      { namespace: h.namespace, name: 'exp-doomed', body: { metadata: { finalizers: ['tycho.test/hold'], annotations: { [ANN_DELETED_BY]: EXPIRED_BY } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await h.apps.deleteNamespacedDeployment({ namespace: h.namespace, name: 'exp-doomed' });
    const sentence = ':no_entry: "exp-doomed" has expired and is being removed; it can no longer be extended.';
    const click = await h.click({ user: ALICE, message: root, action: 'tycho_extend', value: 'exp-doomed' });
    expect(String((await h.slack.waitFor('response_url', (c) => c.tag === click.tag, 'the answer to the click')).args.text)).toBe(sentence);
    const typed = await h.slash('extend -n exp-doomed');
    expect(String((await h.slack.waitFor('response_url', (c) => c.tag === typed.tag, 'the answer to /tycho extend')).args.text)).toBe(sentence);
    expect(await expiresOf('exp-doomed')).toBe(first);
    expect(h.slack.find('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('extended'))).toEqual([]);

    await h.apps.patchNamespacedDeployment({ namespace: h.namespace, name: 'exp-doomed', body: [{ op: 'remove', path: '/metadata/finalizers' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await h.slack.waitFor('chat.postMessage', isExpiredReply(root), 'the closing reply saying it expired', 60_000);
    await gone('exp-doomed');
  });

  test('a --ttl over the maximum on up is refused in the ack, naming the setting, and nothing is created', async () => {
    const res = await h.slash('up -n exp-long -c nginx:1.25 -p 80 --ttl 2d');
    expect(res.text).toContain("A --ttl of 2d is longer than the 1d a system may live here (the operator's setting TYCHO_MAX_TTL); ask for less.");
    expect(res.text).toContain('/tycho up -n NAME');
    expect(await h.deploymentExists('exp-long')).toBe(false);
    expect(h.slack.find('chat.postMessage', isRoot('exp-long'))).toEqual([]);
  });

  test('a restart of Tycho between launch and expiry does not prevent the expiry', async () => {
    const root = await launch('exp-restart', '15s');
    await h.restart();
    await h.slack.waitFor('chat.postMessage', isExpiredReply(root), 'the closing reply after the restart', 60_000);
    await gone('exp-restart');
    expect(h.slack.find('chat.postMessage', isGoneReply(root))).toHaveLength(1);
  });

  test('two Tycho processes on one cluster remove it exactly once: one warning, one closing reply, one notice', async () => {
    const replica = await h.startReplica();
    try {
      const root = await launch('exp-two', '15s');
      await h.slack.waitFor('chat.postMessage', isExpiredReply(root), 'the closing reply', 60_000);
      await gone('exp-two');
      await waitFor(() => expiredNotices('exp-two').length >= 1, { what: 'the team channel told it expired' });
      // Both views have seen it go by now (each reconciler closes or leaves its thread on the gone event).
      await waitFor(() => h.tycho.reconcilerTracked() === 0 && replica.reconcilerTracked() === 0, { what: 'both replicas done with it' });
      expect(h.slack.find('chat.postMessage', isWarning(root))).toHaveLength(1);
      expect(h.slack.find('chat.postMessage', isGoneReply(root))).toHaveLength(1);
      expect(expiredNotices('exp-two')).toHaveLength(1);
      // The removal is audited once, by the replica that marked it: no second removal, no failed one.
      await waitFor(async () => (await auditEvents('exp-two')).some((e) => e.startsWith('Expired')), { what: 'the Expired audit Event' });
      expect(await auditEvents('exp-two')).toEqual([
        `Launched: up by slack:${ALICE} via slack in ${TEAM_CHANNEL}: done; rule: policy`,
        'Expired: expire by tycho:expiry via reaper: done; rule: expiry',
      ]);
    } finally {
      await replica.stop();
    }
  });
});
