/**
 * The policy matrix (issue 17): each rule of a policy file, allowed and refused, through each
 * front end (the Slack slash command, the Tear down button, REST, the CLI in direct mode), on one
 * running Tycho. Each refusal: what the person sees (one sentence naming the rule), that nothing
 * was created or removed, and exactly one audit line. Allowed actions leave one audit line too,
 * and an Event on their Deployment; neither holds an env value.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry } from '../../src/audit.js';
import { createLogger } from '../../src/log.js';
import type { SlackCall } from '../support/fake-slack.js';
import { waitFor } from '../support/cluster.js';
import { call } from '../api/helpers.js';
import { errorLine, tycho } from '../cli/run-cli.js';
import { ADMIN, ALICE, BOB, NOTIFY_CHANNEL, shownText, startBotHarness, TEAM_CHANNEL, type BotHarness } from './harness.js';

const CAROL = 'U0CAROL001'; // in the workspace, not among users.allow
const OTHER_CHANNEL = 'C0OTHER001'; // the bot is there, but it is not among channels.allow

const POLICY = `
channels: { allow: [${TEAM_CHANNEL}] }
users: { allow: [${ALICE}, ${BOB}] }
images: { allow: [docker.io/library/nginx] }
systems: { maxPerUser: 1, maxTotal: 3 }
list: { scope: channel }
`;
const policyFile = join(mkdtempSync(join(tmpdir(), 'tycho-matrix-')), 'policy.yaml');
writeFileSync(policyFile, POLICY);

let h: BotHarness;
const logLines: string[] = [];
beforeAll(async () => {
  h = await startBotHarness('policy-matrix', { env: { TYCHO_POLICY_FILE: policyFile }, log: createLogger({ level: 'info', write: (line) => logLines.push(line) }) });
});
afterAll(async () => {
  await h?.stop();
});

const audits = (): AuditEntry[] => logLines.map((l) => JSON.parse(l) as { msg: string; audit?: AuditEntry }).filter((l) => l.msg === 'audit').map((l) => l.audit!);
const auditLinesOf = (system: string) => logLines.filter((l) => l.includes('"msg":"audit"') && l.includes(`"system":"${system}"`));

/** What each front end shows a person, and how it answered (HTTP status, exit code). */
interface Seen {
  text: string;
  status?: number;
  /** REST: the envelope's error code. */
  code?: string;
}

const root = (name: string) => (c: SlackCall) => c.args.channel !== NOTIFY_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`\`${name}\``);

async function slash(text: string, user: string, channel = TEAM_CHANNEL): Promise<Seen> {
  const r = await h.slash(text, { user, channel });
  // Refused in the ack, or (a down) answered through response_url once the owner was read.
  if (r.json?.text) return { text: String(r.json.text) };
  return { text: shownText(await h.slack.waitFor('response_url', (c) => c.tag === r.tag, `the answer to ${text}`)) };
}

/** A click on the Tear down button of NAME's message; a refusal is told to the clicker alone (a teardown is told in the thread). */
async function click(name: string, user: string, channel = TEAM_CHANNEL): Promise<Seen> {
  const message = h.slack.find('chat.postMessage', root(name))[0]!;
  const at = channel === message.args.channel ? message : { ...message, args: { ...message.args, channel } };
  const r = await h.click({ user, message: at, action: 'tycho_teardown', value: name });
  if (user === ADMIN) return { text: '' };
  return { text: shownText(await h.slack.waitFor('response_url', (c) => c.tag === r.tag, `the answer to ${user}'s click on ${name}`)) };
}

async function rest(owner: string, body: Record<string, unknown>): Promise<Seen> {
  const a = await call(h.tycho.url, '/system/start?wait=false', body, { headers: { 'X-Tycho-Owner': owner } });
  return { text: String(a.json?.message), status: a.status, ...(a.json?.result?.code ? { code: a.json.result.code } : {}) };
}

async function cli(owner: string, args: string[]): Promise<Seen> {
  const r = await tycho(args, { KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: h.namespace, TYCHO_OWNER: owner, TYCHO_POLICY_FILE: policyFile });
  return { text: r.code === 0 ? r.stdout : errorLine(r), status: r.code };
}

const inView = (name: string) => waitFor(() => h.tycho.launcher.list().then((l) => l.some((s) => s.name === name)), { what: `${name} in the live view` });

