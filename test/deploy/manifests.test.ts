/**
 * kubernetes/ and the Dockerfile: what they say (rendered with kustomize, exactly as
 * `kubectl apply -k` sends it), and that `kubectl apply -k kubernetes/` really applies to the
 * real API server and works there: Tycho in `tycho`, launching into `tycho-apps` only.
 * The apps namespace's hardening is in apps-namespace.test.ts; what the ServiceAccount may and
 * may not do, in least-privilege.test.ts.
 */
import { imageNodeFlags } from '../../src/bench/image-command.js';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  NetworkingV1Api,
  RbacAuthorizationV1Api,
  loadAllYaml,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Container,
  type V1Deployment,
  type V1Lease,
  type V1Namespace,
  type V1Role,
  type V1RoleBinding,
  type V1Secret,
  type V1Service,
} from '@kubernetes/client-node';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';
import { Forbidden } from '../../src/k8s/errors.js';
import { Launcher } from '../../src/k8s/launcher.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { failureOf } from '../support/failures.js';
import { openUrl } from '../support/open-url.js';
import {
  APPS_NS,
  INGRESS_NS,
  KUBERNETES_DIR,
  LEADER_ROLE_NAME,
  LEASE_NAME,
  NS,
  REPO,
  ROLE_NAME,
  SA_NAME,
  SECRET_NAME,
  can,
  findObject,
  installTycho,
  kubectl,
  mountedConfigMaps,
  removeServiceAccountFiles,
  render,
  renderCustomised,
  serviceAccountKubeConfig,
} from './support.js';

const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

function container(d: V1Deployment): V1Container {
  return d.spec!.template.spec!.containers[0]!;
}

/**
 * The Deployment's environment as the kubelet would give it to Tycho's container, from the
 * Secret's keys (envFrom, and each secretKeyRef, which, unless optional, must be there).
 */
function podEnv(d: V1Deployment, secret: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...secret };
  for (const e of container(d).env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (ref?.name === SECRET_NAME && ref.key in secret) env[e.name] = secret[ref.key]!;
    else if (ref?.name === SECRET_NAME && !ref.optional) throw new Error(`CreateContainerConfigError: couldn't find key ${ref.key} in Secret ${SECRET_NAME}`);
    else throw new Error(`unexpected env source for ${e.name}`);
  }
  // The policy file, as the kubelet mounts it from its ConfigMap.
  return mountedConfigMaps(env, d, base.filter((o): o is V1ConfigMap => o.kind === 'ConfigMap'));
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

/** Every string in an object, with its dotted path. */
function leaves(o: unknown, path = ''): [string, string][] {
  if (typeof o === 'string') return [[path, o]];
  if (o === null || typeof o !== 'object') return [];
  return Object.entries(o).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
}

/** A generated ConfigMap's name ends in a hash of its content: shown as -HASH. */
const describeObject = (o: KubernetesObject) => `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? '-'}/${o.metadata?.name?.replace(/^(tycho-policy)-[a-z0-9]{10}$/, '$1-HASH')}`;

let base: KubernetesObject[];

beforeAll(async () => {
  base = await render(KUBERNETES_DIR);
});
afterAll(removeServiceAccountFiles);

