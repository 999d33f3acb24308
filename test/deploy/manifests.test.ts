/**
 * kubernetes/ and the Dockerfile: what they say (rendered with kustomize, exactly as
 * `kubectl apply -k` sends it), and that `kubectl apply -k kubernetes/` and the
 * separate-apps-namespace variant really apply to the real API server and work there.
 */
import {
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  RbacAuthorizationV1Api,
  loadAllYaml,
  type KubernetesObject,
  type V1Container,
  type V1Deployment,
  type V1Role,
  type V1RoleBinding,
  type V1Secret,
  type V1Service,
} from '@kubernetes/client-node';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';
import { Forbidden, TychoError } from '../../src/k8s/errors.js';
import { Launcher } from '../../src/k8s/launcher.js';
import { kubeConfig, waitFor } from '../support/cluster.js';
import {
  KUBERNETES_DIR,
  REPO,
  ROLE_NAME,
  SA_NAME,
  SECRET_NAME,
  VARIANT_DIR,
  findObject,
  kubectl,
  removeServiceAccountFiles,
  render,
  serviceAccountKubeConfig,
} from './support.js';

const NS = 'tycho';
const APPS_NS = 'tycho-apps';
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

function container(d: V1Deployment): V1Container {
  return d.spec!.template.spec!.containers[0]!;
}

/** The Deployment's environment as Tycho would see it in a pod in `namespace`, plus the Secret's keys. */
function podEnv(d: V1Deployment, namespace: string, secret: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...secret };
  for (const e of container(d).env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[e.name] = namespace;
    else throw new Error(`unexpected env source for ${e.name}`);
  }
  return env;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

let base: KubernetesObject[];
let variant: KubernetesObject[];

beforeAll(async () => {
  [base, variant] = await Promise.all([render(KUBERNETES_DIR), render(VARIANT_DIR)]);
});
afterAll(removeServiceAccountFiles);