describe('allowed: within every rule, from each front end', () => {
  test('Slack: an allowed user in an allowed channel launches an allowed image; one audit line, an Event, no env value', async () => {
    const seen = await h.slash('up -n pm-alice -c nginx -p 80 -e GREETING=plain-hello-value', { user: ALICE });
    expect(seen.status).toBe(200);
    await inView('pm-alice');
    await waitFor(() => auditLinesOf('pm-alice').length > 0, { what: 'the audit line of the launch' });
    expect(audits().filter((a) => a.system === 'pm-alice')).toEqual([
      { action: 'up', who: `slack:${ALICE}`, via: 'slack', channel: TEAM_CHANNEL, system: 'pm-alice', image: 'nginx', rule: 'policy', result: 'done' },
    ]);
    expect(auditLinesOf('pm-alice').join('\n')).not.toContain('plain-hello-value');
  });

  test('REST: a portal launches for the person it names', async () => {
    expect(await rest('portal-pat', { name: 'pm-rest', containers: [{ image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] })).toMatchObject({ status: 201 });
    await inView('pm-rest');
  });

  test('CLI (direct mode): the same policy file applies to the kubeconfig holder', async () => {
    expect(await cli('dana', ['up', '-n', 'pm-cli', '-c', 'docker.io/library/nginx', '-p', '80', '--no-wait'])).toMatchObject({ status: 0 });
    await inView('pm-cli');
  });

  test('list.scope channel: Slack lists the systems launched from the asking channel; REST lists every one', async () => {
    const listed = await h.slash('list', { user: ALICE });
    const text = shownText(await h.slack.waitFor('response_url', (c) => c.tag === listed.tag, 'the list'));
    expect(text).toContain('pm-alice');
    expect(text).not.toContain('pm-rest');
    expect(text).not.toContain('pm-cli');
    const all = await call(h.tycho.url, '/system/status', {});
    expect(all.json.result.map((s: { name: string }) => s.name).sort()).toEqual(['pm-alice', 'pm-cli', 'pm-rest']);
  });
});

/**
 * Front end, what is done, what the person sees, the rule, the system asked for. The CLI in
 * direct mode talks to Kubernetes itself: no Tycho server sees it, so it writes no audit line.
 */
const REFUSALS: [string, () => Promise<Seen>, RegExp, string, string][] = [
  ['slack', () => slash('up -n pm-chan -c nginx -p 80', ALICE, OTHER_CHANNEL), /^:no_entry: Tycho does not take commands in this channel; .*\(policy: `channels\.allow`\)\.$/, 'channels.allow', 'pm-chan'],
  ['slack', () => slash('up -n pm-user -c nginx -p 80', CAROL), /^:no_entry: You are not among the people who may use Tycho here; .*\(policy: `users\.allow`\)\.$/, 'users.allow', 'pm-user'],
  ['slack', () => slash('up -n pm-image -c ghcr.io/evil/miner -p 80', ALICE), /^:no_entry: Images must come from `docker\.io\/library\/nginx` \(policy: `images\.allow`\)\.$/, 'images.allow', 'pm-image'],
  ['slack (an admin)', () => slash('up -n pm-admin-image -c ghcr.io/evil/miner -p 80', ADMIN), /\(policy: `images\.allow`\)\.$/, 'images.allow', 'pm-admin-image'],
  ['slack', () => slash('up -n pm-second -c nginx -p 80', ALICE), /^:no_entry: You already have 1 system, the most one person may have here; .*\(policy: `systems\.maxPerUser`\)\.$/, 'systems.maxPerUser', 'pm-second'],
  ['slack', () => slash('up -n pm-bob -c nginx -p 80', BOB), /^:no_entry: Tycho already runs 3 systems, the most it may run here; .*\(policy: `systems\.maxTotal`\)\.$/, 'systems.maxTotal', 'pm-bob'],
  ['rest', () => rest('portal-quinn', { name: 'pm-rest-image', containers: [{ image: 'ghcr.io/evil/miner', ports: [{ containerPort: 80 }] }] }), /^Images must come from docker\.io\/library\/nginx \(policy: images\.allow\)\.$/, 'images.allow', 'pm-rest-image'],
  ['rest', () => rest('portal-pat', { name: 'pm-rest-second', containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] }), /\(policy: systems\.maxPerUser\)\.$/, 'systems.maxPerUser', 'pm-rest-second'],
  ['rest', () => rest('portal-quinn', { name: 'pm-rest-third', containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] }), /\(policy: systems\.maxTotal\)\.$/, 'systems.maxTotal', 'pm-rest-third'],
  ['cli', () => cli('erin', ['up', '-n', 'pm-cli-image', '-c', 'ghcr.io/evil/miner', '-p', '80', '--no-wait']), /^tycho: Images must come from docker\.io\/library\/nginx \(policy: images\.allow\)\.$/, 'images.allow', 'pm-cli-image'],
  ['cli', () => cli('dana', ['up', '-n', 'pm-cli-second', '-c', 'nginx', '-p', '80', '--no-wait']), /^tycho: .*\(policy: systems\.maxPerUser\)\.$/, 'systems.maxPerUser', 'pm-cli-second'],
  ['cli', () => cli('erin', ['up', '-n', 'pm-cli-third', '-c', 'nginx', '-p', '80', '--no-wait']), /^tycho: .*\(policy: systems\.maxTotal\)\.$/, 'systems.maxTotal', 'pm-cli-third'],
];

