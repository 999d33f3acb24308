/**
 * A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler) on loopback, for machines without a container engine. See
 * shared/local-kubernetes.md for the recipe; scripts/install-local-k8s.sh builds the binaries.
 * No kubelet runs here: kubelet-simulator.ts plays the node.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPair, randomBytes } from 'node:crypto';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { claimNodePortRange } from './node-port-range.js';
import { defaultBinDir } from './paths.js';

export interface StaticTokenUser {
  token: string;
  user: string;
  uid?: string;
  groups?: string[];
}

export interface ControlPlaneOptions {
  /** Holds etcd data, certificates, keys, kubeconfig and the processes' logs. Reused if present. */
  stateDir: string;
  /** Where kube-apiserver, kube-controller-manager and kube-scheduler are; etcd may be on PATH. */
  binDir?: string;
  log?: (line: string) => void;
  /** Extra static-token users (e.g. for RBAC tests), added to the apiserver's token file. */
  tokens?: StaticTokenUser[];
  /** How long to wait for the cluster to become usable. Default 90 s. */
  readyTimeoutMs?: number;
}

export interface ControlPlane {
  kubeconfigPath: string;
  server: string;
  /** The apiserver's self-signed certificate bundle, to trust as the cluster CA. */
  caFile: string;
  adminToken: string;
  stateDir: string;
  /** The NodePort range this cluster claimed (node-port-range.ts), as `min-max`. */
  nodePortRange: string;
  stop(): Promise<void>;
}

interface Proc {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<void>;
  done: boolean;
}

const BINARIES = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] as const;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Ports are picked by the kernel and released; the tiny race with other programs is accepted. */
async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

function findOnPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

function resolveBinaries(binDir: string): Record<(typeof BINARIES)[number] | 'etcd', string> {
  const missing = BINARIES.filter((b) => !existsSync(join(binDir, b)));
  const etcd = existsSync(join(binDir, 'etcd')) ? join(binDir, 'etcd') : (findOnPath('etcd') ?? (existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : undefined));
  if (missing.length || !etcd) {
    const what = [...missing, ...(etcd ? [] : ['etcd'])].join(', ');
    throw new Error(`Local Kubernetes binaries missing (${what}; looked in ${binDir}). Run \`bash scripts/install-local-k8s.sh\` first (builds them once, ~12 minutes).`);
  }
  return {
    etcd,
    'kube-apiserver': join(binDir, 'kube-apiserver'),
    'kube-controller-manager': join(binDir, 'kube-controller-manager'),
    'kube-scheduler': join(binDir, 'kube-scheduler'),
  };
}

// setpriv --pdeathsig makes the kernel kill a child when this process dies, even by SIGKILL,
// so a crashed test run or daemon never leaves an apiserver behind.
const SETPRIV = findOnPath('setpriv');

function startProcess(name: string, cmd: string, args: string[], logFile: string): Proc {
  const fd = openSync(logFile, 'a');
  const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const proc: Proc = { name, child, logFile, done: false, exited: Promise.resolve() };
  proc.exited = new Promise<void>((res) => {
    child.once('exit', () => {
      proc.done = true;
      res();
    });
    child.once('error', () => {
      proc.done = true;
      res();
    });
  });
  return proc;
}

async function stopProcess(p: Proc): Promise<void> {
  if (p.done) return;
  p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.exited, new Promise((r) => (timer = setTimeout(r, 8000)))]);
  clearTimeout(timer); // a pending timer would keep the caller's process (e.g. jest) alive
  if (!p.done) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface HttpsResult {
  status: number;
  body: string;
}

/** A bare HTTPS GET; used before any client library can be configured (no kubeconfig yet). */
export function httpsGet(url: string, opts: { token?: string; ca?: string | Buffer; timeoutMs?: number } = {}): Promise<HttpsResult> {
  return new Promise((res, rej) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
        ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }),
        timeout: opts.timeoutMs ?? 5000,
      },
      (resp) => {
        let body = '';
        resp.setEncoding('utf8');
        resp.on('data', (c: string) => (body += c));
        resp.on('end', () => res({ status: resp.statusCode ?? 0, body }));
        resp.on('error', rej);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', rej);
    req.end();
  });
}

