/**
 * Extend and --ttl outside Slack: POST /system/start's `ttl`, POST /system/extend (derived from
 * the extend command's REST binding), and `tycho up --ttl` / `tycho extend` in direct and remote
 * mode, which answer alike. The server's maximum (TYCHO_MAX_TTL) is a day here.
 */
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { ANN_DELETED_BY, ANN_EXPIRES, EXPIRED_BY } from '../../src/k8s/labels.js';
import { AlreadyTerminating } from '../../src/k8s/errors.js';
import { writeExtendedExpiry } from '../../src/k8s/extend-expiry.js';
import { kubeConfig, waitFor } from '../support/cluster.js';
import { call, objectsIn, originalBody, serverInFreshNamespace, TOKEN } from '../api/helpers.js';
import { errorLine, tycho } from './run-cli.js';

const live = serverInFreshNamespace('cli-extend', { token: TOKEN, env: { TYCHO_MAX_TTL: '1d', TYCHO_DEFAULT_TTL: '2h' } });
const apps = kubeConfig().makeApiClient(AppsV1Api);
const core = kubeConfig().makeApiClient(CoreV1Api);
const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
const HOUR = 3600_000;

const direct = (args: string[]) => tycho(args, { KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: live.ns, TYCHO_OWNER: 'carol', TYCHO_MAX_TTL: '1d', TYCHO_DEFAULT_TTL: '2h' });
const remote = (args: string[]) => tycho([...args, '-s', live.server.url], { TYCHO_OWNER: 'carol', TYCHO_API_TOKEN: TOKEN });
const expiresOf = async (name: string) => (await apps.readNamespacedDeployment({ namespace: live.ns, name })).metadata?.annotations?.[ANN_EXPIRES];

describe('REST', () => {
  it('start takes a ttl; extend moves the expiry by its ttl, refuses one over the maximum naming the setting, and says 404 for an unknown name', async () => {
    const before = Date.now();
    const started = await call(live.server.url, '/system/start?wait=false', { ...originalBody('rest-ttl'), ttl: '3h' }, auth);
    expect(started.status).toBe(201);
    const first = (await expiresOf('rest-ttl'))!;
    expect(Date.parse(first) - before).toBeGreaterThanOrEqual(3 * HOUR);
    expect(Date.parse(first) - before).toBeLessThan(3 * HOUR + 60_000);

    const extended = await call(live.server.url, '/system/extend', { name: 'rest-ttl', ttl: '1h' }, auth);
    expect(extended.status).toBe(200);
    expect(extended.json.result).toEqual({ name: 'rest-ttl', expires: new Date(Date.parse(first) + HOUR).toISOString(), capped: false });
    expect(await expiresOf('rest-ttl')).toBe(extended.json.result.expires);

    const tooLong = await call(live.server.url, '/system/extend', { name: 'rest-ttl', ttl: '2d' }, auth);
    expect(tooLong.status).toBe(400);
    expect(tooLong.json.result.error).toBe("A --ttl of 2d is longer than the 1d a system may live here (the operator's setting TYCHO_MAX_TTL); ask for less.");
    expect(await expiresOf('rest-ttl')).toBe(extended.json.result.expires);

    const badForm = await call(live.server.url, '/system/extend', { name: 'rest-ttl', ttl: 'soon' }, auth);
    expect(badForm.status).toBe(400);
    const unknown = await call(live.server.url, '/system/extend', { name: 'no-such-system' }, auth);
    expect(unknown.status).toBe(404);

    const overMax = await call(live.server.url, '/system/start?wait=false', { ...originalBody('rest-long'), ttl: '2d' }, auth);
    expect(overMax.status).toBe(400);
    expect((await objectsIn(live.ns)).some((o) => o.includes('rest-long'))).toBe(false);
  });
});

describe('CLI', () => {
  it.each([
    ['direct', direct],
    ['remote', remote],
  ])('%s: up --ttl sets the expiry, extend moves it and prints it, a --ttl over the maximum is refused (exit 2)', async (mode, run) => {
    const name = `cli-${mode}`;
    const before = Date.now();
    const up = await run(['up', '-n', name, '-c', 'nginx', '-p', '80', '--ttl', '90m', '--no-wait']);
    expect(up.code).toBe(0);
    const first = (await expiresOf(name))!;
    expect(Date.parse(first) - before).toBeGreaterThanOrEqual(90 * 60_000);

    const ext = await run(['extend', '-n', name]);
    expect(ext.code).toBe(0);
    const moved = new Date(Date.parse(first) + 2 * HOUR).toISOString();
    expect(ext.stdout).toBe(`Extended ${name}: it now expires at ${moved}.\n`);
    expect(await expiresOf(name)).toBe(moved);

    const json = await run(['extend', '-n', name, '--ttl', '30m', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ name, expires: new Date(Date.parse(moved) + 30 * 60_000).toISOString(), capped: false });

    const tooLong = await run(['extend', '-n', name, '--ttl', '2d']);
    expect(tooLong.code).toBe(2);
    expect(errorLine(tooLong)).toBe("tycho: A --ttl of 2d is longer than the 1d a system may live here (the operator's setting TYCHO_MAX_TTL); ask for less.");
  });
});

