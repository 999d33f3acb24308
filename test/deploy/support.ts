/**
 * Shared by the test/deploy suites: kubectl as the admin, the manifests in kubernetes/ as
 * objects, installing them into a test namespace, and Tycho's ServiceAccount as a KubeConfig
 * built the way Tycho builds it inside its pod.
 */
import { AuthorizationV1Api, CoreV1Api, KubeConfig, loadAllYaml, type KubernetesObject, type V1ResourceAttributes } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubeConfig, waitFor } from '../support/cluster.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const KUBERNETES_DIR = join(REPO, 'kubernetes');
export const VARIANT_DIR = join(KUBERNETES_DIR, 'variants', 'separate-apps-namespace');

/** What the manifests call things; the tests read them from here so a rename fails loudly. */
export const SA_NAME = 'tycho';
export const ROLE_NAME = 'tycho-launcher';
export const SECRET_NAME = 'tycho-secrets';

export interface KubectlRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl as the test cluster's admin. Rejects (with kubectl's own words) unless it exits 0. */
export function kubectl(args: string[], o: { input?: string; allowFail?: boolean } = {}): Promise<KubectlRun> {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('No test cluster: KUBECONFIG is unset (is jest globalSetup configured?)');
  return new Promise((resolve, reject) => {
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) => {
      if ((e as { code?: unknown } | null)?.code === 'ENOENT') {
        reject(new Error('kubectl is not on PATH; the deploy tests run `kubectl kustomize` and `kubectl apply -k` (any kubectl with kustomize v5, i.e. 1.27 or later).'));
        return;
      }
      const run = { code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr };
      if (run.code !== 0 && !o.allowFail) reject(new Error(`kubectl ${args.join(' ')} exited ${run.code}:\n${stderr || stdout}`));
      else resolve(run);
    });
    child.stdin?.end(o.input ?? '');
  });
}

/** `kubectl kustomize DIR` as objects: exactly what `kubectl apply -k DIR` sends. */
export async function render(dir: string): Promise<KubernetesObject[]> {
  const { stdout } = await kubectl(['kustomize', dir]);
  return loadAllYaml(stdout) as KubernetesObject[];
}

export function findObject<T extends KubernetesObject>(objects: KubernetesObject[], kind: string, name: string, namespace?: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace ? `${namespace}/` : ''}${name} in the manifests, found ${found.length}`);
  return found[0] as T;
}

/**
 * Applies kubernetes/ with its namespace changed to `namespace`, through a kustomize overlay
 * (the way a person would install it into another namespace), so every test gets its own copy.
 */
export async function installTycho(namespace: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tycho-overlay-'));
  try {
    const base = relative(dir, KUBERNETES_DIR);
    await writeFile(join(dir, 'kustomization.yaml'), `namespace: ${namespace}\nresources:\n  - ${JSON.stringify(base)}\n`);
    await kubectl(['apply', '-k', dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ServiceAccountToken {
  token: string;
  ca: string;
  namespace: string;
}

/**
 * The token and CA the kubelet would mount for the ServiceAccount, read (as admin) from the
 * token Secret that the token controller creates for it.
 */
export async function serviceAccountToken(namespace: string, name = SA_NAME): Promise<ServiceAccountToken> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  return waitFor(
    async () => {
      const sa = await core.readNamespacedServiceAccount({ namespace, name });
      for (const ref of sa.secrets ?? []) {
        const s = await core.readNamespacedSecret({ namespace, name: ref.name! });
        if (s.type !== 'kubernetes.io/service-account-token' || s.metadata?.annotations?.['kubernetes.io/service-account.name'] !== name) continue;
        const token = s.data?.token;
        const ca = s.data?.['ca.crt'];
        if (token && ca) return { token: Buffer.from(token, 'base64').toString('utf8'), ca: Buffer.from(ca, 'base64').toString('utf8'), namespace };
      }
      return undefined;
    },
    { timeoutMs: 30_000, what: `the token of ServiceAccount ${namespace}/${name}` },
  );
}

const mounts: string[] = [];

/**
 * Tycho's in-cluster KubeConfig for the ServiceAccount: its token, CA and namespace written
 * where the kubelet mounts them, and KubeConfig.loadFromCluster() (what Tycho calls when it runs
 * in a pod with no kubeconfig) reading them, with KUBERNETES_SERVICE_HOST/PORT pointing at the
 * test API server.
 */
export async function serviceAccountKubeConfig(namespace: string, name = SA_NAME): Promise<KubeConfig> {
  const sa = await serviceAccountToken(namespace, name);
  const root = await mkdtemp(join(tmpdir(), 'tycho-sa-'));
  mounts.push(root);
  const dir = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'token'), sa.token, { mode: 0o600 });
  await writeFile(join(dir, 'ca.crt'), sa.ca);
  await writeFile(join(dir, 'namespace'), namespace);

  const server = new URL(kubeConfig().getCurrentCluster()!.server);
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = server.hostname.replace(/^\[|\]$/g, '');
  process.env.KUBERNETES_SERVICE_PORT = server.port || '443';
  try {
    const kc = new KubeConfig();
    kc.loadFromCluster(root);
    return kc;
  } finally {
    for (const [k, v] of [['KUBERNETES_SERVICE_HOST', saved.host], ['KUBERNETES_SERVICE_PORT', saved.port]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The same identity as a kubeconfig file (bearer token + CA), for the CLI and kubectl. */
export async function serviceAccountKubeconfigFile(namespace: string, name = SA_NAME): Promise<string> {
  const sa = await serviceAccountToken(namespace, name);
  const root = await mkdtemp(join(tmpdir(), 'tycho-sa-kubeconfig-'));
  mounts.push(root);
  const caFile = join(root, 'ca.crt');
  await writeFile(caFile, sa.ca);
  const q = JSON.stringify;
  const path = join(root, 'kubeconfig');
  await writeFile(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      `  cluster: {server: ${q(kubeConfig().getCurrentCluster()!.server)}, certificate-authority: ${q(caFile)}}`,
      'users:',
      `- name: ${name}`,
      `  user: {token: ${q(sa.token)}}`,
      'contexts:',
      `- name: ${name}`,
      `  context: {cluster: test, user: ${name}, namespace: ${q(namespace)}}`,
      `current-context: ${name}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return path;
}

/** Removes the token files written above. */
export async function removeServiceAccountFiles(): Promise<void> {
  await Promise.all(mounts.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** SelfSubjectAccessReview as whoever `kc` is: may it do this? */
export async function can(kc: KubeConfig, attrs: V1ResourceAttributes): Promise<boolean> {
  const r = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } });
  return r.status?.allowed === true;
}

/** The HTTP status of a call that is expected to fail (0 when it succeeded). */
export async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 0;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw e;
  }
}

