/**
 * Extend and --ttl outside Slack: POST /system/start's `ttl`, POST /system/extend (derived from
 * the extend command's REST binding), and `tycho up --ttl` / `tycho extend` in direct and remote
 * mode, which answer alike. The server's maximum (TYCHO_MAX_TTL) is a day here.
 */
import { AppsV1Api } from '@kubernetes/client-node';
import { ANN_EXPIRES } from '../../src/k8s/labels.js';
import { kubeConfig } from '../support/cluster.js';
import { call, objectsIn, originalBody, serverInFreshNamespace, TOKEN } from '../api/helpers.js';
import { errorLine, tycho } from './run-cli.js';

const live = serverInFreshNamespace('cli-extend', { token: TOKEN, env: { TYCHO_MAX_TTL: '1d', TYCHO_DEFAULT_TTL: '2h' } });
const apps = kubeConfig().makeApiClient(AppsV1Api);
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
