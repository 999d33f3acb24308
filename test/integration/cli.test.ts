/**
 * The `tycho` binary as a person runs it: a real process, the kubeconfig from the
 * environment, output on stdout/stderr and the exit status.
 */
import { execFile } from 'node:child_process';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { openUrl } from '../support/open-url.js';

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;
let ns: string;

function tycho(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: ns, TYCHO_OWNER: 'carol', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function namesInCluster(): Promise<string[]> {
  const kc = kubeConfig();
  const [d, s] = await Promise.all([
    kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns }),
    kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace: ns }),
  ]);
  return [...d.items, ...s.items].map((o) => o.metadata!.name!);
}

beforeAll(async () => {
  ns = await createTestNamespace('cli');
});

it('up prints the URL that answers; status and down follow', async () => {
  const up = await tycho(['up', '-n', 'hello', '-c', 'nginx', '-p', '80']);
  expect(up.stderr).toContain('… ready');
  expect(up.code).toBe(0);
  const url = up.stdout.trim();
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(await openUrl(url)).toMatchObject({ status: 200 });

  const status = await tycho(['status']);
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/^NAME\s+STATE\s+URL\s+IMAGE\s+OWNER\s+AGE/);
  expect(status.stdout).toMatch(new RegExp(`hello\\s+ready\\s+${url.replace(/[.]/g, '\\.')}\\s+nginx\\s+carol`));

  const json = await tycho(['status', '-n', 'hello', '--json']);
  expect(JSON.parse(json.stdout)).toMatchObject({ name: 'hello', url, ready: true, owner: 'carol', origin: 'cli' });

  const down = await tycho(['down', '-n', 'hello']);
  expect(down).toMatchObject({ code: 0, stdout: 'Deleted system hello\n' });
  expect(await namesInCluster()).toEqual([]);
});

it('--json up gives name, url and ready', async () => {
  const up = await tycho(['up', '-n', 'jsonic', '-c', 'nginx', '-p', '8080', '--json']);
  expect(up.code).toBe(0);
  expect(JSON.parse(up.stdout)).toMatchObject({ name: 'jsonic', ready: true, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
  expect((await tycho(['down', 'jsonic'])).code).toBe(0);
});

it('bad input: one sentence, the usage, exit 2, nothing created', async () => {
  const r = await tycho(['up', '-n', 'Bad_Name', '-c', 'nginx', '-p', '80']);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(
    'tycho: The name "Bad_Name" has upper-case letters, and names must be lower case; try "bad-name".\n' +
      'Usage: tycho up -n NAME -c IMAGE -p PORT [--command "CMD ARGS"] [-e KEY=VALUE]... [--secret-env KEY=VALUE]... [--cpu 500m] [--memory 1Gi] [--gpu 1] [--expose MODE] [--volume CLAIM:/path[:ro]]... [--ttl 2h]\n',
  );
  expect(await namesInCluster()).toEqual([]);
});

it('distinct exit statuses for a missing system, a name in use and a failed pull', async () => {
  const missing = await tycho(['down', '-n', 'ghost']);
  expect(missing).toMatchObject({ code: 3, stderr: 'tycho: There is no system named "ghost".\n' });

  expect((await tycho(['up', '-n', 'mine', '-c', 'nginx', '-p', '80'])).code).toBe(0);
  const clash = await tycho(['up', '-n', 'mine', '-c', 'nginx', '-p', '80'], { TYCHO_OWNER: 'dave' });
  expect(clash.code).toBe(4);
  expect(clash.stderr).toMatch(/^tycho: The name "mine" is already in use by carol since /);

  const pull = await tycho(['up', '-n', 'nopull', '-c', 'example.org/pull-error', '-p', '80', '--json']);
  expect(pull.code).toBe(6);
  expect(JSON.parse(pull.stdout)).toMatchObject({ error: { code: 'image_pull_failed', message: expect.stringContaining('could not be pulled') } });
  expect(pull.stderr).not.toMatch(/at .*\.js:\d+/);
  const pullText = await tycho(['up', '-n', 'nopull2', '-c', 'example.org/pull-error', '-p', '80']);
  expect(pullText.stderr.split('\n').slice(-3)).toEqual([
    expect.stringMatching(/^tycho: The image "example.org\/pull-error" could not be pulled/),
    'It is left in place for inspection; remove it with: tycho down nopull2',
    '',
  ]);
  await tycho(['down', 'nopull2']);
  await tycho(['down', 'mine']);
  await tycho(['down', 'nopull']);
});

it('help needs no cluster', async () => {
  const r = await tycho(['help'], { KUBECONFIG: '/nonexistent' });
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/tycho up -n NAME -c IMAGE -p PORT/);
});

it('an unreachable cluster is one sentence and exit 8', async () => {
  const r = await tycho(['list'], { KUBECONFIG: '/nonexistent' });
  expect(r.code).toBe(8);
  expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
});
