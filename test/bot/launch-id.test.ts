/**
 * Following one launch through the log: a real server process (what the image runs), Slack in
 * HTTP mode, its JSON lines read from stdout. The lines of one `/tycho up` from the slash
 * command, the launcher and the Slack reconciler all carry the same launch id, that id is on the
 * Deployment (so another replica's reconciler logs it too), and another launch has its own.
 */
import { afterAll, expect, test } from '@jest/globals';
import { AppsV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { ANN_LAUNCH_ID } from '../../src/k8s/labels.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { FakeSlack, type SlackCall } from '../support/fake-slack.js';
import { ServerProcess, type LogLine } from '../support/server-process.js';
import { postToSlackEndpoint, slashCommandBody } from '../support/slack-signing.js';
import { ALICE, TEAM_CHANNEL } from './harness.js';

const SECRET = randomBytes(16).toString('hex');
let server: ServerProcess | undefined;
let slack: FakeSlack | undefined;
afterAll(async () => {
  await server?.stop();
  await slack?.stop();
});

const isRoot = (name: string) => (c: SlackCall) => c.args.channel === TEAM_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`is launching \`${name}\``);
const isReadyReply = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:');

test("one Slack launch's lines, from the slash command to the Ready reply, carry one launch id, which is on its Deployment", async () => {
  const ns = await createTestNamespace('launch-id');
  slack = await FakeSlack.start();
  const fake = slack;
  server = await ServerProcess.start('traced', {
    KUBECONFIG: process.env.TYCHO_TEST_KUBECONFIG ?? process.env.KUBECONFIG ?? '',
    TYCHO_NAMESPACE: ns,
    SLACK_BOT_TOKEN: 'xoxb-test-0000-not-a-real-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: fake.apiUrl,
  });
  const p = server;
  for (const name of ['traced-a', 'traced-b']) {
    const body = slashCommandBody({ text: `up -n ${name} -c nginx -p 80`, user_id: ALICE, channel_id: TEAM_CHANNEL, response_url: fake.responseUrl(name) });
    expect((await postToSlackEndpoint(p.eventsUrl, body, { secret: SECRET })).status).toBe(200);
  }
  for (const name of ['traced-a', 'traced-b']) {
    const root = await fake.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
    await fake.waitFor('chat.postMessage', isReadyReply(root), `the Ready reply of ${name}`);
    await p.waitForLog((l) => l.msg === 'posted the Ready reply' && l.system === name, `the reconciler's Ready line for ${name}`);
  }

  const apps = kubeConfig().makeApiClient(AppsV1Api);
  const idOf = async (name: string) => (await apps.readNamespacedDeployment({ namespace: ns, name })).metadata?.annotations?.[ANN_LAUNCH_ID];
  const id = await idOf('traced-a');
  expect(id).toMatch(/^[0-9a-f]{12}$/);
  expect(await idOf('traced-b')).not.toBe(id);

  const traced = p.lines.filter((l) => l.launchId === id);
  const said = (component: string) => traced.filter((l) => l.component === component).map((l) => l.msg);
  expect(said('slack')).toContain('launch requested');
  expect(said('launcher')).toEqual(expect.arrayContaining(['launching', 'created the Deployment', 'created the Service']));
  expect(said('reconciler')).toContain('posted the Ready reply');
  // Nothing of the other launch under this id; the slash command's line also names its request.
  expect(traced.filter((l) => l.system !== 'traced-a')).toEqual([]);
  const requested = traced.find((l) => l.msg === 'launch requested') as LogLine;
  expect(requested.reqId).toMatch(/^[0-9a-f]{12}$/);
});
