/**
 * Fifty `up`s of ten names at once, half through REST and half through Slack: Kubernetes' 409 on
 * the Deployment create is the lock, so each name ends as exactly one system, and every requester
 * hears the truth: the winner that it started (a 201, or a Ready reply in its own thread), each
 * other that the name is in use and by whom. No thread says Ready for a system it did not make.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { ANN_OWNER_ID, ANN_SLACK_TS } from '../../src/k8s/labels.js';
import { OWNER_HEADER } from '../../src/api/wire.js';
import { call, type ApiAnswer } from '../api/helpers.js';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { ALICE, BOB, type BotHarness, isRoot, startBotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('concurrent-ups', { env: { TYCHO_READY_TIMEOUT: '90' } });
});
afterAll(async () => {
  await h?.stop();
});

const NAMES = Array.from({ length: 10 }, (_, i) => `race-${i}`);
const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;

interface Request {
  name: string;
  via: 'rest' | 'slack';
  who: string;
}

test('50 ups of 10 names leave exactly 10 systems, and every requester is told the truth', async () => {
  const requests: Request[] = [];
  for (let i = 0; i < 50; i++) {
    const via = i % 2 === 0 ? 'rest' : 'slack';
    requests.push({ name: NAMES[i % 10]!, via, who: via === 'rest' ? (i % 4 === 0 ? 'carol' : 'dave') : i % 4 === 1 ? ALICE : BOB });
  }
  const answers = await Promise.all(
    requests.map(async (r): Promise<ApiAnswer | undefined> => {
      if (r.via === 'slack') {
        expect((await h.slash(`up -n ${r.name} -c nginx -p 80`, { user: r.who })).status).toBe(200);
        return undefined;
      }
      return call(h.tycho.url, '/system/start', { name: r.name, containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] }, { headers: { [OWNER_HEADER]: r.who } });
    }),
  );

  // Every Slack request gets a root message, and its thread ends in Ready or in "already in use".
  const slackRequests = requests.filter((r) => r.via === 'slack');
  const roots = await waitFor(
    () => {
      const all = NAMES.flatMap((n) => h.slack.find('chat.postMessage', isRoot(n)));
      return all.length === slackRequests.length ? all : undefined;
    },
    { what: 'a root message for every Slack up', timeoutMs: 120_000 },
  );
  const endings = await waitFor(
    () => {
      const e = roots.map((root) => {
        const replies = h.slack.find('chat.postMessage', inThread(root)).map((c) => String(c.args.text));
        if (replies.some((t) => t.startsWith('Ready:'))) return { root, won: true, replies };
        if (replies.some((t) => t.includes('already in use'))) return { root, won: false, replies };
        return undefined;
      });
      return e.every((x) => x) ? e.map((x) => x!) : undefined;
    },
    { what: 'every Slack thread to end in Ready or name-in-use', timeoutMs: 120_000 },
  );

  const deployments = (await h.apps.listNamespacedDeployment({ namespace: h.namespace })).items;
  expect(deployments.map((d) => d.metadata!.name).sort()).toEqual([...NAMES].sort());

  for (const name of NAMES) {
    const d = deployments.find((x) => x.metadata!.name === name)!;
    const owner = d.metadata!.annotations![ANN_OWNER_ID]!;
    const restWinners = requests.flatMap((r, i) => (r.via === 'rest' && r.name === name && answers[i]!.status === 201 ? [r] : []));
    const slackWinners = endings.filter((e) => e.won && String(e.root.args.text).includes(`\`${name}\``));
    // Exactly one requester was told it started, and it is the system's owner.
    expect(restWinners.length + slackWinners.length).toBe(1);
    if (restWinners.length) expect(owner).toBe(`api:${restWinners[0]!.who}`);
    else {
      // The Ready thread is the one the system records as its own.
      expect(d.metadata!.annotations![ANN_SLACK_TS]).toBe(slackWinners[0]!.root.result.ts);
      expect(String(slackWinners[0]!.root.args.text)).toContain(`<@${owner.replace('slack:', '')}>`);
    }
    // Every REST loser was told the name is in use (409), and by whom.
    requests.forEach((r, i) => {
      if (r.via !== 'rest' || r.name !== name || answers[i]!.status === 201) return;
      expect([answers[i]!.status, answers[i]!.json?.result?.code]).toEqual([409, 'name_in_use']);
      expect(answers[i]!.json.message).toMatch(/already in use by \S+/);
    });
  }
  // Each Slack loser's thread names who holds the name and offers no Ready.
  for (const e of endings.filter((x) => !x.won)) expect(e.replies.some((t) => /already in use by/.test(t))).toBe(true);
}, 240_000);
