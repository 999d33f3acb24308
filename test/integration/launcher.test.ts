/**
 * The launcher against the real local control plane (simulated kubelet only): what lands in
 * the cluster, the URL that really answers, and each way a launch can fail.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Launcher } from '../../src/k8s/launcher.js';
import { STAGE_ORDER } from '../../src/k8s/pod-verdict.js';
import {
  ContainerConfigError,
  CrashLooping,
  ImagePullFailed,
  InvalidSpec,
  NameInUse,
  NotFound,
  Timeout,
  TornDownWhileLaunching,
  Unschedulable,
} from '../../src/k8s/errors.js';
import type { LaunchSpec, Stage, SystemInfo } from '../../src/k8s/spec.js';
import { createTestNamespace, kubeConfig, nodePortRange, pauseControllerManager, systemObjects, launcherKubeConfig, waitFor } from '../support/cluster.js';
import { failureOf } from '../support/failures.js';
import { openUrl } from '../support/open-url.js';

let kc: KubeConfig;
/** Who the launcher is: admin here; Tycho's ServiceAccount when test/deploy runs this suite. */
let launcherKc: KubeConfig;
let ns: string;
let launcher: Launcher;
let apps: AppsV1Api;
let core: CoreV1Api;

const spec = (name: string, image = 'nginx', extra: Partial<LaunchSpec> = {}): LaunchSpec => ({
  name,
  image,
  ports: [80],
  owner: { id: 'cli:alice', display: 'alice' },
  origin: 'cli',
  ...extra,
});

const objectsOf = (name: string) => systemObjects(ns, name);

beforeAll(async () => {
  kc = kubeConfig();
  ns = await createTestNamespace('launcher');
  launcherKc = await launcherKubeConfig(ns);
  launcher = new Launcher(launcherKc, { namespace: ns, readyTimeoutSeconds: 120 });
  apps = kc.makeApiClient(AppsV1Api);
  core = kc.makeApiClient(CoreV1Api);
});

