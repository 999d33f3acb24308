/**
 * `tycho ... -s URL`: the CLI driving a Tycho server over its REST API. For each command the
 * output and exit status must be those of direct mode (the CLI on the kubeconfig), so the
 * same question is asked both ways of the same cluster namespace and the answers compared.
 */
import { waitFor } from '../support/cluster.js';
import { objectsIn, serverInFreshNamespace, TOKEN } from '../api/helpers.js';
import { openUrl } from '../support/open-url.js';
import { errorLine, tycho, tychoBinary, withoutAges, type CliRun } from './run-cli.js';


const live = serverInFreshNamespace('cli-remote', { token: TOKEN });

const direct = (args: string[]) => tycho(args, { KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: live.ns, TYCHO_OWNER: 'carol' });
/** No kubeconfig at all: remote mode must not need one. */
const remote = (args: string[], env: { token?: string; url?: string } = {}) =>
  tycho([...args, '-s', env.url ?? live.server.url], { TYCHO_OWNER: 'carol', ...((env.token ?? TOKEN) ? { TYCHO_API_TOKEN: env.token ?? TOKEN } : {}) });

function expectSameFailure(a: CliRun, b: CliRun, code: number, words: RegExp): void {
  expect([a.code, b.code]).toEqual([code, code]);
  expect(errorLine(b)).toBe(errorLine(a));
  expect(errorLine(a)).toMatch(words);
  expect([a.stdout, b.stdout]).toEqual(['', '']);
}

describe('up, status, list and down give the output and exit codes of direct mode', () => {
  let directUrl: string;
  let remoteUrl: string;

  it('up prints the URL, which answers, and reports progress on stderr', async () => {
    const [d, r] = [await direct(['up', '-n', 'direct-app', '-c', 'nginx', '-p', '80']), await remote(['up', '-n', 'remote-app', '-c', 'nginx', '-p', '80', '-e', 'A=1', '--cpu', '0.3', '--memory', '512M'])];
    expect([d.code, r.code]).toEqual([0, 0]);
    directUrl = d.stdout.trim();
    remoteUrl = r.stdout.trim();
    for (const out of [d.stdout, r.stdout]) expect(out).toMatch(/^http:\/\/127\.0\.0\.1:\d+\n$/);
    expect(await openUrl(remoteUrl)).toMatchObject({ status: 200, body: expect.stringContaining('remote-app') });
    expect(await openUrl(directUrl)).toMatchObject({ status: 200 });
    for (const err of [d.stderr, r.stderr]) {
      expect(err.split('\n')[0]).toBe('… created, waiting for a node');
      expect(err.trim().split('\n').pop()).toBe('… ready');
    }
  });

  it('status and list print the same table, and status --json the same object', async () => {
    for (const args of [['status'], ['list'], ['status', '-n', 'remote-app'], ['status', 'direct-app']]) {
      const [d, r] = [await direct(args), await remote(args)];
      expect([d.code, r.code]).toEqual([0, 0]);
      expect(withoutAges(r.stdout)).toBe(withoutAges(d.stdout));
    }
    const table = (await remote(['status'])).stdout;
    expect(table).toMatch(/^NAME\s+STATE\s+URL\s+IMAGE\s+OWNER\s+AGE\n/);
    expect(table).toMatch(new RegExp(`remote-app\\s+ready\\s+${remoteUrl.replace(/\./g, '\\.')}\\s+nginx\\s+carol`));

    for (const args of [['status', '-n', 'remote-app', '--json'], ['status', '--json']]) {
      const [d, r] = [await direct(args), await remote(args)];
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(d.stdout));
    }
    // Started over the API, by the CLI's user: origin says which front end, owner says who.
    expect(JSON.parse((await remote(['status', '-n', 'remote-app', '--json'])).stdout)).toMatchObject({ owner: 'carol', origin: 'api', ready: true, url: remoteUrl, namespace: live.ns });
  });

  it('sends limits and env over the wire', async () => {
    const { AppsV1Api } = await import('@kubernetes/client-node');
    const { kubeConfig } = await import('../support/cluster.js');
    const dep = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: live.ns, name: 'remote-app' });
    const c = dep.spec!.template.spec!.containers[0]!;
    expect(c.env).toEqual([{ name: 'A', value: '1' }]);
    expect(c.resources!.limits).toEqual({ cpu: '300m', memory: '512M' });
  });

  it('fails the same way: unknown name (3), name in use (4), bad input (2), image that cannot be pulled (6)', async () => {
    expectSameFailure(await direct(['status', '-n', 'missing']), await remote(['status', '-n', 'missing']), 3, /^tycho: There is no system named "missing"\.$/);
    expectSameFailure(await direct(['down', '-n', 'missing']), await remote(['down', '-n', 'missing']), 3, /no system named "missing"/);
    expectSameFailure(await direct(['up', '-n', 'direct-app', '-c', 'nginx', '-p', '80']), await remote(['up', '-n', 'direct-app', '-c', 'nginx', '-p', '80']), 4, /already in use by carol since/);
    expectSameFailure(await direct(['up', '-n', 'Bad_Name', '-c', 'nginx', '-p', '80']), await remote(['up', '-n', 'Bad_Name', '-c', 'nginx', '-p', '80']), 2, /try "bad-name"/);

    const d = await direct(['up', '-n', 'pull-fails', '-c', 'example.org/pull-error', '-p', '80']);
    expect((await direct(['down', '-n', 'pull-fails'])).code).toBe(0);
    const r = await remote(['up', '-n', 'pull-fails', '-c', 'example.org/pull-error', '-p', '80']);
    expectSameFailure(d, r, 6, /could not be pulled.*ErrImagePull/);
    for (const run of [d, r]) expect(run.stderr).toContain('\nIt is left in place for inspection; remove it with: tycho down pull-fails\n');
    expect((await remote(['down', '-n', 'pull-fails'])).code).toBe(0);

    const [dj, rj] = [await direct(['status', '-n', 'missing', '--json']), await remote(['status', '-n', 'missing', '--json'])];
    expect([dj.code, rj.code]).toEqual([3, 3]);
    expect(JSON.parse(rj.stdout)).toEqual(JSON.parse(dj.stdout));
  });

  it('down prints the same line, and everything is gone', async () => {
    const [d, r] = [await direct(['down', '-n', 'remote-app']), await remote(['down', '-n', 'direct-app'])];
    expect([d.code, r.code]).toEqual([0, 0]);
    expect(d.stdout).toBe('Deleted system remote-app\n');
    expect(r.stdout).toBe('Deleted system direct-app\n');
    await waitFor(async () => (await objectsIn(live.ns)).length === 0, { what: 'the namespace to be empty' });
    await waitFor(async () => 'refused' in (await openUrl(remoteUrl)) && 'refused' in (await openUrl(directUrl)), { what: 'both URLs to stop answering' });
    const [dl, rl] = [await direct(['list']), await remote(['list'])];
    expect([dl.stdout, rl.stdout]).toEqual(['No systems are running.\n', 'No systems are running.\n']);
  });
});

