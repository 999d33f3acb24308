/**
 * `node dist/local/cli.js start [--fresh] | stop | status`
 *
 * start   runs the local cluster in the foreground until Ctrl-C / SIGTERM and writes its
 *         kubeconfig to localKubeconfigPath(). State (etcd, keys) persists between runs;
 *         --fresh wipes it first.
 * stop    asks a running `start` to shut down, and waits for it.
 * status  says whether it runs and whether its API server answers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpsGet } from './control-plane.js';
import { infoFile, runningPid, startPublished, type PublishedInfo as Info } from './embedded.js';
import { localClusterDir, localKubeconfigPath } from './paths.js';

async function start(fresh: boolean): Promise<void> {
  const other = runningPid();
  if (other) {
    console.log(`A local cluster already runs (pid ${other}). KUBECONFIG=${localKubeconfigPath()}`);
    process.exitCode = 1;
    return;
  }
  console.log(`Starting local Kubernetes (state and process logs in ${join(localClusterDir(), 'state')}) ...`);
  const t0 = Date.now();
  const cluster = await startPublished({ fresh, say: (l) => console.log(l) });
  console.log(`Local Kubernetes is up in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${cluster.server}.`);
  console.log(`Kubeconfig written to ${localKubeconfigPath()}. To use it:`);
  console.log(`  export KUBECONFIG=${localKubeconfigPath()}`);
  console.log('Press Ctrl-C (or run `npm run cluster -- stop`) to stop it.');

  let stopping = false;
  const shutdown = async (sig: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`${sig}: stopping the local cluster ...`);
    await cluster.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function stop(): Promise<void> {
  const pid = runningPid();
  if (!pid) {
    console.log('No local cluster is running.');
    return;
  }
  process.kill(pid, 'SIGTERM');
  console.log(`Sent SIGTERM to the local cluster (pid ${pid}); waiting ...`);
  for (let i = 0; i < 150 && runningPid(); i++) await new Promise((r) => setTimeout(r, 200));
  console.log(runningPid() ? `Still running after 30 s (pid ${pid}).` : 'Stopped.');
  if (runningPid()) process.exitCode = 1;
}

async function status(): Promise<void> {
  const pid = runningPid();
  if (!pid || !existsSync(infoFile())) {
    console.log('No local cluster is running. Start one with `npm run cluster -- start`.');
    process.exitCode = 1;
    return;
  }
  const info = JSON.parse(readFileSync(infoFile(), 'utf8')) as Info;
  let health: string;
  try {
    const r = await httpsGet(`${info.server}/readyz`, { token: info.adminToken, ca: readFileSync(info.caFile) });
    health = r.status === 200 ? 'ready' : `not ready (HTTP ${r.status})`;
  } catch (err) {
    health = `not answering (${err instanceof Error ? err.message : String(err)})`;
  }
  console.log(`Local cluster pid ${pid}, API server ${info.server}: ${health}.`);
  console.log(`  export KUBECONFIG=${localKubeconfigPath()}`);
  if (!health.startsWith('ready')) process.exitCode = 1;
}

const [cmd, ...rest] = process.argv.slice(2);
const main = cmd === 'start' ? () => start(rest.includes('--fresh')) : cmd === 'stop' ? stop : cmd === 'status' ? status : undefined;
if (!main) {
  console.error('usage: node dist/local/cli.js start [--fresh] | stop | status');
  process.exit(2);
}
main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
