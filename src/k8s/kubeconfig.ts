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
  if (env.KUBECONFIG) {
    const missing = env.KUBECONFIG.split(delimiter).filter((f) => f && !existsSync(f));
    if (missing.length) throw new ClusterUnreachable(`KUBECONFIG names ${missing.join(', ')}, which does not exist; fix the path or unset it.`);
    return { kc: load(`the kubeconfig in KUBECONFIG (${env.KUBECONFIG})`, (kc) => kc.loadFromDefault()), source: 'KUBECONFIG' };
  }
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return { kc: load(`the kubeconfig ${home}`, (kc) => kc.loadFromDefault()), source: '~/.kube/config' };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) {
    return { kc: load("the pod's service account", (kc) => kc.loadFromCluster()), source: 'in-cluster service account' };
  }
  return undefined;
}

export function fromFile(path: string): ClusterChoice {
  return { kc: load(`the local cluster's kubeconfig ${path}`, (kc) => kc.loadFromFile(path)), source: 'local cluster' };
}

/**
 * Loads a kubeconfig and checks it names a cluster, so a broken file is one sentence naming
 * the file, not a YAML parser's exception on the first API call.
 */
function load(what: string, fill: (kc: KubeConfig) => void): KubeConfig {
  const kc = new KubeConfig();
  try {
    fill(kc);
  } catch (e) {
    const why = (e as Error)?.name === 'YAMLException' ? 'it is not valid YAML' : 'it could not be read';
    throw new ClusterUnreachable(`Tycho cannot use ${what}: ${why}. Check it with \`kubectl config view\`.`);
  }
  if (!kc.getCurrentCluster()) {
    throw new ClusterUnreachable(`Tycho cannot use ${what}: it has no current context with a cluster. Pick one with \`kubectl config use-context NAME\`.`);
  }
  return kc;
}

/** The namespace to launch into: explicit, else the context's, else the pod's own, else "default". */
export function resolveNamespace(kc: KubeConfig, explicit?: string): string {
  if (explicit) return explicit;
  const fromContext = currentNamespace(kc);
  if (fromContext) return fromContext;
  return 'default';
}
