/** Well-known places of the local cluster, shared with scripts/install-local-k8s.sh. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const K8S_VERSION = '1.20.2';

/** Same rule as scripts/install-local-k8s.sh, so both agree on where the build lives. */
export function tychoCacheDir(): string {
  return process.env.TYCHO_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tycho');
}

export function defaultBinDir(): string {
  return join(tychoCacheDir(), `k8s-${K8S_VERSION}`, 'bin');
}

/** Where `node dist/local/cli.js start` (and `npm start` without a cluster) keeps its cluster. */
export function localClusterDir(): string {
  return join(tychoCacheDir(), 'local');
}

/** The kubeconfig of the running local cluster; point KUBECONFIG here to use it. */
export function localKubeconfigPath(): string {
  return join(localClusterDir(), 'kubeconfig');
}
