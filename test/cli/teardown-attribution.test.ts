/**
 * Who tore a system down, as each front end records it: a system launched from Slack and torn
 * down with the CLI (on the kubeconfig, or through the server with -s URL) or over REST gets
 * a closing reply in its thread that names that person, read from the Deployment's
 * `deleted-by` annotation, which the DELETED event carries.
 */
import { Watch, type V1Deployment } from '@kubernetes/client-node';
import { ANN_DELETED_BY, ANN_OWNER, ANN_OWNER_ID } from '../../src/k8s/labels.js';
import { OWNER_HEADER } from '../../src/api/wire.js';
import type { SlackCall } from '../support/fake-slack.js';
import { kubeConfig } from '../support/cluster.js';
import { call } from '../api/helpers.js';
import { startBotHarness, type BotHarness, NOTIFY_CHANNEL } from '../bot/harness.js';
import { errorLine, tycho } from './run-cli.js';

let h: BotHarness;
/** The annotations each Deployment carried in its DELETED event, by name. */
const deleted = new Map<string, Record<string, string>>();
let stopWatch: AbortController | undefined;

beforeAll(async () => {
  h = await startBotHarness('cli-by');
  stopWatch = await new Watch(kubeConfig()).watch(
    `/apis/apps/v1/namespaces/${h.namespace}/deployments`,
    {},
    (type: string, d: V1Deployment) => {
      if (type === 'DELETED') deleted.set(d.metadata!.name!, d.metadata?.annotations ?? {});
    },
    () => undefined,
  );
});

afterAll(async () => {
  stopWatch?.abort();
  await h?.stop();
});

const isRoot = (name: string) => (c: SlackCall) => c.args.channel !== NOTIFY_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`is launching \`${name}\``);

/** `/tycho up` from Slack, until its Ready reply; the root message it went under. */
async function launchedFromSlack(name: string): Promise<SlackCall> {
  await h.slash(`up -n ${name} -c nginx -p 80`);
  const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
  return root;
}

/** The closing reply in the system's thread. */
function closingReply(root: SlackCall): Promise<SlackCall> {
  return h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Torn down by'), 'the closing reply');
}

const direct = (args: string[], owner = 'carol') => tycho(args, { KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: h.namespace, TYCHO_OWNER: owner });
const remote = (args: string[], owner = 'dave') => tycho([...args, '-s', h.tycho.url], { TYCHO_OWNER: owner });

describe('a CLI `down` of a Slack-launched system: the closing reply names the CLI user', () => {
  it('direct mode (the kubeconfig) records cli:USER', async () => {
    const root = await launchedFromSlack('by-direct');
    const down = await direct(['down', 'by-direct']);
    expect([down.code, down.stdout]).toEqual([0, 'Deleted system by-direct\n']);
    expect(String((await closingReply(root)).args.text)).toBe('Torn down by carol.');
    expect(deleted.get('by-direct')?.[ANN_DELETED_BY]).toBe('cli:carol');
  });

  it('remote mode (-s URL) sends the user as X-Tycho-Owner, which the server records', async () => {
    const root = await launchedFromSlack('by-remote');
    const down = await remote(['down', 'by-remote']);
    expect([down.code, down.stdout]).toEqual([0, 'Deleted system by-remote\n']);
    expect(String((await closingReply(root)).args.text)).toBe('Torn down by dave.');
    expect(deleted.get('by-remote')?.[ANN_DELETED_BY]).toBe('api:dave');
  });

  it('remote `up` is owned by the CLI user too', async () => {
    expect((await remote(['up', '-n', 'up-remote', '-c', 'nginx', '-p', '80'], 'erin')).code).toBe(0);
    const status = await direct(['status', '-n', 'up-remote', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ owner: 'erin', origin: 'api' });
    const a = (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'up-remote' })).metadata!.annotations!;
    expect([a[ANN_OWNER], a[ANN_OWNER_ID]]).toEqual(['erin', 'api:erin']);
    expect((await direct(['down', 'up-remote'])).code).toBe(0);
  });

  it('an owner name that is not valid is refused in one sentence, before anything is asked of the cluster', async () => {
    for (const run of [direct, remote]) {
      const r = await run(['down', 'whatever'], 'carol smith');
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('tycho: TYCHO_OWNER "carol smith" is not a valid owner; use up to 64 letters, digits and . _ @ + -.\n');
    }
  });
});

describe('REST: X-Tycho-Owner on /system/delete', () => {
  it('names the caller in the closing reply', async () => {
    const root = await launchedFromSlack('by-rest');
    const r = await call(h.tycho.url, '/system/delete', { name: 'by-rest' }, { headers: { [OWNER_HEADER]: 'frank' } });
    expect(r.status).toBe(200);
    expect(String((await closingReply(root)).args.text)).toBe('Torn down by frank.');
    expect(deleted.get('by-rest')?.[ANN_DELETED_BY]).toBe('api:frank');
  });

  it('a value that is not a valid owner: 400, one sentence, and the system stays', async () => {
    expect((await direct(['up', '-n', 'kept', '-c', 'nginx', '-p', '80'])).code).toBe(0);
    const r = await call(h.tycho.url, '/system/delete', { name: 'kept' }, { headers: { [OWNER_HEADER]: 'a b' } });
    expect(r.status).toBe(400);
    expect(r.json.result.code).toBe('usage');
    expect(r.json.message).toMatch(/^The request is not valid: header\.X-Tycho-Owner: "a b" is not a valid owner; use up to 64 letters, digits and \. _ @ \+ -\.$/);
    expect(await h.deploymentExists('kept')).toBe(true);
    expect((await direct(['down', 'kept'])).code).toBe(0);
    expect(errorLine(await direct(['status', '-n', 'kept']))).toBe('tycho: There is no system named "kept".');
  });
});
