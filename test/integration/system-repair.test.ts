/**
 * A server killed between a launch's creates leaves a Deployment of Tycho's with no Service (or,
 * exposed as ingress, no Ingress): its pod runs, nothing routes to it, and no one waits on it.
 * What such a kill leaves is made here directly (the objects exactly as the launcher builds
 * them, less the missing one), and then a Tycho server runs on the namespace: it makes the
 * missing child again from what the Deployment records, and the system becomes ready with its
 * URL checked, and the URL answers. A launch that is only slow between its creates, and finds
 * its child made meanwhile, goes on with it.
 */
import { AppsV1Api, CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { buildDeployment, buildSecret, buildService } from '../../src/k8s/manifests.js';
import { ANN_INGRESS_HOST, ANN_SERVICE_TYPE, ANN_URL_CHECK } from '../../src/k8s/labels.js';
import type { ExposeMode, LaunchSpec } from '../../src/k8s/spec.js';
import type { RunningTycho } from '../../src/server/tycho.js';
import { Launcher } from '../../src/k8s/launcher.js';
import { ANN_REPAIR, SystemRepair } from '../../src/k8s/system-repair.js';
import { ANN_URL_CHANGED } from '../../src/k8s/node-ports.js';
import { LiveView } from '../../src/k8s/view/live-view.js';
import { createLogger } from '../../src/log.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { HttpFaultProxy } from '../support/fault-proxy.js';
import { startServer } from '../api/helpers.js';
import { openUrl } from '../support/open-url.js';
import { wildcardCertificate } from '../support/test-ca.js';

const apps = kubeConfig().makeApiClient(AppsV1Api);
const core = kubeConfig().makeApiClient(CoreV1Api);
const networking = kubeConfig().makeApiClient(NetworkingV1Api);
let ns: string;
let server: RunningTycho;
/**
 * The servers' repair grace: 2 s, not 10, so that each test does not wait out 10 s of it. Still
 * far longer than a launch takes between its creates (one test holds a launch there on purpose).
 */
const REPAIR_GRACE_MS = 2000;

const spec = (name: string, expose?: ExposeMode): LaunchSpec => ({
  name,
  image: 'nginx',
  ports: [80, 8080],
  owner: { id: 'cli:alice', display: 'alice' },
  origin: 'cli',
  ...(expose ? { expose } : {}),
});

/** What a launch killed after its first create leaves: the Deployment alone. */
async function deploymentOnly(s: LaunchSpec): Promise<string> {
  const d = await apps.createNamespacedDeployment({ namespace: ns, body: buildDeployment(s, ns) });
  return d.metadata!.uid!;
}

beforeAll(async () => {
  ns = await createTestNamespace('system-repair');
  // The server's default type is ClusterIP: a repaired Service of a NodePort launch must still be a NodePort.
  server = await startServer({ namespace: ns, env: { TYCHO_SERVICE_TYPE: 'ClusterIP' }, repairGraceMs: REPAIR_GRACE_MS });
});

afterAll(async () => {
  await server?.stop();
});

it('the Deployment records the Service type of the mode it was exposed with', () => {
  expect(buildDeployment(spec('typed', 'loadbalancer'), ns).metadata!.annotations![ANN_SERVICE_TYPE]).toBe('LoadBalancer');
});

it('a Deployment left without its Service gets it back as launched (type, ports, owner), becomes ready, and its URL is checked as a launch checks it and answers', async () => {
  const uid = await deploymentOnly(spec('cut-short', 'nodeport'));
  const svc = await waitFor(() => core.readNamespacedService({ namespace: ns, name: 'cut-short' }).catch(() => undefined), { what: 'the Service to be made again' });
  expect(svc.spec!.type).toBe('NodePort');
  expect(svc.spec!.ports!.map((p) => p.port)).toEqual([80, 8080]);
  expect(svc.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'cut-short', uid, controller: true })]);
  expect(svc.metadata!.labels!['app.kubernetes.io/managed-by']).toBe('tycho');

  const status = await waitFor(
    async () => {
      const info = await server.launcher.status('cut-short');
      // Ready, and the URL check the repair makes once it serves, as a launch would have made it.
      return info.ready && info.urlCheck ? info : undefined;
    },
    { what: 'the system to be ready with its URL checked' },
  );
  expect(status.urlCheck).toEqual({ checked: 'public', verified: true });
  const url = String(status.url);
  expect(url).toMatch(/^http:\/\/[^:]+:\d+$/);
  expect(await openUrl(url)).toMatchObject({ status: expect.any(Number) });
});