describe('kubernetes/ as rendered by kustomize', () => {
  it('is Tycho in namespace tycho and the hardened apps namespace tycho-apps, and nothing cluster-wide but the two Namespaces', () => {
    expect(base.map(describeObject).sort()).toEqual(
      [
        'v1 Namespace -/tycho',
        'v1 ServiceAccount tycho/tycho',
        'apps/v1 Deployment tycho/tycho',
        'v1 Service tycho/tycho',
        'v1 ConfigMap tycho/tycho-policy-HASH',
        'coordination.k8s.io/v1 Lease tycho/tycho-leader',
        'rbac.authorization.k8s.io/v1 Role tycho/tycho-leader',
        'rbac.authorization.k8s.io/v1 RoleBinding tycho/tycho-leader',
        'networking.k8s.io/v1 NetworkPolicy tycho/default-deny-ingress',
        'networking.k8s.io/v1 NetworkPolicy tycho/tycho-server',
        'v1 Namespace -/tycho-apps',
        'rbac.authorization.k8s.io/v1 Role tycho-apps/tycho-launcher',
        'rbac.authorization.k8s.io/v1 RoleBinding tycho-apps/tycho-launcher',
        'v1 ResourceQuota tycho-apps/launched-apps',
        'v1 LimitRange tycho-apps/launched-apps',
        'networking.k8s.io/v1 NetworkPolicy tycho-apps/default-deny-ingress',
        'networking.k8s.io/v1 NetworkPolicy tycho-apps/allow-from-ingress-controller',
        'networking.k8s.io/v1 NetworkPolicy tycho-apps/allow-nodeports',
      ].sort(),
    );
    // The settings ConfigMap is local to kustomize, never applied (Tycho makes its thread records
    // itself); the one ConfigMap applied is the policy file's.
    expect(base.filter((o) => o.kind === 'ConfigMap').map((o) => describeObject(o))).toEqual(['v1 ConfigMap tycho/tycho-policy-HASH']);
  });

  it('grants the launcher\'s calls only, in the apps namespace only: no wildcards, no Secrets, nothing cluster-wide', () => {
    const roles = base.filter((o): o is V1Role => o.kind === 'Role');
    for (const r of roles.flatMap((role) => role.rules ?? [])) {
      for (const v of [...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs]) expect(v).not.toContain('*');
      expect(r.resources).not.toContain('secrets');
      expect(r.nonResourceURLs).toBeUndefined();
    }
    const role = findObject<V1Role>(base, 'Role', ROLE_NAME);
    expect(role.metadata!.namespace).toBe(APPS_NS);
    expect(role.rules!.map((r) => [r.apiGroups, r.resources, r.verbs])).toEqual([
      [['apps'], ['deployments'], ['get', 'list', 'watch', 'create', 'patch', 'delete']],
      [['apps'], ['deployments/finalizers'], ['update']],
      [[''], ['services'], ['get', 'list', 'watch', 'create', 'delete']],
      [[''], ['pods'], ['list', 'watch']],
      // `logs`: read through the API server (src/k8s/pod-logs.ts).
      [[''], ['pods/log'], ['get']],
      [[''], ['endpoints'], ['list', 'watch']],
      [['discovery.k8s.io'], ['endpointslices'], ['list', 'watch']],
      [['networking.k8s.io'], ['ingresses'], ['get', 'list', 'watch', 'create', 'delete']],
      [[''], ['persistentvolumeclaims'], ['get']],
      [[''], ['configmaps'], ['list', 'create', 'patch', 'delete']],
      [[''], ['events'], ['create']],
    ]);
    const binding = findObject<V1RoleBinding>(base, 'RoleBinding', ROLE_NAME);
    expect(binding.metadata!.namespace).toBe(APPS_NS);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ROLE_NAME });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: SA_NAME, namespace: NS }]);
    expect(base.filter((o) => /^Cluster/.test(o.kind ?? ''))).toEqual([]);
  });

  it('in its own namespace, Tycho may only read and renew the one Lease it elects its leader with, created for it', () => {
    const inOwn = base.filter((o): o is V1Role => o.kind === 'Role' && o.metadata!.namespace === NS);
    expect(inOwn.map((r) => r.metadata!.name)).toEqual([LEADER_ROLE_NAME]);
    expect(inOwn[0]!.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [LEASE_NAME], verbs: ['get', 'update', 'patch'] },
    ]);
    const binding = findObject<V1RoleBinding>(base, 'RoleBinding', LEADER_ROLE_NAME, NS);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: LEADER_ROLE_NAME });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: SA_NAME, namespace: NS }]);
    // Tycho cannot create it (a Role cannot grant create by name), so the manifests do, empty:
    // re-applying them must never take the Lease from its holder.
    const lease = findObject<V1Lease>(base, 'Lease', LEASE_NAME, NS);
    expect(lease.spec).toBeUndefined();
  });

  it('runs Tycho as its ServiceAccount, non-root, read-only, without capabilities, with limits and probes', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    const pod = d.spec!.template.spec!;
    const c = container(d);
    expect(pod.serviceAccountName).toBe(SA_NAME);
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext!.runAsUser).toBeGreaterThan(0);
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext!.privileged ?? false).toBe(false);
    expect(c.securityContext!.capabilities!.add).toBeUndefined();
    for (const kind of ['requests', 'limits'] as const) expect(Object.keys(c.resources![kind]!).sort()).toEqual(['cpu', 'memory']);

    const http = c.ports!.find((p) => p.name === 'http')!;
    expect(String(http.containerPort)).toBe(podEnv(d, { TYCHO_API_TOKEN: 'x' }).PORT);
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(pod.volumes?.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
  });

  it('takes its tokens from the Secret by name, requires TYCHO_API_TOKEN, launches into the apps namespace, and never starts a local cluster', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    const c = container(d);
    expect(d.metadata!.namespace).toBe(NS);
    expect(c.envFrom).toEqual([{ secretRef: { name: SECRET_NAME } }]);
    // No token values in the manifests: the only valueFrom is the API token, a required key.
    expect((c.env ?? []).filter((e) => e.valueFrom)).toEqual([
      { name: 'TYCHO_API_TOKEN', valueFrom: { secretKeyRef: { name: SECRET_NAME, key: 'TYCHO_API_TOKEN', optional: false } } },
    ]);
    expect(() => podEnv(d, { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' })).toThrow(/couldn't find key TYCHO_API_TOKEN/);
    const env = podEnv(d, { TYCHO_API_TOKEN: 'a-token-of-24-characters' });
    expect(env).toMatchObject({ TYCHO_API_TOKEN: 'a-token-of-24-characters', TYCHO_NAMESPACE: APPS_NS, TYCHO_LOCAL_CLUSTER: 'never', HOST: '0.0.0.0' });
    expect(loadConfig(env)).toMatchObject({ namespace: APPS_NS, apiToken: 'a-token-of-24-characters' });
    // The tag the README's `docker build -t tycho:VERSION .` gives the image.
    const { version } = JSON.parse(read('package.json')) as { version: string };
    expect(c.image).toBe(`tycho:${version}`);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
  });

  it('reads its policy from kubernetes/policy.yaml, mounted read-only from the generated ConfigMap, and that file is a valid policy', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    const policy = base.find((o): o is V1ConfigMap => o.kind === 'ConfigMap' && /^tycho-policy-/.test(o.metadata!.name!))!;
    expect(policy.metadata!.labels).toMatchObject({ 'app.kubernetes.io/component': 'server' });
    expect(policy.data).toEqual({ 'policy.yaml': read('kubernetes/policy.yaml') });
    expect(container(d).env?.find((e) => e.name === 'TYCHO_POLICY_FILE')).toEqual({ name: 'TYCHO_POLICY_FILE', value: '/etc/tycho/policy.yaml' });
    expect(container(d).volumeMounts).toContainEqual({ name: 'policy', mountPath: '/etc/tycho', readOnly: true });
    expect(d.spec!.template.spec!.volumes).toContainEqual({ name: 'policy', configMap: { name: policy.metadata!.name } });
    // What the pod reads at start: valid, and as open as Tycho without a policy file.
    const config = loadConfig(podEnv(d, { TYCHO_API_TOKEN: 'a-token-of-24-characters' }));
    expect(config.access).toEqual(loadConfig({}).access);
  });

  it('never labels itself as one of the apps Tycho launched (Tycho would list and tear down itself)', () => {
    for (const o of base) expect(o.metadata?.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    expect(d.spec!.template.metadata!.labels!['app.kubernetes.io/managed-by']).toBeUndefined();
  });

  it('has a ClusterIP Service that selects exactly the Deployment\'s pods on the http port', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    const svc = findObject<V1Service>(base, 'Service', 'tycho');
    expect(svc.metadata!.namespace).toBe(NS);
    expect(svc.spec!.type).toBe('ClusterIP');
    expect(svc.spec!.selector).toEqual(d.spec!.selector.matchLabels);
    expect(d.spec!.template.metadata!.labels).toMatchObject(svc.spec!.selector!);
    expect(svc.spec!.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
  });
});