describe('remote mode on its own', () => {
  it('the built program reads TYCHO_URL and TYCHO_API_TOKEN from the environment', async () => {
    const env = { TYCHO_URL: live.server.url, TYCHO_API_TOKEN: TOKEN, TYCHO_OWNER: 'dave' };
    const up = await tychoBinary(['up', '-n', 'env-app', '-c', 'nginx', '-p', '80', '--json'], env);
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ name: 'env-app', ready: true, owner: 'dave', origin: 'api', namespace: live.ns });
    const down = await tychoBinary(['down', 'env-app', '--json'], env);
    expect([down.code, JSON.parse(down.stdout)]).toEqual([0, { name: 'env-app', deleted: true }]);
  });

  it('without the token, or with a wrong one: exit 5, saying to set TYCHO_API_TOKEN', async () => {
    const none = await tycho(['status', '-s', live.server.url], {});
    expect(none.code).toBe(5);
    expect(errorLine(none)).toMatch(/needs an API token.*TYCHO_API_TOKEN/);
    const wrong = await remote(['up', '-n', 'nope', '-c', 'nginx', '-p', '80'], { token: 'wrong-token-0123456789' });
    expect(wrong.code).toBe(5);
    expect(errorLine(wrong)).toMatch(/The API token is wrong/);
    expect(await objectsIn(live.ns)).toEqual([]);
  });

  it('a server that is not there: exit 8, naming the URL', async () => {
    const r = await remote(['list'], { url: 'http://127.0.0.1:1' });
    expect(r.code).toBe(8);
    expect(errorLine(r)).toMatch(/^tycho: Cannot reach the Tycho server at http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });

  it('something that is not a Tycho server: exit 8', async () => {
    // /healthz answers JSON, but not the envelope.
    const r = await remote(['list'], { url: `${live.server.url}/healthz` });
    expect(r.code).toBe(8);
    expect(errorLine(r)).toMatch(/did not answer like a Tycho server/);
  });
});