/** A finalizer of the test's own: a deleted Deployment stays (deletionTimestamp set) until the test lets it go. */
const HOLD = 'tycho.test/hold';
const mergePatch = (name: string, body: object) => apps.patchNamespacedDeployment({ namespace: live.ns, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
const refusedAudits = async (name: string) =>
  (await core.listNamespacedEvent({ namespace: live.ns, fieldSelector: `involvedObject.kind=Deployment,involvedObject.name=${name}` })).items
    .filter((e) => e.reason === 'Refused' && e.message?.startsWith('extend by '))
    .map((e) => e.message);

describe('a system on its way out', () => {
  it('marked by the reaper (deleted-by tycho:expiry) or being deleted, it cannot be extended: REST 409 already_terminating, CLI exit 11, audited as refused; the expiry stays and it is removed', async () => {
    for (const name of ['doomed-expired', 'doomed-deleted']) {
      expect((await call(live.server.url, '/system/start?wait=false', { ...originalBody(name), ttl: '3h' }, auth)).status).toBe(201);
    }
    // As the reaper marks an expired system before it removes it; the finalizer keeps both
    // Deployments after their delete, as a Foreground deletion does while the pods go.
    await mergePatch('doomed-expired', { metadata: { finalizers: [HOLD], annotations: { [ANN_DELETED_BY]: EXPIRED_BY } } });
    await mergePatch('doomed-deleted', { metadata: { finalizers: [HOLD] } });
    await apps.deleteNamespacedDeployment({ namespace: live.ns, name: 'doomed-deleted' });
    const expired = '"doomed-expired" has expired and is being removed; it can no longer be extended.';
    const deleted = '"doomed-deleted" is already being torn down; it can no longer be extended.';

    for (const [name, sentence] of [['doomed-expired', expired], ['doomed-deleted', deleted]] as const) {
      const first = (await expiresOf(name))!;
      const rest = await call(live.server.url, '/system/extend', { name, ttl: '1h' }, auth);
      expect(rest.status).toBe(409);
      expect(rest.json.result).toEqual({ code: 'already_terminating', error: sentence });
      for (const run of [direct, remote]) {
        const cli = await run(['extend', '-n', name]);
        expect(cli.code).toBe(11);
        expect(errorLine(cli)).toBe(`tycho: ${sentence}`);
      }
      expect(await expiresOf(name)).toBe(first);
      // The server's refusal and the direct CLI's: audited as refused, with their own rule.
      await waitFor(async () => (await refusedAudits(name)).length >= 2, { what: `the refusals of extending ${name} audited` });
      for (const m of await refusedAudits(name)) expect(m).toContain(`refused (already_terminating); rule: already_terminating. ${sentence}`);
    }

    // The reaper's removal goes on (here: the delete it makes once marked), and nothing holds it back.
    await apps.deleteNamespacedDeployment({ namespace: live.ns, name: 'doomed-expired' });
    for (const name of ['doomed-expired', 'doomed-deleted']) {
      await apps.patchNamespacedDeployment({ namespace: live.ns, name, body: [{ op: 'remove', path: '/metadata/finalizers' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    }
    await waitFor(async () => !(await objectsIn(live.ns)).some((o) => o.includes('doomed-')), { what: 'both systems removed', timeoutMs: 60_000 });
  });

  it('a mark written between the read and the write of an extend is not lost: the write fails on the changed resourceVersion, the read after it refuses', async () => {
    expect((await call(live.server.url, '/system/start?wait=false', { ...originalBody('doomed-race'), ttl: '3h' }, auth)).status).toBe(201);
    // What an extend read (the live view's copy, or its own read) just before the reaper marked it.
    const read = await apps.readNamespacedDeployment({ namespace: live.ns, name: 'doomed-race' });
    const first = read.metadata!.annotations![ANN_EXPIRES]!;
    await mergePatch('doomed-race', { metadata: { annotations: { [ANN_DELETED_BY]: EXPIRED_BY } } });
    const later = new Date(Date.parse(first) + HOUR).toISOString();
    const write = writeExtendedExpiry(apps, live.ns, 'doomed-race', () => ({ expires: later }), read);
    await expect(write).rejects.toBeInstanceOf(AlreadyTerminating);
    await expect(write).rejects.toThrow('"doomed-race" has expired and is being removed; it can no longer be extended.');
    expect(await expiresOf('doomed-race')).toBe(first);
    await apps.deleteNamespacedDeployment({ namespace: live.ns, name: 'doomed-race' });
  });
});