describe('two replicas', () => {
  it('runs two, preferably on different nodes (a one-node cluster still runs both)', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    expect(d.spec!.replicas).toBe(2);
    const [term, ...more] = d.spec!.template.spec!.affinity!.podAntiAffinity!.preferredDuringSchedulingIgnoredDuringExecution!;
    expect(more).toEqual([]);
    expect(term!.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(term!.podAffinityTerm.labelSelector!.matchLabels).toEqual(d.spec!.selector.matchLabels);
    expect(d.spec!.template.spec!.affinity!.podAntiAffinity!.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
  });

  /** The PodDisruptionBudget a component adds, from kubernetes/ customised with it. */
  async function budgetOf(component: string, names: Partial<{ namespace: string; appsNamespace: string }> = {}): Promise<KubernetesObject & { spec?: { minAvailable?: number; selector?: { matchLabels?: Record<string, string> } } }> {
    return findObject(await renderCustomised({ components: [component], settings: names }), 'PodDisruptionBudget', 'tycho');
  }

  it('without a component there is no PodDisruptionBudget', () => {
    expect(base.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  it.each([
    ['components/pdb', 'policy/v1'],
    ['components/pdb-v1beta1', 'policy/v1beta1'],
  ])('%s: one budget in %s that keeps one replica up, selects exactly the Deployment\'s pods, and follows settings.yaml', async (component, apiVersion) => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    const pdb = await budgetOf(component);
    expect(pdb.apiVersion).toBe(apiVersion);
    expect(pdb.metadata!.namespace).toBe(NS);
    expect(pdb.spec!.minAvailable).toBe(1);
    expect(pdb.spec!.selector!.matchLabels).toEqual(d.spec!.selector.matchLabels);
    expect((await budgetOf(component, { namespace: 'ops-tycho', appsNamespace: 'ops-apps' })).metadata!.namespace).toBe('ops-tycho');
  });

  it('on this 1.20 API server, components/pdb-v1beta1 applies and guards both replicas; components/pdb (policy/v1) is refused', async () => {
    const { namespace } = await installTycho(await createTestNamespace('pdb-apps'), { components: ['components/pdb-v1beta1'] });
    const got = JSON.parse((await kubectl(['-n', namespace, 'get', 'poddisruptionbudgets.v1beta1.policy', 'tycho', '-o', 'json'])).stdout) as {
      apiVersion: string;
      spec: { minAvailable: number };
      status?: { expectedPods?: number };
    };
    expect(got.apiVersion).toBe('policy/v1beta1');
    expect(got.spec.minAvailable).toBe(1);
    // The disruption controller counts the Deployment's two pods under it.
    await waitFor(async () => (JSON.parse((await kubectl(['-n', namespace, 'get', 'poddisruptionbudgets.v1beta1.policy', 'tycho', '-o', 'json'])).stdout) as typeof got).status?.expectedPods === 2, {
      what: 'the budget to count both replicas',
    });
    await expect(installTycho(await createTestNamespace('pdb-v1-apps'), { components: ['components/pdb'] })).rejects.toThrow(
      /no matches for kind "PodDisruptionBudget" in version "policy\/v1"/,
    );
  });
});

describe('settings.yaml', () => {
  const names = { namespace: 'ops-tycho', appsNamespace: 'ops-apps', ingressNamespace: 'ops-ingress' };

  it('other names reach every object: nothing is left in tycho or tycho-apps, and every reference follows', async () => {
    const objects = await renderCustomised({ settings: names });
    // The same objects, each in its new namespace.
    const asDefault = (o: KubernetesObject) => describeObject(o).replace(names.appsNamespace, APPS_NS).replace(names.namespace, NS);
    expect(objects.map(asDefault).sort()).toEqual(base.map(describeObject).sort());
    // No field that names a namespace still holds a default one ("tycho" is also the name of
    // the ServiceAccount, Deployment, Service and container: those are not namespaces).
    const stale = objects.flatMap((o) =>
      leaves(o)
        .filter(([path, v]) => [APPS_NS, INGRESS_NS].includes(v) || (v === NS && /(^|\.)(namespace|kubernetes\.io\/metadata\.name)$/.test(path)))
        .map(([path, v]) => `${describeObject(o)} ${path}=${v}`),
    );
    expect(stale).toEqual([]);
    const d = findObject<V1Deployment>(objects, 'Deployment', 'tycho', names.namespace);
    expect(podEnv(d, { TYCHO_API_TOKEN: 'x' }).TYCHO_NAMESPACE).toBe(names.appsNamespace);
    for (const b of objects.filter((o): o is V1RoleBinding => o.kind === 'RoleBinding')) expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: SA_NAME, namespace: names.namespace }]);
    for (const ns of objects.filter((o): o is V1Namespace => o.kind === 'Namespace')) expect(ns.metadata!.labels!['kubernetes.io/metadata.name']).toBe(ns.metadata!.name);
    const ingressSelectors = objects.flatMap((o) => leaves(o).filter(([path]) => path.endsWith('namespaceSelector.matchLabels.kubernetes.io/metadata.name')).map(([, v]) => v));
    expect(ingressSelectors).toEqual([names.ingressNamespace, names.ingressNamespace]);
  });

  it('even swapped for each other, the two namespace names end up where they belong', async () => {
    const objects = await renderCustomised({ settings: { namespace: APPS_NS, appsNamespace: NS } });
    expect(findObject(objects, 'Deployment', 'tycho').metadata!.namespace).toBe(APPS_NS);
    expect(findObject(objects, 'Role', ROLE_NAME).metadata!.namespace).toBe(NS);
    expect(findObject(objects, 'Lease', LEASE_NAME).metadata!.namespace).toBe(APPS_NS);
    expect(podEnv(findObject<V1Deployment>(objects, 'Deployment', 'tycho'), { TYCHO_API_TOKEN: 'x' }).TYCHO_NAMESPACE).toBe(NS);
  });
});

