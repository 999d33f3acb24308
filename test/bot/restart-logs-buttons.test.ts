/**
 * `restart` (REST, and the Restart button) replaces a system's pod as `kubectl rollout restart`
 * does; the Logs button posts its log in its thread as `/tycho logs` does. Both run the commands,
 * so a non-owner's click is refused in one sentence and nothing changes.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { systemSelector } from '../../src/k8s/labels.js';
import { call } from '../api/helpers.js';
import { tycho } from '../cli/run-cli.js';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { ALICE, BOB, type BotHarness, isRoot, shownText, startBotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('bot-restart');
});
afterAll(async () => {
  await h?.stop();
});

async function launchReady(name: string, env = '') {
  await h.slash(`up -n ${name} -c nginx:1.25 -p 80 ${env}`, { user: ALICE });
  const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  const ready = await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
  return { root, ready };
}

/** The names of the system's pods that are not going away. */
async function livePods(name: string): Promise<string[]> {
  const pods = await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: systemSelector(name) });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
}

/** Waits until the system runs a pod that is not one of `before`, and is Ready. */
function newReadyPod(name: string, before: string[]) {
  return waitFor(
    async () => {
      const pods = await h.core.listNamespacedPod({ namespace: h.namespace, labelSelector: systemSelector(name) });
      return pods.items.find((p) => !before.includes(p.metadata!.name!) && !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    },
    { what: `a new Ready pod of ${name}` },
  );
}

async function answerTo(sent: { tag: string }, what: string): Promise<SlackCall> {
  return h.slack.waitFor('response_url', (c) => c.tag === sent.tag, what);
}

describe('restart', () => {
  test('POST /system/restart replaces the pod', async () => {
    await launchReady('rs-rest');
    const before = await livePods('rs-rest');
    expect(before).toHaveLength(1);
    const r = await call(h.tycho.url, '/system/restart', { name: 'rs-rest' });
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('success');
    expect(r.json.message).toContain('rs-rest');
    await newReadyPod('rs-rest', before);
    // The CLI (remote mode) and the slash command are the same command.
    const again = await livePods('rs-rest');
    const cli = await tycho(['restart', 'rs-rest', '-s', h.tycho.url], { TYCHO_OWNER: 'carol' });
    expect(cli.stdout.trim()).toBe('Restarting rs-rest: its pod is being replaced.');
    expect(cli.code).toBe(0);
    await newReadyPod('rs-rest', again);
    const bob = await answerTo(await h.slash('restart -n rs-rest', { user: BOB }), 'the refusal of /tycho restart');
    expect(bob.args.text).toBe(`:no_entry: Only <@${ALICE}> or an admin can restart "rs-rest".`);
    const missing = await call(h.tycho.url, '/system/restart', { name: 'rs-nothing' });
    expect(missing.status).toBe(404);
    expect(missing.json.error?.message ?? missing.json.message).toContain('There is no system named "rs-nothing"');
  });

  test("the Restart button replaces the owner's pod; a non-owner's click is refused in one sentence and nothing changes", async () => {
    const { ready } = await launchReady('rs-button');
    const before = await livePods('rs-button');
    const refused = await answerTo(await h.click({ user: BOB, message: ready, action: 'tycho_restart', value: 'rs-button' }), 'the refusal of the click');
    expect(refused.args.text).toBe(`:no_entry: Only <@${ALICE}> or an admin can restart "rs-button".`);
    const d = await h.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'rs-button' });
    expect(d.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeUndefined();
    expect(await livePods('rs-button')).toEqual(before);

    const done = await answerTo(await h.click({ user: ALICE, message: ready, action: 'tycho_restart', value: 'rs-button' }), 'the answer to the click');
    expect(String(done.args.text)).toContain('Restarting `rs-button`');
    await newReadyPod('rs-button', before);
  });
});

describe('the Logs button', () => {
  test("posts the owner's log in the thread, as /tycho logs does; a non-owner's click is refused", async () => {
    const { root, ready } = await launchReady('lg-button', '-e "SIMULATED_LOG=hello from the button test"');
    const inThread = (c: SlackCall) => c.args.thread_ts === root.result.ts;
    const refused = await answerTo(await h.click({ user: BOB, message: ready, action: 'tycho_logs', value: 'lg-button' }), 'the refusal of the click');
    expect(refused.args.text).toBe(`:no_entry: Only <@${ALICE}> or an admin can read the logs of "lg-button".`);
    expect(h.slack.find('chat.postMessage', (c) => inThread(c) && String(c.args.text).includes("'s log"))).toHaveLength(0);

    const asked = await h.click({ user: ALICE, message: ready, action: 'tycho_logs', value: 'lg-button' });
    const posted = await h.slack.waitFor('chat.postMessage', (c) => inThread(c) && String(c.args.text).includes("'s log"), 'the log in the thread');
    expect(shownText(posted)).toContain('hello from the button test');
    expect(String((await answerTo(asked, 'the note to the clicker')).args.text)).toContain('in its thread');
  });
});
