/** Which cluster to talk to, decided the way kubectl decides, plus Tycho's local fallback. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ClusterUnreachable } from './errors.js';
import { KubeConfig } from '@kubernetes/client-node';
import { currentNamespace } from './kube.js';

export type ClusterSource = 'KUBECONFIG' | '~/.kube/config' | 'in-cluster service account' | 'local cluster';

export interface ClusterChoice {
  kc: KubeConfig;
  source: ClusterSource;
}

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The cluster a person configured, or undefined when there is none (no kubeconfig, not in a pod). */
export function configuredCluster(env: NodeJS.ProcessEnv = process.env): ClusterChoice | undefined {
  const kc = new KubeConfig();
  if (env.KUBECONFIG) {
    const missing = env.KUBECONFIG.split(delimiter).filter((f) => f && !existsSync(f));
    if (missing.length) throw new ClusterUnreachable(`KUBECONFIG names ${missing.join(', ')}, which does not exist; fix the path or unset it.`);
    kc.loadFromDefault();
    return { kc, source: 'KUBECONFIG' };
  }
  if (existsSync(join(homedir(), '.kube', 'config'))) {
    kc.loadFromDefault();
    return { kc, source: '~/.kube/config' };
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) {
    kc.loadFromCluster();
    return { kc, source: 'in-cluster service account' };
  }
  return undefined;
}

export function fromFile(path: string): ClusterChoice {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return { kc, source: 'local cluster' };
}

/** The namespace to launch into: explicit, else the context's, else the pod's own, else "default". */
export function resolveNamespace(kc: KubeConfig, explicit?: string): string {
  if (explicit) return explicit;
  const fromContext = currentNamespace(kc);
  if (fromContext) return fromContext;
  return 'default';
}