describe('secret.example.yaml', () => {
  const example = loadAllYaml(read('kubernetes/secret.example.yaml')) as V1Secret[];

  it('is the Secret the Deployment reads, outside every kustomization, with placeholders only', () => {
    expect(example).toHaveLength(1);
    const s = example[0]!;
    expect(s).toMatchObject({ apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: SECRET_NAME, namespace: NS } });
    expect(s.data).toBeUndefined();
    expect(Object.keys(s.stringData!).sort()).toEqual(['SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN', 'TYCHO_API_TOKEN']);
    for (const v of Object.values(s.stringData!)) expect(v).toMatch(/^REPLACE ME/);
    expect(base.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('fails loudly when applied unchanged: Tycho names every placeholder instead of running with it', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    let problems: string[] = [];
    try {
      loadConfig(podEnv(d, example[0]!.stringData));
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      problems = (e as ConfigError).problems;
    }
    for (const key of Object.keys(example[0]!.stringData!)) expect(problems.some((p) => p.startsWith(key))).toBe(true);
  });

  it('no file under kubernetes/ holds anything shaped like a real Slack token', () => {
    for (const f of filesUnder(KUBERNETES_DIR)) expect([relative(REPO, f), /\b(xox[abposr]|xapp)-\d/.test(readFileSync(f, 'utf8'))]).toEqual([relative(REPO, f), false]);
  });
});

/**
 * Every module a program loads, followed from `entry` through its relative imports (static and
 * dynamic; `import type` loads nothing), and the packages it names.
 */
function importGraph(entry: string, fileOf: (spec: string) => string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), fileOf(spec)));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(entry);
  return { files, packages };
}

