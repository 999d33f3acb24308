/**
 * Shared by the test/deploy suites: kubectl as the admin, the manifests in kubernetes/ as
 * objects, installing them into a test namespace, and Tycho's ServiceAccount as a KubeConfig
 * built the way Tycho builds it inside its pod.
 */
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  dumpYaml,
  loadAllYaml,
  loadYaml,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const KUBERNETES_DIR = join(REPO, 'kubernetes');

/** What the manifests call things; the tests read them from here so a rename fails loudly. */
export const SA_NAME = 'tycho';
export const ROLE_NAME = 'tycho-launcher';
export const LEADER_ROLE_NAME = 'tycho-leader';
export const LEASE_NAME = 'tycho-leader';
export const SECRET_NAME = 'tycho-secrets';
export const QUOTA_NAME = 'launched-apps';
export const LIMIT_RANGE_NAME = 'launched-apps';
/** The names kubernetes/settings.yaml ships with. */
export const NS = 'tycho';
export const APPS_NS = 'tycho-apps';
export const INGRESS_NS = 'ingress-nginx';

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

/** The names of an installation: kubernetes/settings.yaml's `data`. */
export interface Settings {
  namespace: string;
  appsNamespace: string;
  ingressNamespace: string;
}

export interface Customisation {
  settings?: Partial<Settings>;
  /** Components to enable in kubernetes/kustomization.yaml, e.g. 'components/secret-env'. */
  components?: string[];
  /** Uncomment the example `patches:` at the end of kubernetes/kustomization.yaml. */
  examplePatches?: boolean;
}

/** The commented-out `# patches:` block of a kustomization, uncommented and parsed. */
function commentedPatches(kustomization: string): unknown[] {
  const lines = kustomization.split('\n');
  const start = lines.indexOf('# patches:');
  if (start < 0) throw new Error('kubernetes/kustomization.yaml has no commented-out "# patches:" block');
  const block: string[] = [];
  for (const l of lines.slice(start)) {
    if (!l.startsWith('#')) break;
    block.push(l.replace(/^# ?/, ''));
  }
  return loadYaml<{ patches: unknown[] }>(block.join('\n')).patches;
}

/**
 * Runs `f` on a copy of kubernetes/ customised the way its own comments tell an operator to:
 * settings.yaml edited, components added to kustomization.yaml. Nothing else changes.
 */
async function withCustomised<T>(c: Customisation, f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tycho-kubernetes-'));
  try {
    await cp(KUBERNETES_DIR, dir, { recursive: true });
    const settingsFile = join(dir, 'settings.yaml');
    const settings = loadYaml<V1ConfigMap>(await readFile(settingsFile, 'utf8'));
    settings.data = { ...settings.data, ...c.settings };
    await writeFile(settingsFile, dumpYaml(settings));
    if (c.components?.length || c.examplePatches) {
      const kustomizationFile = join(dir, 'kustomization.yaml');
      const text = await readFile(kustomizationFile, 'utf8');
      const k = loadYaml<{ components?: string[]; patches?: unknown[] }>(text);
      // Before components/settings, which comes last (kubernetes/kustomization.yaml says why).
      if (c.components) k.components = [...c.components, ...(k.components ?? [])];
      if (c.examplePatches) k.patches = [...(k.patches ?? []), ...commentedPatches(text)];
      await writeFile(kustomizationFile, dumpYaml(k));
    }
    return await f(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What `kubectl apply -k` would send for kubernetes/ customised as `c`. */
export function renderCustomised(c: Customisation): Promise<KubernetesObject[]> {
  return withCustomised(c, render);
}

export interface Installation {
  /** Tycho's own namespace: its ServiceAccount, Deployment, Lease. */
  namespace: string;
  /** Where it launches. */
  appsNamespace: string;
}

/**
 * Installs kubernetes/ with `kubectl apply -k`, under names of its own so every test gets its
 * own copy: the apps namespace is `appsNamespace` (a test namespace, usually made by the suite),
 * Tycho's own namespace a new test namespace. Both are deleted with the test namespaces.
 */
export async function installTycho(appsNamespace: string, o: Omit<Customisation, 'settings'> = {}): Promise<Installation> {
  const namespace = await createTestNamespace(`${appsNamespace}-tycho`);
  await withCustomised({ ...o, settings: { namespace, appsNamespace } }, (dir) => kubectl(['apply', '-k', dir]));
  return { namespace, appsNamespace };
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


/**
 * What the kubelet does for a file the Deployment mounts from a ConfigMap (the policy file at
 * /etc/tycho): the environment with each such path replaced by a file holding the ConfigMap's key,
 * in a directory of this test's own, so loadConfig reads what the pod would.
 */
export function mountedConfigMaps(env: Record<string, string>, d: V1Deployment, configMaps: V1ConfigMap[]): Record<string, string> {
  const pod = d.spec!.template.spec!;
  const out = { ...env };
  for (const m of pod.containers[0]!.volumeMounts ?? []) {
    const name = pod.volumes?.find((v) => v.name === m.name)?.configMap?.name;
    if (!name) continue;
    const cm = configMaps.find((c) => c.metadata?.name === name);
    if (!cm) throw new Error(`CreateContainerConfigError: configmap "${name}" not found`);
    const dir = mkdtempSync(join(tmpdir(), 'tycho-mount-'));
    for (const [key, value] of Object.entries(cm.data ?? {})) writeFileSync(join(dir, key), value);
    for (const [k, v] of Object.entries(out)) if (v.startsWith(`${m.mountPath}/`)) out[k] = join(dir, v.slice(m.mountPath.length + 1));
  }
  return out;
}