it('a Deployment from before the type was recorded gets the server\'s configured type', async () => {
  const body = buildDeployment(spec('unrecorded'), ns);
  delete body.metadata!.annotations![ANN_SERVICE_TYPE];
  await apps.createNamespacedDeployment({ namespace: ns, body });
  const svc = await waitFor(() => core.readNamespacedService({ namespace: ns, name: 'unrecorded' }).catch(() => undefined), { what: 'the Service to be made again' });
  expect(svc.spec!.type).toBe('ClusterIP');
});

it('a launch held between its two creates finds its Service made by the repair, and goes on to ready with it', async () => {
  const proxy = await HttpFaultProxy.start(kubeConfig());
  try {
    // The launch's Service create waits at the proxy: the launch is slow exactly between its creates.
    proxy.holdWhen = (method, path) => method === 'POST' && /\/services(\?|$)/.test(path);
    const slow = new Launcher(proxy.kubeConfigThrough(kubeConfig()), { namespace: ns, readyTimeoutSeconds: 60 });
    const launching = slow.up(spec('slow-between', 'nodeport'));
    await waitFor(() => proxy.held === 1, { what: 'the Service create to be held' });
    const made = await waitFor(() => core.readNamespacedService({ namespace: ns, name: 'slow-between' }).catch(() => undefined), { what: 'the server to make the Service' });
    proxy.release();
    const up = await launching;
    expect(up.ready).toBe(true);
    // The one Service, the repair's: the launch took it rather than undoing itself.
    const svc = await core.readNamespacedService({ namespace: ns, name: 'slow-between' });
    expect(svc.metadata!.uid).toBe(made.metadata!.uid);
    expect((await apps.readNamespacedDeployment({ namespace: ns, name: 'slow-between' })).metadata!.uid).toBe(svc.metadata!.ownerReferences![0]!.uid);
  } finally {
    proxy.release();
    await proxy.stop();
  }
});

describe('a --secret-env launch, whose Deployment is created paused until its Secret exists', () => {
  const withSecret = (name: string): LaunchSpec => ({ ...spec(name, 'nodeport'), secretEnv: [{ name: 'API_TOKEN', value: 'not-in-any-log' }] });

  it('cut short after its Secret: it is started, becomes ready with its URL checked, and answers', async () => {
    const d = await apps.createNamespacedDeployment({ namespace: ns, body: buildDeployment(withSecret('paused-ok'), ns) });
    expect(d.spec!.paused).toBe(true);
    await core.createNamespacedSecret({ namespace: ns, body: buildSecret(withSecret('paused-ok'), ns, { name: 'paused-ok', uid: d.metadata!.uid! }) });

    const status = await waitFor(
      async () => {
        const info = await server.launcher.status('paused-ok');
        return info.ready && info.urlCheck ? info : undefined;
      },
      { what: 'the system to be ready with its URL checked' },
    );
    expect((await apps.readNamespacedDeployment({ namespace: ns, name: 'paused-ok' })).spec!.paused).toBeFalsy();
    expect(status.urlCheck).toEqual({ checked: 'public', verified: true });
    expect(await openUrl(String(status.url))).toMatchObject({ status: 200, body: expect.stringContaining('Hello from paused-ok') });
  });

  it('cut short before its Secret (the values died with the process): it fails with the kubelet\'s reason instead of waiting for ever', async () => {
    await apps.createNamespacedDeployment({ namespace: ns, body: buildDeployment(withSecret('paused-lost'), ns) });
    const status = await waitFor(
      async () => {
        const info = await server.launcher.status('paused-lost');
        return info.stage === 'failed' ? info : undefined;
      },
      { what: 'the system to fail' },
    );
    expect(status.reason).toBe('CreateContainerConfigError: secret "paused-lost" not found');
  });
});

