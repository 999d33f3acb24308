/**
 * The daily digest (TYCHO_DIGEST_AT): at the set time each owner of running systems gets one
 * direct message listing them, with Tear down and Extend buttons that run the commands. Sent
 * by the Lease holder, once a day, claimed in Kubernetes: a second replica, or a restarted
 * process, sends nothing more that day. The digest reads a manual clock, so no test waits for
 * 09:00.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dmOf, type SlackCall } from '../support/fake-slack.js';
import { ANN_EXPIRES } from '../../src/k8s/labels.js';
import { ManualClock } from '../support/manual-clock.js';
import type { RunningTycho } from '../../src/server/tycho.js';
import { ALICE, BOB, buttonsOf, type BotHarness, isRoot, shownText, startBotHarness } from './harness.js';

const DAY1 = '2031-03-04';
const DAY2 = '2031-03-05';
const clock = new ManualClock(Date.parse(`${DAY1}T08:58:30Z`));
let h: BotHarness;
let replica: RunningTycho | undefined;
beforeAll(async () => {
  h = await startBotHarness('bot-digest', { env: { TYCHO_DIGEST_AT: '09:00', TYCHO_DIGEST_TZ: 'UTC', TYCHO_LEASE_SECONDS: '3' }, digestClock: clock });
});
afterAll(async () => {
  await replica?.stop();
  await h?.stop();
});

async function launchReady(name: string, user: string): Promise<void> {
  await h.slash(`up -n ${name} -c nginx:1.25 -p 80`, { user });
  const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
}

/** The digests posted to `user` for `day`. */
const digestsTo = (user: string, day: string) => h.slack.find('chat.postMessage', (c) => c.result.channel === dmOf(user) && String(c.args.text).includes(`digest for ${day}`));
const waitDigest = (user: string, day: string) =>
  h.slack.waitFor('chat.postMessage', (c) => c.result.channel === dmOf(user) && String(c.args.text).includes(`digest for ${day}`), `the digest of ${day} to ${user}`);
const answerTo = async (sent: { tag: string }, what: string) => String((await h.slack.waitFor('response_url', (c) => c.tag === sent.tag, what)).args.text);

describe('the daily digest', () => {
  let alices: SlackCall;

  test('at the set time, with two replicas, each owner gets exactly one DM listing their own systems, with Tear down and Extend', async () => {
    await Promise.all([launchReady('dig-a1', ALICE), launchReady('dig-a2', ALICE), launchReady('dig-b1', BOB)]);
    replica = await h.startReplica();
    expect(h.slack.find('chat.postMessage', (c) => String(c.args.text).includes('digest for'))).toHaveLength(0);
    // Both replicas' timers fire; only the Lease holder sends, once.
    clock.set(Date.parse(`${DAY1}T09:00:05Z`));
    alices = await waitDigest(ALICE, DAY1);
    const bobs = await waitDigest(BOB, DAY1);
    const text = shownText(alices);
    expect(text).toContain('`dig-a1`');
    expect(text).toContain('`dig-a2`');
    expect(text).not.toContain('`dig-b1`');
    expect(shownText(bobs)).toContain('`dig-b1`');
    expect(shownText(bobs)).not.toContain('`dig-a1`');
    const buttons = buttonsOf(alices);
    for (const name of ['dig-a1', 'dig-a2']) expect(buttons.filter((b) => b.value?.split('@')[0] === name).map((b) => b.action_id).sort()).toEqual(['tycho_extend', 'tycho_teardown']);

    // The leader restarts: the new process finds the day claimed in Kubernetes and sends nothing
    // more; the next day each owner gets one again.
    await h.restart();
    clock.set(Date.parse(`${DAY1}T09:01:05Z`));
    clock.set(Date.parse(`${DAY2}T09:00:05Z`));
    await waitDigest(ALICE, DAY2);
    await waitDigest(BOB, DAY2);
    expect(digestsTo(ALICE, DAY1)).toHaveLength(1);
    expect(digestsTo(BOB, DAY1)).toHaveLength(1);
    expect(digestsTo(ALICE, DAY2)).toHaveLength(1);
    expect(digestsTo(BOB, DAY2)).toHaveLength(1);
  });

  test("the digest's buttons run the commands: Bob's Tear down of Alice's system is refused, Alice's Extend and Tear down work", async () => {
    const refused = await answerTo(await h.click({ user: BOB, message: alices, action: 'tycho_teardown', value: 'dig-a1' }), "Bob's Tear down");
    expect(refused).toBe(`:no_entry: Only <@${ALICE}> or an admin can tear down "dig-a1".`);
    expect(await h.deploymentExists('dig-a1')).toBe(true);
    // Bob's Extend is refused too, and leaves the digest as it is; Alice's updates it in place:
    // dig-a1's line shows its new expiry and who extended it, its Extend is gone, the rest stays.
    expect(await answerTo(await h.click({ user: BOB, message: alices, action: 'tycho_extend', value: 'dig-a1' }), "Bob's Extend")).toBe(`:no_entry: Only <@${ALICE}> or an admin can extend "dig-a1".`);
    expect(await answerTo(await h.click({ user: ALICE, message: alices, action: 'tycho_extend', value: 'dig-a1' }), "Alice's Extend")).toContain('Extended `dig-a1`');
    const isDigestUpdate = (c: SlackCall) => c.args.channel === alices.result.channel && c.args.ts === alices.result.ts;
    const updated = await h.slack.waitFor('chat.update', isDigestUpdate, 'the digest updated after the Extend click');
    const expires = (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'dig-a1' })).metadata?.annotations?.[ANN_EXPIRES];
    const line = JSON.stringify(updated.args.blocks).split('dig-a1')[1]!;
    expect(line).toContain(`|${expires}> (extended by <@${ALICE}>)`);
    expect(buttonsOf(updated).filter((b) => b.value === 'dig-a1').map((b) => b.action_id)).toEqual(['tycho_teardown']);
    expect(buttonsOf(updated).filter((b) => b.value?.split('@')[0] === 'dig-a2').map((b) => b.action_id).sort()).toEqual(['tycho_extend', 'tycho_teardown']);
    expect(h.slack.find('chat.update', isDigestUpdate)).toHaveLength(1);
    await answerTo(await h.click({ user: ALICE, message: alices, action: 'tycho_teardown', value: 'dig-a1' }), "Alice's Tear down");
    expect(await h.deploymentExists('dig-a1')).toBe(false);
  });
});