describe('up, status, list, down', () => {
  it('launches a system whose URL answers, and removes every trace of it', async () => {
    const stages: Stage[] = [];
    const info = await launcher.up(spec('hello', 'nginx', { env: [{ name: 'GREETING', value: 'hi' }], command: ['nginx', '-g', 'daemon off;'] }), {
      onProgress: (s) => stages.push(s),
    });

    expect(info).toMatchObject({ name: 'hello', namespace: ns, image: 'nginx', ready: true, stage: 'ready', owner: 'alice', origin: 'cli' });
    expect(stages).toContain('created');
    expect(stages[stages.length - 1]).toBe('ready');
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(info.url!).port);
    expect(port).toBeGreaterThanOrEqual(nodePortRange().min);
    expect(port).toBeLessThanOrEqual(nodePortRange().max);

    expect(await openUrl(info.url!)).toEqual({ status: 200, body: expect.stringContaining('hello') });

    const o = await objectsOf('hello');
    expect(o.deployments).toHaveLength(1);
    const d = o.deployments[0]!;
    expect(d.metadata!.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'tycho', 'app.kubernetes.io/name': 'hello', 'tycho.renci.org/system': 'hello' });
    expect(d.metadata!.annotations).toMatchObject({ 'tycho.renci.org/owner': 'alice', 'tycho.renci.org/origin': 'cli' });
    const c = d.spec!.template.spec!.containers[0]!;
    expect(c.args).toEqual(['nginx', '-g', 'daemon off;']);
    expect(c.env).toEqual([{ name: 'GREETING', value: 'hi' }]);
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(d.spec!.template.spec!.automountServiceAccountToken).toBe(false);
    expect(o.services).toHaveLength(1);
    expect(o.services[0]!.spec!.type).toBe('NodePort');
    expect(o.services[0]!.metadata!.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'hello', uid: d.metadata!.uid });
    expect(o.pods).toHaveLength(1);

    const status = await launcher.status('hello');
    expect(status).toMatchObject({ name: 'hello', ready: true, url: info.url, image: 'nginx', owner: 'alice' });
    expect((await launcher.list()).map((s) => s.name)).toContain('hello');

    const removed = await launcher.down('hello');
    expect(removed.name).toBe('hello');
    const after = await objectsOf('hello');
    expect(after).toEqual({ deployments: [], replicaSets: [], pods: [], services: [] });
    expect(await openUrl(info.url!)).toEqual({ refused: expect.any(String) });
  });

  it('says plainly when there is no such system, and down stays idempotent', async () => {
    expect(await failureOf(launcher.down('nothing-here'))).toBeInstanceOf(NotFound);
    expect(await failureOf(launcher.status('nothing-here'))).toBeInstanceOf(NotFound);
    await launcher.up(spec('twice'), { wait: false });
    await launcher.down('twice');
    const again = await failureOf(launcher.down('twice'));
    expect(again).toBeInstanceOf(NotFound);
    expect(again.message).toBe('There is no system named "twice".');
  });

  it('refuses a name in use, says who owns it, and changes nothing', async () => {
    await launcher.up(spec('taken'));
    const before = await apps.readNamespacedDeployment({ namespace: ns, name: 'taken' });
    const e = await failureOf(launcher.up(spec('taken', 'httpd', { owner: { id: 'cli:bob', display: 'bob' } })));
    expect(e).toBeInstanceOf(NameInUse);
    expect(e.message).toMatch(/already in use by alice since \d{4}-/);
    const after = await apps.readNamespacedDeployment({ namespace: ns, name: 'taken' });
    // Controllers may still be writing the Deployment's status; its spec and Tycho's record are what must not change.
    expect(after.metadata!.generation).toBe(before.metadata!.generation);
    expect(after.metadata!.annotations).toEqual(before.metadata!.annotations);
    expect(after.spec!.template.spec!.containers[0]!.image).toBe('nginx');
    await launcher.down('taken');
  });

  // Needs the local control plane (its controller-manager is paused); against a cluster of your own it says so and fails.
  it('launches again under a name whose Deployment was just deleted with kubectl, before the garbage collector took its Service', async () => {
    await launcher.up(spec('relaunched'));
    const firstUid = (await apps.readNamespacedDeployment({ namespace: ns, name: 'relaunched' })).metadata!.uid;
    // `kubectl delete deployment relaunched` on a cluster whose garbage collector is behind: the
    // Deployment goes at once, its Service only once the collector gets to it.
    const resume = pauseControllerManager();
    let again: Promise<SystemInfo>;
    let refused: unknown;
    try {
      await apps.deleteNamespacedDeployment({ namespace: ns, name: 'relaunched' });
      again = launcher.up(spec('relaunched', 'httpd'));
      again.catch((e: unknown) => (refused = e));
      // The launch clears the leftover and makes its own Service while the collector still
      // sleeps (or is refused, which ends the wait at once: the collector must not sleep long).
      await waitFor(
        async () => {
          if (refused) return true;
          const dep = await apps.readNamespacedDeployment({ namespace: ns, name: 'relaunched' });
          const svc = await core.readNamespacedService({ namespace: ns, name: 'relaunched' });
          return dep.metadata!.uid !== firstUid && svc.metadata!.ownerReferences?.[0]?.uid === dep.metadata!.uid;
        },
        { what: 'the new launch to own a Service of that name' },
      );
    } finally {
      resume();
    }
    expect(refused).toBeUndefined();
    expect(await again).toMatchObject({ ready: true, image: 'httpd' });
    expect(await openUrl(String((await again).url))).toMatchObject({ status: 200, body: expect.stringContaining('Hello from relaunched') });
    await launcher.down('relaunched');
  });

  it('lists many systems', async () => {
    await Promise.all(['l-one', 'l-two', 'l-three'].map((n) => launcher.up(spec(n), { wait: false })));
    const names = (await launcher.list()).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['l-one', 'l-two', 'l-three']));
    await Promise.all(['l-one', 'l-two', 'l-three'].map((n) => launcher.down(n)));
    expect((await launcher.list()).map((s) => s.name)).not.toEqual(expect.arrayContaining(['l-one']));
  });
});

