/**
 * The newcomer's default: with no cluster configured, `npm start` (and `npm run cluster`)
 * build if needed, start the local control plane, and publish its kubeconfig at a well-known
 * path so `npx tycho` in another terminal finds the same cluster.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalCluster, type LocalCluster } from './local-cluster.js';
import { defaultBinDir, localClusterDir, localKubeconfigPath } from './paths.js';

const pidFile = (): string => join(localClusterDir(), 'cluster.pid');
export const infoFile = (): string => join(localClusterDir(), 'cluster.json');

export interface PublishedInfo {
  pid: number;
  server: string;
  caFile: string;
  adminToken: string;
  stateDir: string;
  /** The simulated ingress controller, host:port. */
  ingressAddress: string;
}

/** The pid of the process that runs the published local cluster, if it is alive. */
export function runningPid(): number | undefined {
  if (!existsSync(pidFile())) return undefined;
  const pid = Number(readFileSync(pidFile(), 'utf8').trim());
  if (!pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Runs scripts/install-local-k8s.sh (idempotent) with its progress on stderr. */
export async function buildIfNeeded(say: (line: string) => void): Promise<void> {
  if (['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].every((b) => existsSync(join(defaultBinDir(), b)))) return;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  say('Building the local Kubernetes control plane once (about 12 minutes on 2 cores; cached in ~/.cache/tycho) ...');
  await new Promise<void>((resolve, reject) => {
    const p = spawn('bash', [join(root, 'scripts', 'install-local-k8s.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`scripts/install-local-k8s.sh failed (exit ${code}); see its output above.`))));
  });
}

/** Starts the cluster and writes its kubeconfig, pid and info files; stop() removes them. */
export async function startPublished(opts: { fresh?: boolean; say: (line: string) => void }): Promise<LocalCluster> {
  const stateDir = join(localClusterDir(), 'state');
  if (opts.fresh) await rm(stateDir, { recursive: true, force: true });
  await mkdir(localClusterDir(), { recursive: true });
  await buildIfNeeded(opts.say);
  const cluster = await startLocalCluster({ stateDir });
  await copyFile(cluster.kubeconfigPath, localKubeconfigPath());
  const info: PublishedInfo = { pid: process.pid, server: cluster.server, caFile: cluster.caFile, adminToken: cluster.adminToken, stateDir, ingressAddress: cluster.ingressAddress };
  await writeFile(infoFile(), JSON.stringify(info, null, 2), { mode: 0o600 });
  await writeFile(pidFile(), String(process.pid));
  return {
    ...cluster,
    async stop() {
      await cluster.stop();
      // A kubeconfig pointing at a dead server would only mislead the CLI and kubectl.
      await Promise.all([rm(pidFile(), { force: true }), rm(infoFile(), { force: true }), rm(localKubeconfigPath(), { force: true })]);
    },
  };
}

/**
 * For `npm start` with no cluster: reuse a local cluster another process already runs,
 * or start one in this process.
 */
export async function ensureLocalCluster(log: { info(msg: string, f?: Record<string, unknown>): void }): Promise<{ kubeconfigPath: string; ingressAddress?: string; stop: () => Promise<void> }> {
  const say = (msg: string) => log.info(msg);
  if (runningPid() && existsSync(localKubeconfigPath())) {
    say(`No cluster configured; using the local cluster already running (KUBECONFIG=${localKubeconfigPath()}).`);
    let ingressAddress: string | undefined;
    try {
      ingressAddress = (JSON.parse(readFileSync(infoFile(), 'utf8')) as Partial<PublishedInfo>).ingressAddress;
    } catch {
      // an older cluster's info, or none: no simulated ingress address to offer
    }
    return { kubeconfigPath: localKubeconfigPath(), ...(ingressAddress ? { ingressAddress } : {}), stop: async () => {} };
  }
  say('No cluster configured (no KUBECONFIG, no ~/.kube/config, not in a pod): starting the built-in local Kubernetes.');
  const cluster = await startPublished({ say });
  say(
    `Local Kubernetes is up at ${cluster.server}. Its kubeconfig is ${localKubeconfigPath()}; ` +
      '`npx tycho` in another terminal uses it. To use a real cluster instead, set KUBECONFIG and restart.',
  );
  return { kubeconfigPath: localKubeconfigPath(), ingressAddress: cluster.ingressAddress, stop: () => cluster.stop() };
}