function kubeconfigYaml(server: string, caFile: string, token: string): string {
  // JSON strings are valid YAML scalars, which keeps odd paths safe without a YAML library.
  const q = JSON.stringify;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: tycho-local',
    '  cluster:',
    `    server: ${q(server)}`,
    `    certificate-authority: ${q(caFile)}`,
    'users:',
    '- name: tycho-local-admin',
    '  user:',
    `    token: ${q(token)}`,
    'contexts:',
    '- name: tycho-local',
    '  context:',
    '    cluster: tycho-local',
    '    user: tycho-local-admin',
    'current-context: tycho-local',
    '',
  ].join('\n');
}

function tokenLine(u: StaticTokenUser): string {
  const groups = u.groups?.length ? `,"${u.groups.join(',')}"` : '';
  return `${u.token},${u.user},${u.uid ?? u.user}${groups}`;
}

/** Keys and the admin token survive restarts of the same stateDir, so existing ServiceAccount tokens and kubeconfigs stay valid. */
async function ensureSecrets(stateDir: string): Promise<{ saKey: string; saPub: string; adminToken: string }> {
  const saKey = join(stateDir, 'sa.key');
  const saPub = join(stateDir, 'sa.pub');
  if (!existsSync(saKey) || !existsSync(saPub)) {
    // Node's crypto writes the same PEM files `openssl genrsa` / `openssl rsa -pubout` would.
    const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    await writeFile(saKey, privateKey, { mode: 0o600 });
    await writeFile(saPub, publicKey);
  }
  const tokenFile = join(stateDir, 'admin.token');
  let adminToken = existsSync(tokenFile) ? (await readFile(tokenFile, 'utf8')).trim() : '';
  if (!adminToken) {
    adminToken = randomBytes(24).toString('hex');
    await writeFile(tokenFile, adminToken, { mode: 0o600 });
  }
  return { saKey, saPub, adminToken };
}

/** A child died during startup: most likely a port taken between picking and binding it. */
class ProcessExitedError extends Error {}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  try {
    return await startOnce(opts);
  } catch (err) {
    if (!(err instanceof ProcessExitedError)) throw err;
    opts.log?.(`${err.message.split('\n')[0]}; retrying once with new ports`);
    return startOnce(opts);
  }
}

