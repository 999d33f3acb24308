/**
 * Helpers for tests that talk to the cluster global-setup.ts provides (KUBECONFIG points at it).
 * Importing this file registers an afterAll that deletes the namespaces the test file created.
 */
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { PREFIX } from '../../src/k8s/labels.js';

/** True when the tests run against the local simulated node (image conventions, 127.0.0.1 URLs). */
export const simulated = process.env.TYCHO_TEST_SIMULATED === '1';

/**
 * The NodePorts the test cluster hands out: the range the local cluster claimed (another local
 * cluster on the machine has another, src/local/node-port-range.ts), else Kubernetes' default.
 */
export function nodePortRange(): { min: number; max: number } {
  const [min, max] = (process.env.TYCHO_TEST_NODEPORT_RANGE ?? '30000-32767').split('-').map(Number) as [number, number];
  return { min, max };
}

/**
 * Stops the local control plane's kube-controller-manager (SIGSTOP) until the returned function
 * resumes it: the garbage collector, like every controller, falls behind for exactly that long,
 * as it does on a busy cluster. Only the local cluster's: found by its kubeconfig in the state dir.
 */
export function pauseControllerManager(): () => void {
  const stateDir = process.env.TYCHO_TEST_K8S_STATE_DIR;
  if (!stateDir) throw new Error('pauseControllerManager needs the local control plane (TYCHO_TEST_K8S_STATE_DIR)');
  const pid = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .find((d) => {
      const argv = (() => {
        try {
          return readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        } catch {
          return [];
        }
      })();
      return argv[0]?.endsWith('/kube-controller-manager') && argv.includes(`--kubeconfig=${stateDir}/admin.kubeconfig`);
    });
  if (!pid) throw new Error(`no kube-controller-manager of the cluster in ${stateDir} is running`);
  // Resumed however this worker ends: a controller-manager left stopped would stall every test after it.
  const resume = () => {
    process.off('exit', resume);
    try {
      process.kill(Number(pid), 'SIGCONT');
    } catch {
      // the cluster has gone already
    }
  };
  process.once('exit', resume);
  process.kill(Number(pid), 'SIGSTOP');
  return resume;
}

export function kubeConfig(): KubeConfig {
  const path = process.env.TYCHO_TEST_KUBECONFIG ?? process.env.KUBECONFIG;
  if (!path) throw new Error('No test cluster: KUBECONFIG is unset (is jest globalSetup configured?)');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/**
 * The KubeConfig the code under test (e.g. the launcher) uses in a namespace: the admin's, unless
 * the test file chose another identity with actAs(). Setup and assertions keep using kubeConfig().
 */
let identity: ((namespace: string) => Promise<KubeConfig>) | undefined;

/** test/deploy runs the launcher suite as Tycho's ServiceAccount (see its launcher-as-service-account.test.ts). */
export function actAs(f: (namespace: string) => Promise<KubeConfig>): void {
  identity = f;
}

export async function launcherKubeConfig(namespace: string): Promise<KubeConfig> {
  return identity ? identity(namespace) : kubeConfig();
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Named in the timeout error. */
  what?: string;
}

/** Polls fn until it returns something other than undefined/null/false, and returns that. */
export async function waitFor<T>(fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      const why = lastErr instanceof Error ? ` (last error: ${lastErr.message.split('\n')[0]})` : '';
      throw new Error(`Timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${opts.what ?? 'a condition'}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

const created: string[] = [];

/**
 * Creates a namespace with a unique name and waits until pods can be created in it (its
 * default ServiceAccount has a token). Deleted after the test file.
 */
export async function createTestNamespace(prefix: string): Promise<string> {
  const base = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  const name = `${base}-${randomBytes(4).toString('hex')}`;
  const core = kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels: { [`${PREFIX}/test`]: 'true' } } } });
  created.push(name);
  await waitFor(async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace: name })).secrets?.length ?? 0) > 0, {
    timeoutMs: 30_000,
    what: `the default ServiceAccount token in namespace ${name}`,
  });
  return name;
}

/** Deletes (without waiting for it to finish) every namespace createTestNamespace made. */
export async function deleteTestNamespaces(): Promise<void> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const names = created.splice(0);
  await Promise.all(names.map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
}

if (typeof afterAll === 'function') afterAll(deleteTestNamespaces);

/** Everything of one system in a namespace, read as the admin: what `down` must leave empty. */
export async function systemObjects(namespace: string, name: string) {
  const kc = kubeConfig();
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const sel = `${PREFIX}/system=${name}`;
  const [d, rs, p, s] = await Promise.all([
    apps.listNamespacedDeployment({ namespace, labelSelector: sel }),
    apps.listNamespacedReplicaSet({ namespace, labelSelector: sel }),
    core.listNamespacedPod({ namespace, labelSelector: sel }),
    core.listNamespacedService({ namespace, fieldSelector: `metadata.name=${name}` }),
  ]);
  return { deployments: d.items, replicaSets: rs.items, pods: p.items, services: s.items };
}
