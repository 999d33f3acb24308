/**
 * The thread tells the truth under ordinary faults, and the reconciler keeps nothing about systems
 * that came and went. Each test makes one fault a code review found (issue 16) and asserts what
 * people see in Slack, or, for the leak, what the reconciler still holds.
 */
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../src/log.js';
import { LABEL_SYSTEM } from '../../src/k8s/labels.js';
import { SIM_READINESS_ANNOTATION } from '../../src/local/kubelet-simulator.js';
import type { RunningTycho } from '../../src/server/tycho.js';
import { kubeConfig, waitFor } from '../support/cluster.js';
import { FaultProxy, HttpFaultProxy } from '../support/fault-proxy.js';
import type { SlackCall } from '../support/fake-slack.js';
import { openUrl } from '../support/open-url.js';
import { ALICE, readyUrl, shownText, startBotHarness, TEAM_CHANNEL, type BotHarness, type HarnessOptions } from './harness.js';

let h: BotHarness | undefined;
const others: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(others.splice(0).map((o) => o.stop()));
  await h?.stop();
  h = undefined;
});

/** Log lines, parsed, that a test can wait for. */
function tap(): { log: Logger; lines: { msg: string; [k: string]: unknown }[]; seen: (msg: string, after?: number) => Promise<number> } {
  const lines: { msg: string }[] = [];
  return {
    log: createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l) as { msg: string }) }),
    lines,
    /** Resolves with the index of the first line with this message after index `after`. */
    seen: (msg, after = -1) => waitFor(() => {
      const i = lines.findIndex((l, j) => j > after && l.msg === msg);
      return i >= 0 ? i + 1 : undefined;
    }, { what: `the log line "${msg}"`, timeoutMs: 45_000 }).then((i) => i - 1),
  };
}

const isRoot = (name: string) => (c: SlackCall) => c.args.channel === TEAM_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`is launching \`${name}\``);
const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;
const closingReplies = (hh: BotHarness, root: SlackCall) => hh.slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Torn down by'));

/** A bot harness whose Kubernetes calls go through an HTTP fault proxy (both stopped after the test). */
async function harnessThroughProxy(name: string, o: Omit<HarnessOptions, 'kubeConfig'> = {}): Promise<{ hh: BotHarness; proxy: HttpFaultProxy }> {
  const proxy = await HttpFaultProxy.start(kubeConfig());
  others.push(proxy);
  h = await startBotHarness(name, { ...o, kubeConfig: proxy.kubeConfigThrough(kubeConfig()) });
  return { hh: h, proxy };
}

/** `/tycho up` from Slack, through to its Ready reply. */
async function launchFromSlack(hh: BotHarness, name: string, image = 'example/app:1'): Promise<{ root: SlackCall; ready: SlackCall }> {
  const res = await hh.slash(`up -n ${name} -c ${image} -p 80`);
  expect(res.status).toBe(200);
  const root = await hh.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  const ready = await hh.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
  return { root, ready };
}

describe('nothing is kept about systems that went', () => {
  test('REST launches and teardowns, then Slack ones, on two replicas: neither replica keeps anything about them', async () => {
    h = await startBotHarness('forget');
    const replica: RunningTycho = await h.startReplica();
    others.push(replica);
    const hh = h;
    // REST and CLI systems have no thread: before the fix each left its last state behind on
    // every replica, for ever.
    const owner = { id: 'api:portal', display: 'portal' };
    for (let batch = 0; batch < 10; batch++) {
      const names = Array.from({ length: 10 }, (_, i) => `rest-${batch}-${i}`);
      await Promise.all(names.map((name) => hh.tycho.launcher.up({ name, image: 'example/app:1', ports: [80], owner, origin: 'api' }, { wait: false })));
      await Promise.all(names.map((name) => hh.tycho.launcher.down(name, owner.id)));
    }
    for (let i = 0; i < 3; i++) {
      const { root } = await launchFromSlack(hh, `slack-${i}`);
      expect((await hh.slash(`down -n slack-${i}`)).status).toBe(200);
      await hh.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith(`Torn down by <@${ALICE}>`), `the closing reply of slack-${i}`);
    }
    await waitFor(() => hh.tycho.reconcilerTracked() === 0 && replica.reconcilerTracked() === 0, {
      what: `both reconcilers to forget every system (leader ${hh.tycho.reconcilerTracked()}, other ${replica.reconcilerTracked()})`,
    });
  }, 240_000);
});

