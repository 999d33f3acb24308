/**
 * Tycho as it runs in production: real server processes (`node dist/server/main.js`) that are
 * killed, restarted, drained and run side by side as two replicas on one namespace, one fake
 * Slack and the local Kubernetes. What is asserted is what people see in Slack (each root
 * message, Ready reply and notice exactly once, roots that tell the truth) and what is in the
 * cluster (the thread's record on the Deployment, the leader Lease).
 *
 * The Lease lasts 3 s here, so a successor takes over within seconds of a kill -9.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, type V1Lease } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { ANN_SLACK_CHANNEL, ANN_SLACK_READY_TS, ANN_SLACK_TS } from '../../src/k8s/labels.js';
import { CLAIMED } from '../../src/k8s/claims.js';
import { MAX_POST_ATTEMPT_MS } from '../../src/bot/slack-io.js';
import { ThreadRecords } from '../../src/k8s/thread-records.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { FakeSlack, type SlackCall } from '../support/fake-slack.js';
import { ServerProcess } from '../support/server-process.js';
import { postToSlackEndpoint, slashCommandBody } from '../support/slack-signing.js';
import { call } from '../api/helpers.js';
import { tycho } from '../cli/run-cli.js';
import { HeldSlack } from './held-slack.js';
import { ALICE, buttonsOf, NOTIFY_CHANNEL, shownText, TEAM_CHANNEL } from './harness.js';

const SECRET = randomBytes(16).toString('hex');
const kubeconfigPath = process.env.TYCHO_TEST_KUBECONFIG ?? process.env.KUBECONFIG ?? '';
const LEASE = 'tycho-leader';
const kc = kubeConfig();
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const leases = kc.makeApiClient(CoordinationV1Api);

const started: ServerProcess[] = [];
const fakes: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  await Promise.all(fakes.map((f) => f.stop()));
});

/** One test's world: its namespace (and Lease), its fake Slack, and how to start a Tycho on them. */
async function world(prefix: string) {
  const ns = await createTestNamespace(prefix);
  const slack = await FakeSlack.start();
  fakes.push(slack);
  const start = async (host: string, o: { slackApiUrl?: string; env?: Record<string, string> } = {}) => {
    const p = await ServerProcess.start(host, {
      KUBECONFIG: kubeconfigPath,
      TYCHO_NAMESPACE: ns,
      SLACK_BOT_TOKEN: 'xoxb-test-0000-not-a-real-token',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: o.slackApiUrl ?? slack.apiUrl,
      TYCHO_NOTIFY_CHANNEL: NOTIFY_CHANNEL,
      TYCHO_LEASE_SECONDS: '3',
      TYCHO_DRAIN_SECONDS: '0',
      TYCHO_READY_TIMEOUT: '120',
      // Unpaced, each notice its own message, as in the harness (the tests count them).
      TYCHO_SLACK_CHANNEL_INTERVAL_MS: '0',
      TYCHO_NOTICE_BATCH_MS: '0',
      ...o.env,
    });
    started.push(p);
    return p;
  };
  return { ns, slack, start };
}

/** `/tycho <text>` typed by Alice in the team channel, signed as Slack signs it, to one server. */
async function slash(p: ServerProcess, slack: FakeSlack, text: string): Promise<void> {
  const body = slashCommandBody({ text, user_id: ALICE, channel_id: TEAM_CHANNEL, response_url: slack.responseUrl(`${p.host}:${text}`) });
  const res = await postToSlackEndpoint(p.eventsUrl, body, { secret: SECRET });
  expect(res.status).toBe(200);
}

const leading = (l: { msg: string }) => l.msg === 'leading: this replica writes to Slack';