async function startOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const stateDir = resolve(opts.stateDir);
  const bins = resolveBinaries(opts.binDir ?? defaultBinDir());
  const certDir = join(stateDir, 'certs');
  const logDir = join(stateDir, 'logs');
  await mkdir(certDir, { recursive: true });
  await mkdir(logDir, { recursive: true });

  const { saKey, saPub, adminToken } = await ensureSecrets(stateDir);
  const tokensCsv = join(stateDir, 'tokens.csv');
  const users: StaticTokenUser[] = [{ token: adminToken, user: 'admin', uid: 'admin', groups: ['system:masters'] }, ...(opts.tokens ?? [])];
  await writeFile(tokensCsv, users.map(tokenLine).join('\n') + '\n', { mode: 0o600 });

  const [pEtcd, pPeer, pApi, pCm, pSched] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${pApi}`;
  const caFile = join(certDir, 'apiserver.crt');
  const kubeconfigPath = join(stateDir, 'admin.kubeconfig');
  await writeFile(kubeconfigPath, kubeconfigYaml(server, caFile, adminToken), { mode: 0o600 });

  const procs: Proc[] = [];
  // NodePorts of its own, so another local cluster on this machine never serves this one's URLs.
  const nodePorts = claimNodePortRange(log);
  const onExit = (): void => {
    for (const p of procs) if (!p.done) p.child.kill('SIGKILL');
    nodePorts.release();
  };
  process.on('exit', onExit);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Reverse order: clients first, etcd last, so nothing logs storms of connection errors.
    for (const p of [...procs].reverse()) await stopProcess(p);
    nodePorts.release();
    process.off('exit', onExit);
  };

  const start = (name: string, cmd: string, args: string[]): void => {
    log(`starting ${name}`);
    procs.push(startProcess(name, cmd, args, join(logDir, `${name}.log`)));
  };

  try {
    const etcdUrl = `http://127.0.0.1:${pEtcd}`;
    const peerUrl = `http://127.0.0.1:${pPeer}`;
    start('etcd', bins.etcd, [
      `--data-dir=${join(stateDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
    ]);
    start('kube-apiserver', bins['kube-apiserver'], [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${pApi}`,
      '--insecure-port=0',
      `--cert-dir=${certDir}`,
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--authorization-mode=Node,RBAC',
      `--token-auth-file=${tokensCsv}`,
      // A /16 so scale tests can create thousands of Services.
      '--service-cluster-ip-range=10.96.0.0/16',
      `--service-node-port-range=${nodePorts.range}`,
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      // On by default since 1.10; named so a namespace's ResourceQuota and LimitRange are sure to
      // refuse pods here as on a real cluster (the quota refusal tests depend on it).
      '--enable-admission-plugins=ResourceQuota,LimitRanger',
    ]);
    await waitUntil('kube-apiserver /readyz', procs, opts.readyTimeoutMs ?? 90_000, async () => {
      if (!existsSync(caFile)) return false;
      const r = await httpsGet(`${server}/readyz`, { token: adminToken, ca: readFileSync(caFile) });
      return r.status === 200;
    });
    log(`kube-apiserver ready at ${server}`);

    const qps = ['--kube-api-qps=200', '--kube-api-burst=400'];
    start('kube-controller-manager', bins['kube-controller-manager'], [
      `--kubeconfig=${kubeconfigPath}`,
      '--port=0',
      '--bind-address=127.0.0.1',
      `--secure-port=${pCm}`,
      '--leader-elect=false',
      // No kubelet heartbeats come from a real node; nodelifecycle would evict everything.
      '--controllers=*,-nodelifecycle',
      `--service-account-private-key-file=${saKey}`,
      `--root-ca-file=${caFile}`,
      '--concurrent-deployment-syncs=10',
      '--concurrent-replicaset-syncs=10',
      '--concurrent-namespace-syncs=10',
      ...qps,
    ]);
    start('kube-scheduler', bins['kube-scheduler'], [`--kubeconfig=${kubeconfigPath}`, '--port=0', '--bind-address=127.0.0.1', `--secure-port=${pSched}`, '--leader-elect=false', ...qps]);

    // Pods cannot be created in a namespace until its ServiceAccount has a token Secret, so
    // this proves the controller-manager works; later RBAC tests depend on those tokens too.
    const ca = readFileSync(caFile);
    await waitUntil('default ServiceAccount token', procs, opts.readyTimeoutMs ?? 90_000, async () => {
      const r = await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, { token: adminToken, ca });
      if (r.status !== 200) return false;
      const sa = JSON.parse(r.body) as { secrets?: unknown[] };
      return (sa.secrets?.length ?? 0) > 0;
    });
    await waitUntil('kube-scheduler /healthz', procs, opts.readyTimeoutMs ?? 90_000, async () => {
      return (await httpsGet(`https://127.0.0.1:${pSched}/healthz`)).status === 200;
    });
    log('control plane ready');
  } catch (err) {
    await stop();
    throw err;
  }
  return { kubeconfigPath, server, caFile, adminToken, stateDir, nodePortRange: nodePorts.range, stop };
}

/** Polls check() until true; fails fast, with the log's tail, if any process died meanwhile. */
async function waitUntil(what: string, procs: Proc[], timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    const dead = procs.find((p) => p.done);
    if (dead) {
      throw new ProcessExitedError(`${dead.name} exited (code ${dead.child.exitCode ?? dead.child.signalCode}) while waiting for ${what}. Last lines of ${dead.logFile}:\n${tail(dead.logFile)}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const logs = procs.map((p) => `--- ${p.logFile}\n${tail(p.logFile, 8)}`).join('\n');
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}.\n${logs}`);
    }
    await sleep(250);
  }
}
