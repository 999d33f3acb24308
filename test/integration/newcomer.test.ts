/**
 * The newcomer's path from the README: no KUBECONFIG, no ~/.kube/config, not in a pod.
 * `npm start` (here: its program) starts the built-in local Kubernetes and says so; the CLI
 * in another terminal finds that same cluster and gets a URL that answers.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBinDir, K8S_VERSION } from '../../src/local/paths.js';
import { openUrl } from '../support/open-url.js';

/** What `npm start` runs after its build (the image's entry, dist/server/main.js, never starts a local cluster). */
const SERVER = new URL('../../dist/local/start-server.js', import.meta.url).pathname;
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

let dir: string;
let env: Record<string, string>;
let server: ChildProcess | undefined;
let output = '';

function waitForLine(pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = output.split('\n').find((l) => pattern.test(l));
      if (m) return resolve(m);
      if (server?.exitCode !== null) return reject(new Error(`server exited:\n${output}`));
      setTimeout(check, 100);
    };
    check();
  });
}

function tycho(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tycho-newcomer-'));
  // A cache of its own (so nothing of the developer's is touched) that reuses the built binaries.
  const cache = join(dir, 'cache');
  await mkdir(join(cache, `k8s-${K8S_VERSION}`), { recursive: true });
  await symlink(defaultBinDir(), join(cache, `k8s-${K8S_VERSION}`, 'bin'));
  await mkdir(join(dir, 'home'));
  env = { PATH: process.env.PATH!, HOME: join(dir, 'home'), TYCHO_CACHE_DIR: cache, TYCHO_OWNER: 'newcomer' };
});

afterAll(async () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

it('npm start with no cluster runs the local one, and the CLI from another terminal uses it', async () => {
  server = spawn(process.execPath, [SERVER], { env: { ...env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (output += d.toString()));

  expect(await waitForLine(/No cluster configured/)).toMatch(/starting the built-in local Kubernetes/);
  const listening = await waitForLine(/"msg":"listening"/);
  const base = (JSON.parse(listening) as { url: string }).url;
  expect(output).toContain(`${join(dir, 'cache', 'local', 'kubeconfig')}`);
  expect(output).toMatch(/To use a real cluster instead, set KUBECONFIG/);
  expect((await fetch(`${base}/readyz`)).status).toBe(200);

  const up = await tycho(['up', '-n', 'hello', '-c', 'nginx', '-p', '80']);
  expect(up.code).toBe(0);
  const url = up.stdout.trim();
  expect(await openUrl(url)).toEqual({ status: 200, body: expect.stringContaining('hello') });
  expect((await tycho(['list'])).stdout).toMatch(/hello\s+ready/);

  server.kill('SIGTERM');
  await new Promise((r) => server!.once('exit', r));
  // Stopped cleanly: no kubeconfig left pointing at a dead server, and the app is gone with it.
  expect(existsSync(join(dir, 'cache', 'local', 'kubeconfig'))).toBe(false);
  expect(await openUrl(url, { timeoutSeconds: 3 })).toEqual({ refused: expect.any(String) });
  const after = await tycho(['list']);
  expect(after.code).toBe(8);
  expect(after.stderr).toMatch(/No cluster is configured/);
}, 180_000);