describe('a view that could not list closes no thread', () => {
  test('the Deployment list refused (403) at start, then allowed: every thread stays open, and a later teardown is told once', async () => {
    const t = tap();
    const { hh, proxy } = await harnessThroughProxy('refused-list', { log: t.log, viewOptions: { backoffMaxMs: 1_000 } });
    const { root } = await launchFromSlack(hh, 'kept');
    // The next Tycho may not list Deployments (an RBAC change rolled out with it).
    proxy.answerWhen = (method, path) => (method === 'GET' && /\/deployments\?/.test(path) && !path.includes('watch=') ? 403 : undefined);
    const mark = t.lines.length - 1;
    await hh.restart();
    await t.seen('leading: this replica writes to Slack', mark);
    await waitFor(() => proxy.counts.answered >= 2, { what: 'the Deployment list to be refused, and tried again' });
    // Allowed again: the view syncs and the leader catches up against a whole view.
    proxy.answerWhen = undefined;
    const caughtUp = await t.seen('caught up on Slack threads', mark);
    expect(t.lines[caughtUp]).toMatchObject({ closing: 0 });
    expect(closingReplies(hh, root)).toHaveLength(0);
    expect(hh.slack.find('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('torn down'))).toHaveLength(0);
    expect(await hh.deploymentExists('kept')).toBe(true);
    // The thread is still Tycho's to close: once, naming who tore it down.
    expect((await hh.slash('down -n kept')).status).toBe(200);
    await hh.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith(`Torn down by <@${ALICE}>`), 'the closing reply');
    expect(closingReplies(hh, root)).toHaveLength(1);
  }, 180_000);
});

describe('a reply whose claim the API could not write is tried again, not dropped', () => {
  test('the Ready claim answered 503, then healed: the Ready reply is posted, once', async () => {
    const { hh, proxy } = await harnessThroughProxy('claim-503');
    // Every write to this Deployment fails until the first one was refused (the claim is the first).
    let refused = 0;
    proxy.answerWhen = (method, path) => (method === 'PATCH' && /\/deployments\/claimed(\?|$)/.test(path) && refused++ === 0 ? 503 : undefined);
    expect((await hh.slash('up -n claimed -c example/app:1 -p 80')).status).toBe(200);
    const root = await hh.slack.waitFor('chat.postMessage', isRoot('claimed'), 'the root message');
    await waitFor(() => refused > 0, { what: 'the Ready claim refused with a 503' });
    // Nothing else happens to this system now: only a retry of the reconciler's own brings the reply.
    const isReady = (c: SlackCall) => inThread(root)(c) && String(c.args.text).startsWith('Ready:');
    await hh.slack.waitFor('chat.postMessage', isReady, 'the Ready reply after the API healed');
    expect(hh.slack.find('chat.postMessage', isReady)).toHaveLength(1);
  }, 120_000);
});

describe('the closing reply is posted once, naming who tore it down', () => {
  test('the thread records answer 503 while alice tears it down, then heal: one closing reply, by alice, even after a new leader catches up', async () => {
    const t = tap();
    const { hh, proxy } = await harnessThroughProxy('records-503', { log: t.log });
    const { root } = await launchFromSlack(hh, 'closing');
    const mark = t.lines.length - 1;
    proxy.answerWhen = (method, path) => ((method === 'PATCH' || method === 'POST') && path.includes('/configmaps') ? 503 : undefined);
    expect((await hh.slash('down -n closing')).status).toBe(200);
    await t.seen('could not claim the closing of the Slack thread; trying again', mark);
    // Who wins the claim is unknown while the API cannot say: nothing is posted.
    expect(closingReplies(hh, root)).toHaveLength(0);
    proxy.answerWhen = undefined;
    await hh.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Torn down by'), 'the closing reply');
    expect(closingReplies(hh, root).map((c) => String(c.args.text))).toEqual([`Torn down by <@${ALICE}>.`]);
    // A new leader's catch-up finds the thread closed: no second, wrong "torn down by someone".
    const again = t.lines.length - 1;
    await hh.restart();
    await t.seen('caught up on Slack threads', again);
    expect(closingReplies(hh, root)).toHaveLength(1);
  }, 180_000);
});

describe('a short gap in serving is no incident; a long one is one reply, and its end one more', () => {
  test('kubectl delete pod: nothing said; readiness failing past the grace period, twice: two outage replies, two "serving again"', async () => {
    const t = tap();
    h = await startBotHarness('incidents', { env: { TYCHO_INCIDENT_GRACE_SECONDS: '10' }, log: t.log });
    const hh = h;
    // slow-start: a replacement pod takes ~3 s to be Ready, a real gap in serving (inside the grace).
    const { root, ready } = await launchFromSlack(hh, 'steady', 'example/slow-start:1');
    const url = readyUrl(ready);
    const podOf = async (): Promise<V1Pod | undefined> =>
      (await hh.core.listNamespacedPod({ namespace: hh.namespace, labelSelector: `${LABEL_SYSTEM}=steady` })).items.find((p) => !p.metadata?.deletionTimestamp);
    const first = (await podOf())!;
    // A pod replaced, as on an eviction or a node drain.
    await hh.core.deleteNamespacedPod({ namespace: hh.namespace, name: first.metadata!.name! });
    const second = await waitFor(async () => {
      const p = await podOf();
      return p && p.metadata?.uid !== first.metadata?.uid && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    }, { what: 'the replacement pod to be Ready' });
    await waitFor(async () => 'status' in (await openUrl(url)), { what: `${url} to answer through the new pod` });
    const gap = t.lines[await t.seen('serving again within the grace period: no incident')]!;
    expect(gap.gapMs).toBeGreaterThan(0);

    const outages = () => hh.slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes('stopped serving'));
    const recoveries = () => hh.slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes('is serving again'));
    const probe = (fail: boolean) =>
      hh.core.patchNamespacedPod(
        { namespace: hh.namespace, name: second.metadata!.name!, body: { metadata: { annotations: { [SIM_READINESS_ANNOTATION]: fail ? 'fail' : null } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    // The replaced pod's gap said nothing, in the thread or on the root.
    expect(outages()).toHaveLength(0);
    expect(hh.slack.find('chat.update', (c) => c.args.ts === root.result.ts && /stopped serving|failed/.test(shownText(c)))).toHaveLength(0);
    for (const n of [1, 2]) {
      await probe(true);
      await waitFor(() => outages().length === n, { what: `outage reply ${n}`, timeoutMs: 45_000 });
      await waitFor(() => hh.slack.find('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('stopped serving')).length >= n, { what: `the root saying it stopped serving (${n})` });
      await probe(false);
      await waitFor(() => recoveries().length === n, { what: `serving-again reply ${n}`, timeoutMs: 45_000 });
    }
    expect(outages()).toHaveLength(2);
    expect(recoveries()).toHaveLength(2);
    expect(String(outages()[0]!.args.text)).toContain('`steady` stopped serving');
    expect(hh.slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes('failed'))).toHaveLength(0);
  }, 180_000);
});

describe('the ready timeout counts on this process\'s own clock', () => {
  test('a node clock two hours fast: a launch is Ready, not timed out', async () => {
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 2 * 3600_000);
    h = await startBotHarness('clock-skew');
    const { root } = await launchFromSlack(h, 'skewed');
    expect(h.slack.find('chat.postMessage', (c) => inThread(root)(c) && !String(c.args.text).startsWith('Ready:'))).toHaveLength(0);
    expect(h.slack.find('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes('failed'))).toHaveLength(0);
  }, 120_000);
});

describe('a Service made again on another port: the thread is told the new URL', () => {
  test('the lost Service\'s NodePort taken meanwhile: one "URL changed" reply with the URL that answers, and the root shows it', async () => {
    const { hh, proxy } = await harnessThroughProxy('url-changed');
    const { root, ready } = await launchFromSlack(hh, 'moved');
    const oldUrl = readyUrl(ready);
    const oldPort = Number(new URL(oldUrl).port);
    // The repair's create waits at the proxy while someone else's Service takes the port.
    proxy.holdWhen = (method, path) => method === 'POST' && /\/services(\?|$)/.test(path);
    await hh.core.deleteNamespacedService({ namespace: hh.namespace, name: 'moved' });
    await waitFor(() => proxy.held > 0, { what: 'the repair to make the Service again' });
    await hh.core.createNamespacedService({ namespace: hh.namespace, body: { metadata: { name: 'squatter' }, spec: { type: 'NodePort', selector: { app: 'none' }, ports: [{ port: 80, nodePort: oldPort }] } } });
    proxy.release();
    const told = await hh.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes('changed'), 'the URL-changed reply');
    const newUrl = /<(http[^|>]+)>/.exec(String(told.args.text))?.[1];
    expect(newUrl).toBeDefined();
    expect(Number(new URL(newUrl!).port)).not.toBe(oldPort);
    await waitFor(async () => 'status' in (await openUrl(newUrl!)), { what: `${newUrl} to answer` });
    await hh.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && shownText(c).includes(newUrl!), 'the root showing the new URL');
    expect(hh.slack.find('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).includes('changed'))).toHaveLength(1);
  }, 120_000);
});

describe('a channel Slack is holding back', () => {
  test('the root message refused with Retry-After 120: the person is told to try again in a minute (not to invite the bot), and nothing is created', async () => {
    h = await startBotHarness('busy-channel');
    h.slack.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 120 }, { times: 1, when: (a) => !a.thread_ts && String(a.text).includes('`busy`') });
    const res = await h.slash('up -n busy -c example/app:1 -p 80');
    expect(res.status).toBe(200);
    const said = await h.slack.waitFor('response_url', (c) => c.tag === res.tag && String(c.args.text).includes('busy'), 'the answer to the person');
    expect(String(said.args.text)).toContain('Slack is not taking my messages in this channel right now');
    expect(String(said.args.text)).not.toContain('Invite me');
    expect(await h.deploymentExists('busy')).toBe(false);
  }, 60_000);
});

describe('the API server stops in the middle of a launch from Slack', () => {
  test('stopped right after the Deployment is made, then started: nothing is left, the thread says it failed, and never Ready', async () => {
    const proxy = await FaultProxy.start(kubeConfig());
    others.push(proxy);
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      write: (line) => {
        lines.push(line);
        // Down right after the Deployment is made; back once the undo has found it down.
        if (line.includes('"created the Deployment"') && line.includes('"halfway"')) proxy.cut();
        if (line.includes('could not undo a failed launch yet')) proxy.heal();
      },
    });
    h = await startBotHarness('api-down-mid-up', { kubeConfig: proxy.kubeConfigThrough(kubeConfig()), log });
    const hh = h;
    expect((await hh.slash('up -n halfway -c example/app:1 -p 80')).status).toBe(200);
    const root = await hh.slack.waitFor('chat.postMessage', isRoot('halfway'), 'the root message');
    const failed = await hh.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && !String(c.args.text).startsWith('Ready:'), 'the failure reply');
    expect(String(failed.args.text)).toMatch(/cannot reach Kubernetes/);
    await waitFor(async () => !(await hh.deploymentExists('halfway')) && !(await hh.serviceExists('halfway')), { what: 'nothing of "halfway" to be left' });
    // Launch again under the name and let it be Ready: by then the failed launch's thread has
    // heard all it ever will. It never says Ready, and the root still says it failed.
    await launchFromSlack(hh, 'after-it');
    // The thread holds the failure, and nothing after it: no Ready, no "torn down by someone".
    expect(hh.slack.find('chat.postMessage', inThread(root))).toEqual([failed]);
    // The root said it failed, and never went back to "launching" after that.
    const roots = hh.slack.find('chat.update', (c) => c.args.ts === root.result.ts).map((c) => String(c.args.text));
    const firstFailed = roots.findIndex((t) => t.includes('failed'));
    expect(firstFailed).toBeGreaterThanOrEqual(0);
    expect(roots.slice(firstFailed).filter((t) => !t.includes('failed'))).toEqual([]);
  }, 120_000);
});