/** The Node flags the image runs the server with (the Dockerfile's CMD). */
const IMAGE_FLAGS = ['--max-semi-space-size=2', '--heap-growing-percent=20'];

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = instructions.reduce<string[][]>((acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : (acc.at(-1)?.push(l), acc)), []);
  const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };

  it('builds with the dev dependencies and runs with the production ones only, as a non-root user', () => {
    expect(stages).toHaveLength(2);
    const [build, run] = stages as [string[], string[]];
    expect(build[0]).toMatch(/^FROM node:\S+ AS build$/);
    expect(build).toContain('RUN npm ci --ignore-scripts');
    expect(build).toContain('RUN npm run build:image');
    expect(run.some((l) => /^RUN npm ci --omit=dev --ignore-scripts\b/.test(l))).toBe(true);
    expect(run).toContain('COPY --from=build /app/dist ./dist');
    // Numeric, so the kubelet can check runAsNonRoot; the same uid the Deployment runs as.
    const user = run.find((l) => l.startsWith('USER '))!;
    expect(user).toBe('USER 1000:1000');
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    expect(d.spec!.template.spec!.securityContext!.runAsUser).toBe(1000);
    expect(run).toContain('EXPOSE 3000');
  });

  it('runs Node with flags this Node takes (a V8 flag a Node upgrade dropped would stop the server from starting)', () => {
    const run = spawnSync(process.execPath, [...imageNodeFlags(dockerfile), '-e', ''], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('starts the production entry, the server `npm start` runs without its local-cluster fallback, from the build\'s output', () => {
    const cmd = instructions.find((l) => l.startsWith('CMD '))!;
    const argv = JSON.parse(cmd.slice(4)) as string[];
    // A small young generation (2 MiB semi-spaces instead of up to 16): about 30 MiB less
    // resident memory idle and at a burst's peak, for scavenges that `npm run bench` does not
    // see in its ack or launch figures. An old generation let grow 20 % past what survived the
    // last full collection (not up to 4x): a burst's peak 181-194 -> 139-142 MiB. The benchmark
    // runs the server with these same flags.
    expect(argv).toEqual(['node', ...IMAGE_FLAGS, 'dist/server/main.js']);
    expect(imageNodeFlags(dockerfile)).toEqual(IMAGE_FLAGS);
    // `npm start` is "build, then the entry that adds the local cluster"; both run src/server/run.ts.
    expect(pkg.scripts.start).toBe('npm run build --silent && node dist/local/start-server.js');
    expect(read('src/local/start-server.ts')).toMatch(/from '\.\.\/server\/run\.js'/);
    expect(read('src/server/main.ts')).toMatch(/from '\.\/run\.js'/);
    // The image is built once, in the build stage, from the production entry alone.
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(pkg.scripts['build:image']).toBe('tsc -p tsconfig.image.json');
    const tsImage = JSON.parse(read('tsconfig.image.json')) as { compilerOptions: { rootDir: string; outDir: string }; files: string[]; include: string[] };
    expect(tsImage).toMatchObject({ compilerOptions: { rootDir: 'src', outDir: 'dist' }, files: ['src/server/main.ts'], include: [] });
    expect(existsSync(join(REPO, 'src/server/main.ts'))).toBe(true);
  });

  it('runs on production dependencies alone: the server imports no dev dependency', () => {
    const { files, packages } = importGraph(join(REPO, 'src/server/main.ts'), (spec) => spec.replace(/\.js$/, '.ts'));
    expect(files.size).toBeGreaterThan(10);
    const missing = [...packages].filter((b) => !b.startsWith('node:') && !builtinModules.includes(b) && !(b in pkg.dependencies));
    expect(missing).toEqual([]);
  });

  it('ships neither the local cluster, its node simulator nor the benchmark', async () => {
    const notShipped = /^(local|bench)\//;
    // What the production entry loads, followed through the compiled output (npm run build).
    const dist = join(REPO, 'dist');
    const { files } = importGraph(join(dist, 'server/main.js'), (spec) => spec);
    const loaded = [...files].map((f) => relative(dist, f));
    expect(loaded).toEqual(expect.arrayContaining(['server/main.js', 'server/tycho.js', 'k8s/launcher.js', 'bot/app.js', 'api/routes.js']));
    expect(loaded.filter((f) => notShipped.test(f))).toEqual([]);
    // What the image's build compiles: the same graph, type-only imports included.
    const listed = await new Promise<string>((done, fail) =>
      execFile(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.image.json', '--listFilesOnly'], { cwd: REPO }, (e, out) => (e ? fail(e) : done(out))),
    );
    const compiled = listed
      .split('\n')
      .filter((f) => f.startsWith(join(REPO, 'src') + '/'))
      .map((f) => relative(join(REPO, 'src'), f));
    expect(compiled).toEqual(expect.arrayContaining(['server/main.ts', 'server/run.ts', 'log.ts']));
    expect(compiled.filter((f) => notShipped.test(f))).toEqual([]);
    // And the Dockerfile copies nothing else into the image: the build stage's output, and the manifests of its dependencies.
    const [, run] = stages as [string[], string[]];
    expect(run.filter((l) => l.startsWith('COPY '))).toEqual(['COPY package.json package-lock.json ./', 'COPY --from=build /app/dist ./dist']);
    expect(instructions.filter((l) => /\b(local|bench)\b/.test(l))).toEqual([]);
  }, 120_000);

  it('.dockerignore keeps secrets, build output and dependencies out of the build context, but not the sources', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['.env', '.git', 'node_modules', 'dist']) expect(ignored).toContain(p);
    const copied = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copied.sort()).toEqual(['package-lock.json', 'package-lock.json', 'package.json', 'package.json', 'src', 'tsconfig.image.json', 'tsconfig.json']);
    for (const f of copied) expect([f, ignored.includes(f) || ignored.includes(`/${f}`)]).toEqual([f, false]);
  });
});