describe('refused launches: one sentence naming the rule, nothing created, one audit line', () => {
  test.each(REFUSALS)('%s: %#', async (frontEnd, act, sees, rule, system) => {
    const seen = await act();
    expect(seen.text).toMatch(sees);
    if (frontEnd === 'rest') expect(seen).toMatchObject({ status: 403, code: 'policy' });
    if (frontEnd === 'cli') expect(seen.status).toBe(5);
    expect(await h.deploymentExists(system)).toBe(false);
    expect(await h.serviceExists(system)).toBe(false);
    // Written before the person is answered: the refusal is already in the log, once.
    const expected = frontEnd === 'cli' ? [] : [expect.objectContaining({ action: 'up', rule, result: 'refused', code: 'policy' })];
    expect(audits().filter((a) => a.system === system)).toEqual(expected);
  });

  test('no Slack message was posted for any refused launch', () => {
    for (const [, , , , system] of REFUSALS) expect(h.slack.find('chat.postMessage', root(system))).toEqual([]);
  });
});

describe('changing a system: owner or admin, and the channel and user rules, on commands and buttons', () => {
  const TEARDOWN_REFUSALS: [string, () => Promise<Seen>, RegExp, string, string, string][] = [
    ['slash command, not the owner', () => slash('down -n pm-alice', BOB), /Only .* or an admin can tear down/, 'owner', `slack:${BOB}`, 'slack'],
    ['button, not the owner', () => click('pm-alice', BOB), /Only .* or an admin can tear down/, 'owner', `slack:${BOB}`, 'slack-button'],
    ['button, not an allowed user', () => click('pm-alice', CAROL), /\(policy: `users\.allow`\)\./, 'users.allow', `slack:${CAROL}`, 'slack-button'],
    ['button, not an allowed channel', () => click('pm-alice', ALICE, OTHER_CHANNEL), /\(policy: `channels\.allow`\)\./, 'channels.allow', `slack:${ALICE}`, 'slack-button'],
  ];
  test.each(TEARDOWN_REFUSALS)('%s: refused, the system stays, one audit line', async (_what, act, sees, rule, who, via) => {
    const before = audits().filter((a) => a.system === 'pm-alice').length;
    expect((await act()).text).toMatch(sees);
    expect(await h.deploymentExists('pm-alice')).toBe(true);
    const mine = audits().filter((a) => a.system === 'pm-alice').slice(before);
    expect(mine).toEqual([expect.objectContaining({ action: 'down', who, via, rule, result: 'refused' })]);
  });

  test('an admin beyond the counts launches; an admin\'s click tears down; each is one audit line and an Event on the Deployment', async () => {
    await h.slash('up -n pm-admin -c nginx -p 80', { user: ADMIN });
    await inView('pm-admin');
    const uid = (await h.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'pm-alice' })).metadata!.uid!;
    await click('pm-alice', ADMIN);
    await waitFor(async () => !(await h.deploymentExists('pm-alice')), { what: 'pm-alice gone' });
    // Each line is written when its command has ended: a teardown ends after the Deployment is
    // gone (its pods and Service too), and a launch from Slack after its creates.
    await waitFor(() => audits().some((a) => a.system === 'pm-alice' && a.action === 'down' && a.result !== 'refused'), { what: "the audit line of pm-alice's teardown" });
    await waitFor(() => audits().some((a) => a.system === 'pm-admin' && a.action === 'up'), { what: "the audit line of pm-admin's launch" });
    expect(audits().filter((a) => a.system === 'pm-admin')).toEqual([expect.objectContaining({ action: 'up', who: `slack:${ADMIN}`, rule: 'admins', result: 'done' })]);
    expect(audits().filter((a) => a.system === 'pm-alice' && a.result === 'done')).toEqual([
      expect.objectContaining({ action: 'up', who: `slack:${ALICE}` }),
      expect.objectContaining({ action: 'down', who: `slack:${ADMIN}`, via: 'slack-button', rule: 'admins' }),
    ]);

    // Kubernetes Events on pm-alice's Deployment: its launch, the four refusals, the teardown.
    const events = await waitFor(async () => {
      const list = await h.core.listNamespacedEvent({ namespace: h.namespace, fieldSelector: `involvedObject.name=pm-alice,involvedObject.kind=Deployment` });
      const ours = list.items.filter((e) => e.source?.component === 'tycho');
      return ours.length >= 6 ? ours : undefined;
    }, { what: 'the Events on pm-alice' });
    expect(events.map((e) => e.involvedObject.uid)).toEqual(events.map(() => uid));
    expect(events.map((e) => e.reason).sort()).toEqual(['Launched', 'Refused', 'Refused', 'Refused', 'Refused', 'TornDown']);
    expect(events.find((e) => e.reason === 'TornDown')?.message).toBe(`down by slack:${ADMIN} via slack-button in ${TEAM_CHANNEL}: done; rule: admins`);
    expect(events.find((e) => e.reason === 'Launched')?.type).toBe('Normal');
    expect(JSON.stringify(events)).not.toContain('plain-hello-value');
  });
});