// ---- What people see in Slack. ----
const isRoot = (name: string) => (c: SlackCall) => c.args.channel === TEAM_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`is launching \`${name}\``);
const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;
const isReadyReply = (root: SlackCall) => (c: SlackCall) => inThread(root)(c) && String(c.args.text).startsWith('Ready:');
const updatesOf = (slack: FakeSlack, m: SlackCall) => slack.find('chat.update', (c) => c.args.ts === m.result.ts && c.args.channel === m.args.channel);
const notices = (slack: FakeSlack, name: string, words: string) =>
  slack.find('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes(`\`${name}\``) && String(c.args.text).includes(words));

// ---- What is in the cluster. ----
async function annotations(ns: string, name: string): Promise<Record<string, string>> {
  return (await apps.readNamespacedDeployment({ namespace: ns, name })).metadata?.annotations ?? {};
}
const exists = (read: Promise<unknown>): Promise<boolean> =>
  read.then(
    () => true,
    (e: { code?: number }) => {
      if (e.code === 404) return false;
      throw e;
    },
  );
const deploymentExists = (ns: string, name: string) => exists(apps.readNamespacedDeployment({ namespace: ns, name }));
const serviceExists = (ns: string, name: string) => exists(core.readNamespacedService({ namespace: ns, name }));
const readLease = (ns: string): Promise<V1Lease> => leases.readNamespacedLease({ namespace: ns, name: LEASE });
/** The open Slack threads, one record (a small ConfigMap) per thread in the apps namespace. */
async function ledger(ns: string): Promise<Map<string, { name: string; readyTs?: string }>> {
  const records = await new ThreadRecords(kc, ns).all();
  return new Map(records.filter((r) => r.open).map((r) => [r.uid, r.entry]));
}
/** The process whose identity holds the Lease now (once somebody does). */
async function holder(ns: string, among: ServerProcess[]): Promise<ServerProcess> {
  return waitFor(
    async () => {
      const id = (await readLease(ns)).spec?.holderIdentity ?? '';
      return among.find((p) => id.startsWith(`${p.host}-`));
    },
    { what: `one of ${among.map((p) => p.host).join(', ')} to hold the Lease` },
  );
}

/** Waits until the Ready reply of this thread is recorded on its Deployment, and returns it. */
async function readyRecorded(slack: FakeSlack, ns: string, name: string, root: SlackCall, timeoutMs = 45_000): Promise<SlackCall> {
  const ready = await slack.waitFor('chat.postMessage', isReadyReply(root), `the Ready reply of ${name}`, timeoutMs);
  await waitFor(async () => (await annotations(ns, name))[ANN_SLACK_READY_TS] === ready.result.ts, { what: `the Ready reply of ${name} recorded on its Deployment`, timeoutMs });
  return ready;
}

describe('killed mid-launch', () => {
  test('kill -9 after the root message and before Ready: the next process ends the thread with the Ready reply exactly once', async () => {
    const { ns, slack, start } = await world('replicas-kill');
    const first = await start('first');
    await first.waitForLog(leading, 'that it leads');

    // slow-start: ContainerCreating for ~3 s, so the process is killed while it follows the launch.
    await slash(first, slack, 'up -n mid-launch -c example/slow-start:1 -p 80');
    const root = await slack.waitFor('chat.postMessage', isRoot('mid-launch'), 'the root message');
    await slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('Status: *launching*'), 'the root message following the launch');
    await first.kill('SIGKILL');
    // The scenario: the thread was still waiting for its Ready reply when the process died.
    expect(slack.find('chat.postMessage', isReadyReply(root))).toEqual([]);
    // (Created unclaimed: the empty value a claim tests for.)
    expect((await annotations(ns, 'mid-launch'))[ANN_SLACK_READY_TS]).toBe('');

    // Its debug log goes into the failure message: what it saw of the system, and when it led.
    const second = await start('second', { env: { TYCHO_LOG_LEVEL: 'debug' } });
    const ready = await readyRecorded(slack, ns, 'mid-launch', root).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\nThe second process logged:\n${second.output()}`);
    });
    expect(slack.find('chat.postMessage', isReadyReply(root))).toEqual([ready]);
    expect(buttonsOf(ready).map((b) => b.action_id).sort()).toEqual(['tycho_status', 'tycho_teardown']);
    // The root message shows the truth: ready, with its URL and buttons.
    const last = updatesOf(slack, root).at(-1)!;
    expect(shownText(last)).toContain('is ready');
    expect(buttonsOf(last).map((b) => b.action_id)).toContain('tycho_teardown');
    // One root message, one launch notice, one Ready notice.
    expect(slack.find('chat.postMessage', isRoot('mid-launch'))).toHaveLength(1);
    expect(notices(slack, 'mid-launch', 'is launching')).toHaveLength(1);
    await waitFor(() => notices(slack, 'mid-launch', 'is ready').length > 0, { what: 'the Ready notice' });
    expect(notices(slack, 'mid-launch', 'is ready')).toHaveLength(1);
  });
});

describe('deleted while Tycho is stopped', () => {
  test('a kubectl delete while no Tycho runs is reported in the thread after the restart, even with the name relaunched meanwhile; relaunching from Slack works', async () => {
    const { ns, slack, start } = await world('replicas-deleted');
    const first = await start('first');
    await first.waitForLog(leading, 'that it leads');
    await slash(first, slack, 'up -n gone-meanwhile -c nginx -p 80');
    const root = await slack.waitFor('chat.postMessage', isRoot('gone-meanwhile'), 'the root message');
    const ready = await readyRecorded(slack, ns, 'gone-meanwhile', root);
    // The thread is recorded, with its Ready reply: what lets a later Tycho close it.
    const inLedger = async () => [...(await ledger(ns)).values()].filter((e) => e.name === 'gone-meanwhile');
    await waitFor(async () => (await inLedger()).some((e) => e.readyTs === ready.result.ts), { what: 'the thread in the ledger' });

    // A restart in between: the next process catches up on the thread (and keeps its record whole).
    await first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const updates = updatesOf(slack, root).length;
    const between = await start('between');
    await waitFor(() => updatesOf(slack, root).length > updates, { what: 'the next process to bring the thread up to date' });
    expect(await inLedger()).toEqual([expect.objectContaining({ readyTs: ready.result.ts })]);
    await between.kill('SIGTERM');
    expect(await between.exited).toEqual({ code: 0, signal: null });
    // kubectl delete deployment gone-meanwhile: its Service goes with it (owned by the Deployment).
    await apps.deleteNamespacedDeployment({ namespace: ns, name: 'gone-meanwhile' });
    await waitFor(async () => !(await deploymentExists(ns, 'gone-meanwhile')), { what: 'the Deployment to be gone' });
    // And relaunched under the same name with the CLI, still while no Tycho runs: a system of that
    // name exists again, but not the one the thread was about.
    const cli = await tycho(['up', '-n', 'gone-meanwhile', '-c', 'nginx', '-p', '80'], { KUBECONFIG: kubeconfigPath, TYCHO_NAMESPACE: ns, TYCHO_OWNER: 'carol' });
    expect(cli.code).toBe(0);

    const second = await start('second');
    const reply = await slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Torn down by'), 'the closing reply');
    expect(String(reply.args.text)).toBe('Torn down by someone while Tycho was not running.');
    // Closing the record was the claim on the closing words: then nothing more can come.
    expect(await inLedger()).toEqual([]);
    await waitFor(() => notices(slack, 'gone-meanwhile', 'was torn down').length > 0, { what: 'the torn-down notice' });
    expect(slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Torn down by'))).toEqual([reply]);

    const rootNow = updatesOf(slack, root).at(-1)!;
    expect(shownText(rootNow)).toContain('was torn down by someone while Tycho was not running');
    expect(buttonsOf(rootNow)).toEqual([]);
    const readyNow = updatesOf(slack, ready).at(-1)!;
    expect(shownText(readyNow)).toContain('Torn down since');
    expect(buttonsOf(readyNow)).toEqual([]);
    expect(notices(slack, 'gone-meanwhile', 'was torn down')).toHaveLength(1);
    // Nothing was posted twice: one Ready reply, one root message.
    expect(slack.find('chat.postMessage', isReadyReply(root))).toEqual([ready]);

    // The CLI's system has no thread, so Slack heard nothing of it.
    expect(slack.find('chat.postMessage', isRoot('gone-meanwhile'))).toEqual([root]);
    expect(notices(slack, 'gone-meanwhile', 'is launching')).toHaveLength(1);

    // The same name from Slack, once the CLI's system is gone: a new thread, ready once; the old thread is left alone.
    expect((await call(second.url, '/system/delete', { name: 'gone-meanwhile' })).status).toBe(200);
    const oldThread = slack.find('chat.postMessage', inThread(root)).length;
    await slash(second, slack, 'up -n gone-meanwhile -c nginx -p 80');
    const root2 = await waitFor(() => slack.find('chat.postMessage', isRoot('gone-meanwhile')).find((c) => c !== root), { what: 'a second root message' });
    const ready2 = await readyRecorded(slack, ns, 'gone-meanwhile', root2);
    expect(slack.find('chat.postMessage', isReadyReply(root2))).toEqual([ready2]);
    const a = await annotations(ns, 'gone-meanwhile');
    expect([a[ANN_SLACK_CHANNEL], a[ANN_SLACK_TS]]).toEqual([TEAM_CHANNEL, root2.result.ts]);
    expect(shownText(updatesOf(slack, root2).at(-1)!)).toContain('is ready');
    expect(slack.find('chat.postMessage', inThread(root))).toHaveLength(oldThread);
  });
});

describe('two replicas', () => {
  test('20 launches sent alternately: each root, Ready reply and notice exactly once; kill -9 the leader mid-burst and every launch still ends Ready once', async () => {
    const { ns, slack, start } = await world('replicas-two');
    const [a, b] = await Promise.all([start('replica-a'), start('replica-b')]);
    const replicas = [a!, b!];
    const leader = await holder(ns, replicas);
    await leader.waitForLog(leading, 'that it leads');

    // 20 launches, sent alternately to each replica, all at once.
    const burst = Array.from({ length: 20 }, (_, i) => ({ name: `burst-${i + 1}`, via: replicas[i % 2]!, other: replicas[(i + 1) % 2]! }));
    await Promise.all(burst.map((l) => slash(l.via, slack, `up -n ${l.name} -c nginx -p 80`)));
    await Promise.all(
      burst.map(async (l) => {
        await waitFor(() => deploymentExists(ns, l.name), { what: `${l.name} to be created` });
        // A launch on one replica is visible at once through the other's REST API.
        const seen = await call(l.other.url, '/system/status', { name: l.name });
        expect([seen.status, seen.json?.result?.[0]?.name]).toEqual([200, l.name]);
      }),
    );
    await Promise.all(
      burst.map(async (l) => {
        const root = await slack.waitFor('chat.postMessage', isRoot(l.name), `the root message of ${l.name}`);
        await readyRecorded(slack, ns, l.name, root);
        await waitFor(() => notices(slack, l.name, 'is ready').length > 0, { what: `the Ready notice of ${l.name}` });
      }),
    );
    for (const l of burst) {
      const roots = slack.find('chat.postMessage', isRoot(l.name));
      expect(roots).toHaveLength(1);
      expect(slack.find('chat.postMessage', isReadyReply(roots[0]!))).toHaveLength(1);
      expect(notices(slack, l.name, 'is launching')).toHaveLength(1);
      expect(notices(slack, l.name, 'is ready')).toHaveLength(1);
      expect(shownText(updatesOf(slack, roots[0]!).at(-1)!)).toContain('is ready');
    }

    // Another batch, slow to start; the leader is killed once the first half exists, before any is ready.
    const survivor = replicas.find((p) => p !== leader)!;
    const relay = Array.from({ length: 10 }, (_, i) => `relay-${i + 1}`);
    await Promise.all(relay.slice(0, 5).map((name, i) => slash(replicas[i % 2]!, slack, `up -n ${name} -c example/slow-start:1 -p 80`)));
    // Each fully handed to the cluster (the Deployment, then the Service it owns) before the kill.
    // A kill between those two writes leaves a Deployment without its Service, which no process
    // completes: that thread ends at the ready timeout.
    await Promise.all(relay.slice(0, 5).map((name) => waitFor(() => serviceExists(ns, name), { what: `${name} to be created` })));
    await leader.kill('SIGKILL');
    const rootsBefore = relay.slice(0, 5).map((name) => slack.find('chat.postMessage', isRoot(name))[0]!);
    // The scenario: none of them was told Ready (nor claimed it) by the leader that died.
    for (const root of rootsBefore) expect(slack.find('chat.postMessage', isReadyReply(root))).toEqual([]);
    await Promise.all(relay.slice(5).map((name) => slash(survivor, slack, `up -n ${name} -c example/slow-start:1 -p 80`)));

    // The survivor takes the Lease once it has lapsed (3 s) and finishes every thread.
    await Promise.all(
      relay.map(async (name) => {
        const root = await slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
        await readyRecorded(slack, ns, name, root);
      }),
    );
    expect((await holder(ns, replicas)).host).toBe(survivor.host);
    for (const name of relay) {
      const roots = slack.find('chat.postMessage', isRoot(name));
      expect(roots).toHaveLength(1);
      expect(slack.find('chat.postMessage', isReadyReply(roots[0]!))).toHaveLength(1);
      expect(notices(slack, name, 'is launching')).toHaveLength(1);
      expect(shownText(updatesOf(slack, roots[0]!).at(-1)!)).toContain('is ready');
    }
    // The first batch was not told anything twice by the new leader either.
    for (const l of burst) expect(slack.find('chat.postMessage', isReadyReply(slack.find('chat.postMessage', isRoot(l.name))[0]!))).toHaveLength(1);
  });
});

describe('post succeeds, record fails', () => {
  test('killed after Slack took the Ready reply and before its ts was recorded: the claim fences it, no second Ready reply', async () => {
    const { ns, slack, start } = await world('replicas-record');
    // Slack answers the Ready reply only when the test says so: it has the message, Tycho not yet its ts.
    const gate = await HeldSlack.start(slack.origin);
    fakes.push(gate);
    gate.holdWhen = (method, args) => method === 'chat.postMessage' && (args.get('text') ?? '').startsWith('Ready:');
    const first = await start('first', { slackApiUrl: gate.apiUrl });
    await first.waitForLog(leading, 'that it leads');
    await slash(first, slack, 'up -n posted-once -c nginx -p 80');
    const root = await slack.waitFor('chat.postMessage', isRoot('posted-once'), 'the root message');
    const ready = await slack.waitFor('chat.postMessage', isReadyReply(root), 'the Ready reply');
    await waitFor(() => gate.held === 1, { what: "Slack's answer to the Ready reply being held" });
    await first.kill('SIGKILL');
    gate.release();
    // The scenario: posted, never recorded.
    expect((await annotations(ns, 'posted-once'))[ANN_SLACK_READY_TS]).toBe(CLAIMED);

    const updatesBefore = updatesOf(slack, root).length;
    const second = await start('second');
    // The new leader has brought this thread up to date (its root update comes before any Ready decision)…
    const rootNow = await waitFor(() => updatesOf(slack, root)[updatesBefore], { what: "the new leader's update of the root message" });
    expect(shownText(rootNow)).toContain('is ready');
    // …then the system is torn down: its closing words come after anything that reconcile posted.
    const down = await call(second.url, '/system/delete', { name: 'posted-once' });
    expect(down.status).toBe(200);
    await slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Torn down by'), 'the closing reply');
    expect(slack.find('chat.postMessage', isReadyReply(root))).toEqual([ready]);
  });
});

describe('a claim outlives its writer', () => {
  test("Slack answers the Ready reply 429 with Retry-After 120, and the leader gets SIGTERM: the other replica posts it exactly once, within the claim's recovery time", async () => {
    const { ns, slack, start } = await world('replicas-recover');
    const first = await start('first');
    await first.waitForLog(leading, 'that it leads');
    const second = await start('second');
    slack.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 120 }, { times: 1, when: (a) => !!a.thread_ts && String(a.text).startsWith('Ready:') });
    await slash(first, slack, 'up -n recovered -c nginx -p 80');
    const root = await slack.waitFor('chat.postMessage', isRoot('recovered'), 'the root message');
    await slack.waitFor('chat.postMessage:ratelimited', inThread(root), 'the Ready reply refused for 120 s');
    // Claimed, not posted: the leader gives up within its budget rather than wait 120 s, and is stopped.
    expect((await annotations(ns, 'recovered'))[ANN_SLACK_READY_TS]).toBe(CLAIMED);
    await first.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    // The other replica leads at once (the Lease was released), finds the claim older than any
    // writer could still be posting, looks in the thread, and posts.
    const ready = await readyRecorded(slack, ns, 'recovered', root, MAX_POST_ATTEMPT_MS + 20_000).catch((e: unknown) => {
      throw new Error(`${(e as Error).message}\nThe other replica logged:\n${second.output()}`);
    });
    expect(slack.find('chat.postMessage', isReadyReply(root))).toEqual([ready]);
    expect(second.lines.some((l) => l.msg === 'recovering a Ready reply whose claim outlived its writer')).toBe(true);
  }, 120_000);
});

describe('SIGTERM drains', () => {
  test('/readyz answers 503 at once while /healthz and REST still answer; a waiting launch is told to follow it; exit 0 and the Lease released', async () => {
    const { ns, start } = await world('replicas-drain');
    const p = await start('draining', { env: { TYCHO_DRAIN_SECONDS: '2' } });
    await p.waitForLog(leading, 'that it leads');
    expect((await holder(ns, [p])).host).toBe('draining');
    expect((await fetch(`${p.url}/readyz`)).status).toBe(200);

    // A caller waiting on a launch that will not be ready before the server goes.
    const waiting = call(p.url, '/system/start', { name: 'waits', containers: [{ name: 'waits-c', image: 'example/never-ready:1', ports: [{ containerPort: 80 }] }] });
    await waitFor(() => deploymentExists(ns, 'waits'), { what: 'the waiting launch to be created' });

    await p.kill('SIGTERM');
    await p.waitForLog((l) => l.msg === 'draining', 'that it drains');
    const [ready, health, status] = await Promise.all([fetch(`${p.url}/readyz`), fetch(`${p.url}/healthz`), call(p.url, '/system/status', { name: 'waits' })]);
    expect(ready.status).toBe(503);
    expect(health.status).toBe(200);
    expect([status.status, status.json?.result?.[0]?.name]).toEqual([200, 'waits']);

    expect(await p.exited).toEqual({ code: 0, signal: null });
    const told = await waiting;
    expect(told.status).toBe(503);
    expect(told.json?.message).toContain('Follow it with `status waits`');
    // Released: nobody holds the Lease, so another replica takes it at its next try.
    expect((await readLease(ns)).spec?.holderIdentity ?? '').toBe('');
    expect(await deploymentExists(ns, 'waits')).toBe(true);
  });
});