describe('kubernetes/ as rendered by kustomize', () => {
  it('is a Namespace, a ServiceAccount, a namespaced Role and RoleBinding, a Deployment and a ClusterIP Service, all in namespace tycho', () => {
    expect(base.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? '-'}/${o.metadata?.name}`).sort()).toEqual(
      [
        'apps/v1 Deployment tycho/tycho',
        'rbac.authorization.k8s.io/v1 Role tycho/tycho-launcher',
        'rbac.authorization.k8s.io/v1 RoleBinding tycho/tycho-launcher',
        'v1 Namespace -/tycho',
        'v1 Service tycho/tycho',
        'v1 ServiceAccount tycho/tycho',
      ].sort(),
    );
  });

  it('grants the launcher\'s calls only: no wildcards, no Secrets, nothing cluster-wide', () => {
    const role = findObject<V1Role>(base, 'Role', ROLE_NAME);
    const rules = role.rules ?? [];
    for (const r of rules) {
      for (const v of [...(r.apiGroups ?? []), ...(r.resources ?? []), ...r.verbs]) expect(v).not.toContain('*');
      expect(r.resources).not.toContain('secrets');
      expect(r.nonResourceURLs).toBeUndefined();
    }
    expect(rules.map((r) => [r.apiGroups, r.resources, r.verbs])).toEqual([
      [['apps'], ['deployments'], ['get', 'list', 'watch', 'create', 'patch', 'delete']],
      [['apps'], ['deployments/finalizers'], ['update']],
      [[''], ['services'], ['get', 'list', 'watch', 'create', 'delete']],
      [[''], ['pods'], ['list', 'watch']],
      [[''], ['endpoints'], ['list', 'watch']],
    ]);
    const binding = findObject<V1RoleBinding>(base, 'RoleBinding', ROLE_NAME);
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: ROLE_NAME });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: SA_NAME, namespace: NS }]);
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
    expect(String(http.containerPort)).toBe(podEnv(d, NS).PORT);
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(pod.volumes?.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
  });

  it('takes its tokens from the Secret by name, launches into its own namespace, and never starts a local cluster', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    const c = container(d);
    expect(c.envFrom).toEqual([{ secretRef: { name: SECRET_NAME } }]);
    // No token values in the manifests: the only valueFrom is the pod's own namespace.
    expect((c.env ?? []).filter((e) => e.valueFrom)).toEqual([{ name: 'TYCHO_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }]);
    expect(podEnv(d, NS)).toMatchObject({ TYCHO_NAMESPACE: NS, TYCHO_LOCAL_CLUSTER: 'never', HOST: '0.0.0.0' });
    // The tag the README's `docker build -t tycho:VERSION .` gives the image.
    const { version } = JSON.parse(read('package.json')) as { version: string };
    expect(c.image).toBe(`tycho:${version}`);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
  });

  it('never labels itself as one of the apps Tycho launched (Tycho would list and tear down itself)', () => {
    for (const o of base) expect(o.metadata?.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    expect(d.spec!.template.metadata!.labels!['app.kubernetes.io/managed-by']).toBeUndefined();
  });

  it('has a ClusterIP Service that selects exactly the Deployment\'s pods on the http port', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    const svc = findObject<V1Service>(base, 'Service', 'tycho');
    expect(svc.spec!.type).toBe('ClusterIP');
    expect(svc.spec!.selector).toEqual(d.spec!.selector.matchLabels);
    expect(d.spec!.template.metadata!.labels).toMatchObject(svc.spec!.selector!);
    expect(svc.spec!.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
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
    for (const objects of [base, variant]) expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('fails loudly when applied unchanged: Tycho names every placeholder instead of running with it', () => {
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    let problems: string[] = [];
    try {
      loadConfig(podEnv(d, NS, example[0]!.stringData));
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

describe('the separate-apps-namespace variant as rendered by kustomize', () => {
  it('binds the same Role in tycho-apps to the ServiceAccount in tycho, and grants nothing in tycho', () => {
    const roles = variant.filter((o): o is V1Role => o.kind === 'Role');
    expect(roles.map((r) => r.metadata!.namespace)).toEqual([APPS_NS]);
    expect(roles[0]!.rules).toEqual(findObject<V1Role>(base, 'Role', ROLE_NAME).rules);
    const bindings = variant.filter((o): o is V1RoleBinding => o.kind === 'RoleBinding');
    expect(bindings.map((b) => [b.metadata!.namespace, b.roleRef.name, b.subjects])).toEqual([[APPS_NS, ROLE_NAME, [{ kind: 'ServiceAccount', name: SA_NAME, namespace: NS }]]]);
    expect(variant.filter((o) => /Cluster/.test(o.kind ?? ''))).toEqual([]);
  });

  it('is the base otherwise: its Namespace, ServiceAccount, Deployment and Service in tycho, plus the apps namespace', () => {
    expect(variant.map((o) => `${o.kind} ${o.metadata?.namespace ?? '-'}/${o.metadata?.name}`).sort()).toEqual(
      ['Deployment tycho/tycho', 'Namespace -/tycho', 'Namespace -/tycho-apps', 'Role tycho-apps/tycho-launcher', 'RoleBinding tycho-apps/tycho-launcher', 'Service tycho/tycho', 'ServiceAccount tycho/tycho'].sort(),
    );
    const d = findObject<V1Deployment>(variant, 'Deployment', 'tycho');
    expect(podEnv(d, NS).TYCHO_NAMESPACE).toBe(APPS_NS);
    // Apart from that one variable, the very same Deployment.
    const strip = (x: V1Deployment) => {
      const copy = structuredClone(x);
      container(copy).env = container(copy).env!.filter((e) => e.name !== 'TYCHO_NAMESPACE');
      return copy;
    };
    expect(strip(d)).toEqual(strip(findObject<V1Deployment>(base, 'Deployment', 'tycho')));
    expect(findObject(variant, 'Service', 'tycho', NS)).toEqual(findObject(base, 'Service', 'tycho'));
  });
});

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
    expect(build).toContain('RUN npm run build');
    expect(run.some((l) => /^RUN npm ci --omit=dev --ignore-scripts\b/.test(l))).toBe(true);
    expect(run).toContain('COPY --from=build /app/dist ./dist');
    // Numeric, so the kubelet can check runAsNonRoot; the same uid the Deployment runs as.
    const user = run.find((l) => l.startsWith('USER '))!;
    expect(user).toBe('USER 1000:1000');
    const d = findObject<V1Deployment>(base, 'Deployment', 'tycho');
    expect(d.spec!.template.spec!.securityContext!.runAsUser).toBe(1000);
    expect(run).toContain('EXPOSE 3000');
  });

  it('starts what `npm start` starts, from the build\'s output', () => {
    const cmd = instructions.find((l) => l.startsWith('CMD '))!;
    const argv = JSON.parse(cmd.slice(4)) as string[];
    expect(argv).toEqual(['node', 'dist/server/main.js']);
    // `npm start` is "build, then this": the image is built once, in the build stage.
    expect(pkg.scripts.start!.endsWith(`&& ${argv.join(' ')}`)).toBe(true);
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    const tsBuild = JSON.parse(read('tsconfig.build.json')) as { compilerOptions: { rootDir: string; outDir: string } };
    expect(tsBuild.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
    expect(existsSync(join(REPO, 'src/server/main.ts'))).toBe(true);
  });

  it('runs on production dependencies alone: the server imports no dev dependency', () => {
    // Every module the server loads, followed from src/server/main.ts.
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = (m[1] ?? m[2])!;
        if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
        else bare.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    };
    visit(join(REPO, 'src/server/main.ts'));
    expect(seen.size).toBeGreaterThan(10);
    const missing = [...bare].filter((b) => !b.startsWith('node:') && !builtinModules.includes(b) && !(b in pkg.dependencies));
    expect(missing).toEqual([]);
  });

  it('.dockerignore keeps secrets, build output and dependencies out of the build context, but not the sources', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['.env', '.git', 'node_modules', 'dist']) expect(ignored).toContain(p);
    const copied = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from=')).flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(copied.sort()).toEqual(['package-lock.json', 'package-lock.json', 'package.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
    for (const f of copied) expect([f, ignored.includes(f) || ignored.includes(`/${f}`)]).toEqual([f, false]);
  });
});

describe('on the real API server', () => {
  const core = () => kubeConfig().makeApiClient(CoreV1Api);
  const apps = () => kubeConfig().makeApiClient(AppsV1Api);
  const rbac = () => kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  const gone = (namespace: string) =>
    waitFor(
      () =>
        core()
          .readNamespace({ name: namespace })
          .then(
            () => false,
            (e: { code?: number }) => e.code === 404,
          ),
      { timeoutMs: 90_000, what: `namespace ${namespace} to be deleted` },
    );

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
  });

  afterAll(async () => {
    await kubectl(['delete', '-k', VARIANT_DIR, '--ignore-not-found', '--wait=false'], { allowFail: true });
    await kubectl(['delete', '-k', KUBERNETES_DIR, '--ignore-not-found', '--wait=false'], { allowFail: true });
  });

  it('`kubectl apply -k kubernetes/` creates every object, and applying it again changes nothing', async () => {
    const first = await kubectl(['apply', '-k', KUBERNETES_DIR]);
    expect(first.stdout.trim().split('\n').sort()).toEqual(
      [
        'namespace/tycho created',
        'serviceaccount/tycho created',
        'role.rbac.authorization.k8s.io/tycho-launcher created',
        'rolebinding.rbac.authorization.k8s.io/tycho-launcher created',
        'service/tycho created',
        'deployment.apps/tycho created',
      ].sort(),
    );
    await core().readNamespace({ name: NS });
    await core().readNamespacedServiceAccount({ namespace: NS, name: SA_NAME });
    await rbac().readNamespacedRole({ namespace: NS, name: ROLE_NAME });
    await rbac().readNamespacedRoleBinding({ namespace: NS, name: ROLE_NAME });
    const d = await apps().readNamespacedDeployment({ namespace: NS, name: 'tycho' });
    const svc = await core().readNamespacedService({ namespace: NS, name: 'tycho' });
    expect(svc.spec!.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // The API server kept every security setting (none is silently dropped by this version).
    const c = container(d);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(d.spec!.template.spec!.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    // Nothing cluster-wide was made.
    const labelSelector = 'app.kubernetes.io/part-of=tycho';
    expect((await rbac().listClusterRole({ labelSelector })).items).toEqual([]);
    expect((await rbac().listClusterRoleBinding({ labelSelector })).items).toEqual([]);

    const again = await kubectl(['apply', '-k', KUBERNETES_DIR]);
    expect(again.stdout.trim().split('\n').every((l) => l.endsWith(' unchanged'))).toBe(true);
  });

  it('its pod runs (on the simulated node) and the Service routes to it on the http port', async () => {
    await waitFor(async () => ((await apps().readNamespacedDeployment({ namespace: NS, name: 'tycho' })).status?.readyReplicas ?? 0) >= 1, {
      what: 'the tycho Deployment to have a ready replica',
    });
    const pods = await core().listNamespacedPod({ namespace: NS, labelSelector: 'app.kubernetes.io/name=tycho' });
    expect(pods.items).toHaveLength(1);
    const pod = pods.items[0]!;
    expect(pod.spec!.serviceAccountName).toBe(SA_NAME);
    const endpoints = await waitFor(
      async () => {
        const ep = await core().readNamespacedEndpoints({ namespace: NS, name: 'tycho' });
        return ep.subsets?.[0]?.addresses?.length ? ep : undefined;
      },
      { what: 'the tycho Service to have an endpoint' },
    );
    expect(endpoints.subsets![0]!.addresses!.map((a) => a.targetRef?.name)).toEqual([pod.metadata!.name]);
    expect(endpoints.subsets![0]!.ports).toEqual([expect.objectContaining({ name: 'http', port: 3000 })]);
  });

  it('its ServiceAccount may launch in tycho and nowhere else', async () => {
    const sa = await serviceAccountKubeConfig(NS);
    const authz = sa.makeApiClient(AuthorizationV1Api);
    const may = async (namespace: string) =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, verb: 'create', group: 'apps', resource: 'deployments' } } } })).status!.allowed;
    expect(await may(NS)).toBe(true);
    expect(await may('default')).toBe(false);
  });

  it('the separate-apps-namespace variant applies too, and its ServiceAccount launches into tycho-apps only', async () => {
    await kubectl(['delete', '-k', KUBERNETES_DIR, '--wait=true']);
    await gone(NS);
    await kubectl(['apply', '-k', VARIANT_DIR]);
    expect((await rbac().listNamespacedRole({ namespace: NS })).items).toEqual([]);
    expect((await rbac().listNamespacedRoleBinding({ namespace: NS })).items).toEqual([]);
    expect((await rbac().readNamespacedRoleBinding({ namespace: APPS_NS, name: ROLE_NAME })).subjects).toEqual([
      { kind: 'ServiceAccount', name: SA_NAME, namespace: NS },
    ]);
    const d = await apps().readNamespacedDeployment({ namespace: NS, name: 'tycho' });
    expect(container(d).env!.find((e) => e.name === 'TYCHO_NAMESPACE')).toEqual({ name: 'TYCHO_NAMESPACE', value: APPS_NS });

    const sa = await serviceAccountKubeConfig(NS);
    const launcher = new Launcher(sa, { namespace: APPS_NS, readyTimeoutSeconds: 60 });
    const spec = { name: 'hello', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' as const };
    const info = await launcher.up(spec);
    expect(info).toMatchObject({ name: 'hello', namespace: APPS_NS, ready: true });
    const page = await fetch(info.url!, { signal: AbortSignal.timeout(5000) });
    expect(page.status).toBe(200);
    expect((await launcher.status('hello')).url).toBe(info.url);
    expect((await launcher.list()).map((s) => s.name)).toEqual(['hello']);
    await launcher.down('hello');
    expect((await apps().listNamespacedDeployment({ namespace: APPS_NS })).items).toEqual([]);

    // Tycho's own namespace is out of its reach.
    let refused: unknown;
    await new Launcher(sa, { namespace: NS }).up({ ...spec, name: 'in-tycho' }).catch((e: unknown) => (refused = e));
    expect(refused).toBeInstanceOf(Forbidden);
    expect((refused as TychoError).message).toMatch(new RegExp(`not allowed to (list|watch) (deployments\\.apps|services|pods|endpoints) in namespace "${NS}"`));

    await kubectl(['delete', '-k', VARIANT_DIR, '--wait=true']);
    await Promise.all([gone(NS), gone(APPS_NS)]);
  });
});