describe('fast failure with the pod\'s own reason', () => {
  it.each([
    ['pull-fail', 'example.org/pull-error:1', ImagePullFailed, /could not be pulled.*ErrImagePull/],
    ['crashy', 'example.org/crashloop', CrashLooping, /keeps exiting.*CrashLoopBackOff.*exited with code 1/],
    ['badconf', 'example.org/config-error', ContainerConfigError, /CreateContainerConfigError/],
    ['badname', 'example.org/invalid-image', ImagePullFailed, /could not be pulled.*InvalidImageName/],
  ])('%s (%s) fails with %p, not a timeout', async (name, image, kind, message) => {
    const e = await failureOf(launcher.up(spec(name, image)));
    expect(e).toBeInstanceOf(kind);
    expect(e.message).toMatch(message);
    // The default is to leave the objects for inspection.
    expect((await objectsOf(name)).deployments).toHaveLength(1);
    expect((await launcher.status(name)).stage).toBe('failed');
    await launcher.down(name);
  });

  it('reports a GPU nobody has as unschedulable, with the scheduler\'s words', async () => {
    const e = await failureOf(launcher.up(spec('gpu-job', 'nginx', { resources: { gpu: 1 } })));
    expect(e).toBeInstanceOf(Unschedulable);
    expect(e.message).toMatch(/Insufficient nvidia\.com\/gpu/);
    await launcher.down('gpu-job');
  });

  it('times out an app that never becomes ready, naming the last state', async () => {
    // Long enough for the controllers, the scheduler and the node to get the pod running on a
    // busy machine, so the last state seen is the app's own.
    const e = await failureOf(launcher.up(spec('sleepy', 'example.org/never-ready'), { timeoutSeconds: 10 }));
    expect(e).toBeInstanceOf(Timeout);
    expect(e.message).toMatch(/not ready after 10 s \(last seen: started, not ready yet\)/);
    await launcher.down('sleepy');
  });

  it('cleans up after a failure when configured to', async () => {
    const tidy = new Launcher(launcherKc, { namespace: ns, onFailure: 'delete' });
    const e = await failureOf(tidy.up(spec('tidy', 'example.org/pull-error')));
    expect(e).toBeInstanceOf(ImagePullFailed);
    expect(await objectsOf('tidy')).toEqual({ deployments: [], replicaSets: [], pods: [], services: [] });
  });

  it('waits through a slow start', async () => {
    const info = await launcher.up(spec('slowpoke', 'example.org/slow-start'));
    expect(info.ready).toBe(true);
    await launcher.down('slowpoke');
  });
});

describe('never leaves an orphan', () => {
  it('removes the Deployment when the Service cannot be created', async () => {
    // A Service of that name that Tycho did not make blocks the launch's Service.
    await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'clash' }, spec: { ports: [{ port: 80 }] } } });
    const e = await failureOf(launcher.up(spec('clash')));
    expect(e).toBeInstanceOf(NameInUse);
    const o = await objectsOf('clash');
    expect(o.deployments).toEqual([]);
    expect(o.services.map((s) => s.metadata!.labels?.['app.kubernetes.io/managed-by'])).toEqual([undefined]);
    // The foreign Service is not Tycho's to delete.
    expect(await failureOf(launcher.down('clash'))).toBeInstanceOf(NotFound);
    expect((await objectsOf('clash')).services).toHaveLength(1);
  });

  it('rejects an invalid spec before creating anything', async () => {
    const e = await failureOf(launcher.up(spec('Bad_Name')));
    expect(e).toBeInstanceOf(InvalidSpec);
    const e2 = await failureOf(launcher.up(spec('okname', 'nginx', { resources: { memory: 'lots' } })));
    expect(e2).toBeInstanceOf(InvalidSpec);
    expect((await objectsOf('okname')).deployments).toEqual([]);
    expect((await apps.listNamespacedDeployment({ namespace: ns })).items.map((d) => d.metadata!.name)).not.toContain('okname');
  });
});

describe('a teardown while the launch still waits', () => {
  it('ends the wait at once with a clear answer, and leaves nothing', async () => {
    const stages: Stage[] = [];
    const launching = failureOf(launcher.up(spec('racer', 'example.org/never-ready'), { timeoutSeconds: 300, onProgress: (s) => stages.push(s) }));
    await waitForStage(stages, 'started');
    await launcher.down('racer');
    const e = await launching;
    expect(e).toBeInstanceOf(TornDownWhileLaunching);
    expect(e.message).toBe('"racer" was torn down while it was starting.');
    expect(e.leftInPlace).toBeUndefined();
    // Progress never went backwards while the pod was being removed.
    expect(stages).toEqual(STAGE_ORDER.filter((s) => stages.includes(s)));
    expect(await objectsOf('racer')).toEqual({ deployments: [], replicaSets: [], pods: [], services: [] });
  });
});

async function waitForStage(stages: Stage[], stage: Stage): Promise<void> {
  while (!stages.includes(stage)) await new Promise((r) => setTimeout(r, 50));
}