describe('exposed as ingress', () => {
  const DOMAIN = 'repair.test';
  let ingressNs: string;
  let ingressServer: RunningTycho;
  let ca: Buffer;
  // The server reaches the API server through it, so a test can make its view lag behind.
  let proxy: HttpFaultProxy;

  beforeAll(async () => {
    ingressNs = await createTestNamespace('ingress-repair');
    const certs = await wildcardCertificate(DOMAIN);
    ca = certs.ca;
    await core.createNamespacedSecret({
      namespace: ingressNs,
      body: { metadata: { name: 'wildcard' }, type: 'kubernetes.io/tls', data: { 'tls.crt': certs.cert.toString('base64'), 'tls.key': certs.key.toString('base64') } },
    });
    proxy = await HttpFaultProxy.start(kubeConfig());
    ingressServer = await startIngressServer();
  });

  const startIngressServer = () =>
    startServer({
      namespace: ingressNs,
      kc: proxy.kubeConfigThrough(kubeConfig()),
      repairGraceMs: REPAIR_GRACE_MS,
      env: {
        TYCHO_INGRESS_DOMAIN: DOMAIN,
        TYCHO_INGRESS_CLASS: 'nginx',
        TYCHO_INGRESS_TLS_SECRET: 'wildcard',
        TYCHO_INGRESS_ADDRESS: process.env.TYCHO_TEST_INGRESS_ADDRESS ?? '',
        TYCHO_DEFAULT_EXPOSE: 'ingress',
      },
    });

  afterAll(async () => {
    await ingressServer?.stop();
    await proxy?.stop();
  });

  it('a launch cut short after its Service gets its Ingress back (host, class, TLS, owner), and its https URL is checked and answers', async () => {
    const body = buildDeployment({ ...spec('no-ingress', 'ingress'), annotations: { [ANN_INGRESS_HOST]: `no-ingress.${DOMAIN}` } }, ingressNs);
    const d = await apps.createNamespacedDeployment({ namespace: ingressNs, body });
    await core.createNamespacedService({ namespace: ingressNs, body: buildService(spec('no-ingress'), ingressNs, { name: 'no-ingress', uid: d.metadata!.uid! }, 'ClusterIP') });

    const ing = await waitFor(() => networking.readNamespacedIngress({ namespace: ingressNs, name: 'no-ingress' }).catch(() => undefined), { what: 'the Ingress to be made again' });
    expect(ing.spec!.rules![0]!.host).toBe(`no-ingress.${DOMAIN}`);
    expect(ing.spec!.ingressClassName).toBe('nginx');
    expect(ing.spec!.tls).toEqual([{ hosts: [`no-ingress.${DOMAIN}`], secretName: 'wildcard' }]);
    expect(ing.metadata!.ownerReferences).toEqual([expect.objectContaining({ kind: 'Deployment', name: 'no-ingress', uid: d.metadata!.uid, controller: true })]);

    const status = await waitFor(
      async () => {
        const info = await ingressServer.launcher.status('no-ingress');
        return info.ready && info.urlCheck ? info : undefined;
      },
      { what: 'the system to be ready with its URL checked' },
    );
    expect(status.url).toBe(`https://no-ingress.${DOMAIN}/`);
    expect(status.urlCheck).toEqual({ checked: 'public', verified: true });
    expect(await openUrl(String(status.url), { ca })).toEqual({ status: 200, body: expect.stringContaining('Hello from no-ingress') });
  });

  it('a server started after its systems were launched makes the Ingress one lacked at its start, and again one deleted by hand later (which moves no stage); the URL answers again', async () => {
    const up = await ingressServer.launcher.up(spec('lost-ingress', 'ingress'));
    expect(up.urlCheck).toEqual({ checked: 'public', verified: true });
    // A restart: the new server's view syncs before its repair listens, and it has seen no
    // transition of these systems, so it must look at what it holds, and at every later change.
    await ingressServer.stop();
    const body = buildDeployment({ ...spec('broken-at-start', 'ingress'), annotations: { [ANN_INGRESS_HOST]: `broken-at-start.${DOMAIN}` } }, ingressNs);
    const d = await apps.createNamespacedDeployment({ namespace: ingressNs, body });
    await core.createNamespacedService({ namespace: ingressNs, body: buildService(spec('broken-at-start'), ingressNs, { name: 'broken-at-start', uid: d.metadata!.uid! }, 'ClusterIP') });
    ingressServer = await startIngressServer();
    const made = await waitFor(() => networking.readNamespacedIngress({ namespace: ingressNs, name: 'broken-at-start' }).catch(() => undefined), { what: 'the Ingress lacking at start to be made' });
    expect(made.spec!.rules![0]!.host).toBe(`broken-at-start.${DOMAIN}`);

    const before = await networking.readNamespacedIngress({ namespace: ingressNs, name: 'lost-ingress' });
    // The launch's record is made to say the check failed, so the check the repair makes is seen;
    // it still names the Ingress it went through, which the repair replaces.
    const launched = await apps.readNamespacedDeployment({ namespace: ingressNs, name: 'lost-ingress' });
    const record = JSON.parse(launched.metadata!.annotations![ANN_URL_CHECK]!) as Record<string, unknown>;
    expect(record.ingress).toBe(before.metadata!.uid);
    const stale = JSON.stringify({ ...record, verified: false, reason: 'recorded before the Ingress was lost' });
    await apps.patchNamespacedDeployment(
      { namespace: ingressNs, name: 'lost-ingress', body: { metadata: { annotations: { [ANN_URL_CHECK]: stale } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    // The server's view hears of the Ingress the repair makes only after the repair has made it
    // (the event waits at the proxy), as a lagging watch may: the repair must not confirm the URL
    // from a view without it, where the verdict recorded through the lost Ingress looks current.
    proxy.holdEventsWhen = (path, e) => path.includes('/ingresses') && e.type === 'ADDED';
    await networking.deleteNamespacedIngress({ namespace: ingressNs, name: 'lost-ingress' });

    const again = await waitFor(
      () => networking.readNamespacedIngress({ namespace: ingressNs, name: 'lost-ingress' }).then((i) => (i.metadata!.uid !== before.metadata!.uid ? i : undefined), () => undefined),
      { what: 'the Ingress to be made again' },
    );
    expect(again.spec!.rules![0]!.host).toBe(`lost-ingress.${DOMAIN}`);
    await waitFor(() => proxy.eventsHeld > 0, { what: 'the new Ingress\'s event to be held' });
    proxy.releaseEvents();
    // The repair checks the URL again through the new Ingress, replacing the verdict made at launch.
    const checkedAfter = await waitFor(
      async () => {
        const info = await ingressServer.launcher.status('lost-ingress');
        return info.ready && info.urlCheck?.verified ? info : undefined;
      },
      { what: 'the URL to be checked again' },
    );
    expect(checkedAfter.urlCheck).toEqual({ checked: 'public', verified: true });
    expect(await openUrl(String(checkedAfter.url), { ca })).toEqual({ status: 200, body: expect.stringContaining('Hello from lost-ingress') });
  });
});

describe('a repair that does not fight people', () => {
  let rns: string;
  let view: LiveView;
  let repair: SystemRepair;
  let launcher: Launcher;
  /** Whether this replica holds the Lease, and how often the repair asked. */
  let leading = true;
  let askedLeader = 0;
  const lines: string[] = [];

  beforeAll(async () => {
    rns = await createTestNamespace('repair-manners');
    view = new LiveView(kubeConfig(), rns);
    await view.start();
    repair = new SystemRepair(kubeConfig(), view, {
      graceMs: 300,
      defaultServiceType: 'NodePort',
      isLeader: () => {
        askedLeader++;
        return leading;
      },
      log: createLogger({ level: 'info', write: (line) => lines.push(line) }),
    });
    repair.start();
    launcher = new Launcher(kubeConfig(), { namespace: rns, view, readyTimeoutSeconds: 60 });
  });

  afterAll(async () => {
    repair?.stop();
    await view?.stop();
  });

  beforeEach(() => {
    leading = true;
  });

  const serviceOf = (name: string) => core.readNamespacedService({ namespace: rns, name });
  /** The Service of `name` once it is another object than `before`. */
  const madeAgain = (name: string, before: string) =>
    waitFor(() => serviceOf(name).then((s) => (s.metadata!.uid !== before ? s : undefined), () => undefined), { what: `the Service of ${name} to be made again` });

  it('a Service deleted by hand comes back with the NodePort it had, so the URL handed out stays right', async () => {
    const up = await launcher.up(spec('keeps-port', 'nodeport'));
    const before = await serviceOf('keeps-port');
    const ports = before.spec!.ports!.map((p) => p.nodePort);
    await core.deleteNamespacedService({ namespace: rns, name: 'keeps-port' });

    const again = await madeAgain('keeps-port', before.metadata!.uid!);
    expect(again.spec!.ports!.map((p) => p.nodePort)).toEqual(ports);
    const status = await waitFor(async () => {
      const info = await launcher.status('keeps-port');
      return info.ready ? info : undefined;
    }, { what: 'the system to serve again' });
    expect(status.url).toBe(up.url);
    // Nothing to tell the thread: the URL did not change.
    expect((await apps.readNamespacedDeployment({ namespace: rns, name: 'keeps-port' })).metadata!.annotations![ANN_URL_CHANGED]).toBeUndefined();
  });

  it('a NodePort taken meanwhile: the Service gets a new one, and the Deployment records that its URL changed', async () => {
    await launcher.up(spec('moved', 'nodeport'));
    const before = await serviceOf('moved');
    const was = before.spec!.ports!.map((p) => p.nodePort!);
    // Not the leader while someone else's Service takes the first NodePort.
    leading = false;
    await core.deleteNamespacedService({ namespace: rns, name: 'moved' });
    await core.createNamespacedService({ namespace: rns, body: { metadata: { name: 'squatter' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: was[0]! }] } } });
    leading = true;

    const again = await madeAgain('moved', before.metadata!.uid!);
    const now = again.spec!.ports!.map((p) => p.nodePort!);
    expect(now[0]).not.toBe(was[0]);
    const recorded = await waitFor(
      async () => (await apps.readNamespacedDeployment({ namespace: rns, name: 'moved' })).metadata!.annotations![ANN_URL_CHANGED],
      { what: 'the URL change to be recorded' },
    );
    expect(JSON.parse(recorded)).toEqual({ service: again.metadata!.uid, was, now });
  });

  it('only the leader repairs: a replica without the Lease leaves a lost Service missing until it leads', async () => {
    leading = false;
    await deploymentOnlyIn(rns, spec('led', 'nodeport'));
    const asked = askedLeader;
    // The repair has looked at it twice (its grace period passed twice), or has made it.
    const exists = (name: string) => serviceOf(name).then(() => true, () => false);
    await waitFor(async () => askedLeader >= asked + 2 || (await exists('led')), { what: 'the repair to look while not leading' });
    expect(await serviceOf('led').catch(() => undefined)).toBeUndefined();
    leading = true;
    await waitFor(() => serviceOf('led').catch(() => undefined), { what: 'the leader to make the Service' });
  });

  it('tycho.renci.org/repair: off stops the repair of that one system; removed, the repair goes on', async () => {
    const s = spec('hands-off', 'nodeport');
    await deploymentOnlyIn(rns, { ...s, annotations: { [ANN_REPAIR]: 'off' } });
    const said = () => lines.some((l) => l.includes('not repairing a system') && l.includes('"hands-off"'));
    await waitFor(async () => said() || (await serviceOf('hands-off').then(() => true, () => false)), { what: 'the repair to look at hands-off' });
    expect(await serviceOf('hands-off').catch(() => undefined)).toBeUndefined();
    await apps.patchNamespacedDeployment(
      { namespace: rns, name: 'hands-off', body: { metadata: { annotations: { [ANN_REPAIR]: null } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(() => serviceOf('hands-off').catch(() => undefined), { what: 'the Service to be made once repair is on again' });
  });
});

/** What a launch killed after its first create leaves, in namespace `namespace`. */
async function deploymentOnlyIn(namespace: string, s: LaunchSpec): Promise<void> {
  await apps.createNamespacedDeployment({ namespace, body: buildDeployment(s, namespace) });
}