describe('on the real API server', () => {
  const core = () => kubeConfig().makeApiClient(CoreV1Api);
  const apps = () => kubeConfig().makeApiClient(AppsV1Api);
  const rbac = () => kubeConfig().makeApiClient(RbacAuthorizationV1Api);

  beforeAll(async () => {
    // These tests apply kubernetes/ as it is, into the namespaces it names. On a cluster of your
    // own (TYCHO_TEST_KUBECONFIG) that already runs Tycho they would change it, so they refuse.
    for (const name of [NS, APPS_NS]) {
      const exists = await core()
        .readNamespace({ name })
        .then(
          () => true,
          (e: { code?: number }) => (e.code === 404 ? false : Promise.reject(e)),
        );
      if (exists) throw new Error(`The test cluster already has a namespace "${name}"; test/deploy/manifests.test.ts applies kubernetes/ into it and will not touch an existing one.`);
    }
    // The README's step 3, as an operator runs it before applying: the namespace and the Secret
    // the Deployment reads (a REST-only Tycho: the API token, no Slack keys). Without it the pods
    // stay in CreateContainerConfigError, as on any kubelet.
    await kubectl(['create', 'namespace', NS]);
    await kubectl(['-n', NS, 'create', 'secret', 'generic', SECRET_NAME, `--from-literal=TYCHO_API_TOKEN=${'ab'.repeat(24)}`]);
  });

  afterAll(async () => {
    await kubectl(['delete', '-k', KUBERNETES_DIR, '--ignore-not-found', '--wait=false'], { allowFail: true });
  });

  it('`kubectl apply -k kubernetes/` creates every object, and applying it again changes nothing', async () => {
    const first = await kubectl(['apply', '-k', KUBERNETES_DIR]);
    // The policy ConfigMap's name ends in a hash of policy.yaml (-HASH here).
    expect(first.stdout.trim().split('\n').map((l) => l.replace(/^(configmap\/tycho-policy)-[a-z0-9]{10} /, '$1-HASH ')).sort()).toEqual(
      [
        // Made in step 3 with the Secret; apply takes it over.
        'namespace/tycho configured',
        'configmap/tycho-policy-HASH created',
        'namespace/tycho-apps created',
        'serviceaccount/tycho created',
        'deployment.apps/tycho created',
        'service/tycho created',
        'lease.coordination.k8s.io/tycho-leader created',
        'role.rbac.authorization.k8s.io/tycho-leader created',
        'rolebinding.rbac.authorization.k8s.io/tycho-leader created',
        'role.rbac.authorization.k8s.io/tycho-launcher created',
        'rolebinding.rbac.authorization.k8s.io/tycho-launcher created',
        'resourcequota/launched-apps created',
        'limitrange/launched-apps created',
        'networkpolicy.networking.k8s.io/default-deny-ingress created',
        'networkpolicy.networking.k8s.io/default-deny-ingress created',
        'networkpolicy.networking.k8s.io/allow-from-ingress-controller created',
        'networkpolicy.networking.k8s.io/allow-nodeports created',
        'networkpolicy.networking.k8s.io/tycho-server created',
      ].sort(),
    );
    // Each object is there, where the manifests put it.
    await core().readNamespace({ name: NS });
    await core().readNamespace({ name: APPS_NS });
    await core().readNamespacedServiceAccount({ namespace: NS, name: SA_NAME });
    await rbac().readNamespacedRole({ namespace: APPS_NS, name: ROLE_NAME });
    await rbac().readNamespacedRoleBinding({ namespace: APPS_NS, name: ROLE_NAME });
    await rbac().readNamespacedRole({ namespace: NS, name: LEADER_ROLE_NAME });
    await rbac().readNamespacedRoleBinding({ namespace: NS, name: LEADER_ROLE_NAME });
    await kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: NS, name: LEASE_NAME });
    const policies = async (namespace: string) => (await kubeConfig().makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace })).items.map((p) => p.metadata!.name).sort();
    expect(await policies(NS)).toEqual(['default-deny-ingress', 'tycho-server']);
    expect(await policies(APPS_NS)).toEqual(['allow-from-ingress-controller', 'allow-nodeports', 'default-deny-ingress']);
    expect((await rbac().listNamespacedRole({ namespace: NS })).items.map((r) => r.metadata!.name)).toEqual([LEADER_ROLE_NAME]);
    const d = await apps().readNamespacedDeployment({ namespace: NS, name: 'tycho' });
    expect(container(d).env!.find((e) => e.name === 'TYCHO_NAMESPACE')).toEqual({ name: 'TYCHO_NAMESPACE', value: APPS_NS });
    const svc = await core().readNamespacedService({ namespace: NS, name: 'tycho' });
    expect(svc.spec!.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // The API server kept every security setting (none is silently dropped by this version).
    const c = container(d);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(d.spec!.template.spec!.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.env!.find((e) => e.name === 'TYCHO_API_TOKEN')!.valueFrom).toEqual({ secretKeyRef: { name: SECRET_NAME, key: 'TYCHO_API_TOKEN', optional: false } });
    // Nothing cluster-wide was made.
    const labelSelector = 'app.kubernetes.io/part-of=tycho';
    expect((await rbac().listClusterRole({ labelSelector })).items).toEqual([]);
    expect((await rbac().listClusterRoleBinding({ labelSelector })).items).toEqual([]);

    const again = await kubectl(['apply', '-k', KUBERNETES_DIR]);
    expect(again.stdout.trim().split('\n').filter((l) => !l.endsWith(' unchanged'))).toEqual([]);
  });

  it('its two pods run (on the simulated node) and the Service routes to both on the http port', async () => {
    await waitFor(async () => ((await apps().readNamespacedDeployment({ namespace: NS, name: 'tycho' })).status?.readyReplicas ?? 0) >= 2, {
      what: 'the tycho Deployment to have its two replicas ready',
    });
    const pods = await core().listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/name=tycho' });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) expect(pod.spec!.serviceAccountName).toBe(SA_NAME);
    const endpoints = await waitFor(
      async () => {
        const ep = await core().readNamespacedEndpoints({ namespace: NS, name: 'tycho' });
        return ep.subsets?.[0]?.addresses?.length === 2 ? ep : undefined;
      },
      { what: 'the tycho Service to route to both replicas' },
    );
    expect(endpoints.subsets![0]!.addresses!.map((a) => a.targetRef?.name).sort()).toEqual(pods.items.map((p) => p.metadata!.name).sort());
    expect(endpoints.subsets![0]!.ports).toEqual([expect.objectContaining({ name: 'http', port: 3000 })]);
  });

  it('its ServiceAccount launches into tycho-apps, end to end, and nowhere else: not in its own namespace', async () => {
    const sa = await serviceAccountKubeConfig(NS);
    for (const [namespace, allowed] of [[APPS_NS, true], [NS, false], ['default', false]] as const) {
      expect([namespace, await can(sa, { namespace, verb: 'create', group: 'apps', resource: 'deployments' })]).toEqual([namespace, allowed]);
    }

    const launcher = new Launcher(sa, { namespace: APPS_NS, readyTimeoutSeconds: 60 });
    const spec = { name: 'hello', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' as const };
    const info = await launcher.up(spec);
    expect(info).toMatchObject({ name: 'hello', namespace: APPS_NS, ready: true });
    expect(await openUrl(info.url!)).toMatchObject({ status: 200 });
    expect((await launcher.status('hello')).url).toBe(info.url);
    expect((await launcher.list()).map((s) => s.name)).toEqual(['hello']);
    await launcher.down('hello');
    expect((await apps().listNamespacedDeployment({ namespace: APPS_NS })).items).toEqual([]);

    // Tycho's own namespace, with its Deployment and Secret, is out of its reach.
    const refused = await failureOf(new Launcher(sa, { namespace: NS }).up({ ...spec, name: 'in-tycho' }));
    expect(refused).toBeInstanceOf(Forbidden);
    // Refused at its first call there, whichever that is; nothing was created.
    expect(refused.message).toMatch(new RegExp(`^Tycho is not allowed to \\w+ [a-z.]+ in namespace "${NS}"`));
    expect((await apps().listNamespacedDeployment({ namespace: NS })).items.map((x) => x.metadata!.name)).toEqual(['tycho']);
  });
});
