/**
 * Leader election on the real API server: two electors per Lease in a test namespace, with short
 * timings. Both run in this process (one event loop), so the order of their callbacks is the
 * order in which things happened.
 */
import { CoordinationV1Api, KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { LeaderElector, type LeaderElectionOptions } from '../../src/k8s/lease.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { kubeConfigAt } from '../support/kubeconfig-at.js';

/** Short, but with room for a loaded 2-core machine: a slow call only delays, it never breaks safety. */
const TIMINGS = { leaseDurationMs: 5_000, renewDeadlineMs: 4_000, retryPeriodMs: 500, callTimeoutMs: 2_000 };

let admin: KubeConfig;
let leases: CoordinationV1Api;
let ns: string;
let proxy: FaultProxy | undefined;
const electors: LeaderElector[] = [];
let log: string[];

beforeAll(async () => {
  admin = kubeConfig();
  leases = admin.makeApiClient(CoordinationV1Api);
  ns = await createTestNamespace('lease');
});

beforeEach(() => {
  log = [];
});

afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
  await proxy?.stop();
  proxy = undefined;
});

function elector(kc: KubeConfig, name: string, identity: string, extra: Partial<LeaderElectionOptions> = {}): LeaderElector {
  const e = new LeaderElector(kc.makeApiClient(CoordinationV1Api), {
    namespace: ns,
    name,
    identity,
    ...TIMINGS,
    onStartedLeading: () => log.push(`${identity} started leading`),
    onStoppedLeading: (why) => log.push(`${identity} stopped leading: ${why}`),
    ...extra,
  });
  electors.push(e);
  return e;
}

/** As the manifests do: the Lease exists and nobody holds it. */
async function preCreate(name: string): Promise<void> {
  await leases.createNamespacedLease({ namespace: ns, body: { metadata: { name }, spec: {} } });
}

const readLease = (name: string): Promise<V1Lease> => leases.readNamespacedLease({ name, namespace: ns });

async function oneLeader(...es: LeaderElector[]): Promise<LeaderElector> {
  const leader = await waitFor(() => es.find((e) => e.isLeader()), { timeoutMs: 30_000, what: 'a leader' });
  expect(es.filter((e) => e.isLeader())).toEqual([leader]);
  return leader;
}

it('exactly one of two leads; when it is killed without releasing, the other takes over and leaseTransitions goes up', async () => {
  await preCreate('kill');
  const a = elector(admin, 'kill', 'replica-a');
  const b = elector(admin, 'kill', 'replica-b');
  await Promise.all([a.start(), b.start()]);

  const first = await oneLeader(a, b);
  const second = first === a ? b : a;
  const held = await readLease('kill');
  expect(held.spec?.holderIdentity).toBe(first.identity);
  expect(held.spec?.leaseTransitions).toBe(1);
  expect(held.spec?.leaseDurationSeconds).toBe(5);

  await first.stop(); // no release: the Lease still names it until it has been silent long enough
  expect(second.isLeader()).toBe(false);
  expect((await readLease('kill')).spec?.holderIdentity).toBe(first.identity);

  await waitFor(() => second.isLeader(), { timeoutMs: 30_000, what: `${second.identity} to take over` });
  const taken = await readLease('kill');
  expect(taken.spec?.holderIdentity).toBe(second.identity);
  expect(taken.spec?.leaseTransitions).toBe(2);
  expect(log).toEqual([`${first.identity} started leading`, `${first.identity} stopped leading: stopped`, `${second.identity} started leading`]);
});

it('a leader cut off from the API server stops leading before the other takes over', async () => {
  await preCreate('cut');
  proxy = await FaultProxy.start(admin);
  const a = elector(proxy.kubeConfigThrough(admin), 'cut', 'cut-off');
  await a.start();
  await waitFor(() => a.isLeader(), { timeoutMs: 30_000, what: 'the first replica to lead' });
  const b = elector(admin, 'cut', 'connected');
  await b.start();
  expect(b.isLeader()).toBe(false);

  proxy.cut();
  await waitFor(() => b.isLeader(), { timeoutMs: 30_000, what: 'the connected replica to take over' });
  expect(a.isLeader()).toBe(false);
  expect(log).toEqual(['cut-off started leading', 'cut-off stopped leading: could not renew the Lease within the renew deadline', 'connected started leading']);
  expect((await readLease('cut')).spec).toMatchObject({ holderIdentity: 'connected', leaseTransitions: 2 });
});

it('release() hands over at once, long before the lease duration, and a missing Lease is created', async () => {
  // A long lease: a takeover inside the wait below can only come from the release.
  const long = { leaseDurationMs: 60_000, renewDeadlineMs: 40_000 };
  const a = elector(admin, 'release', 'outgoing', long);
  await a.start();
  expect(a.isLeader()).toBe(true); // it created the Lease (no manifests here), holding it
  expect((await readLease('release')).spec).toMatchObject({ holderIdentity: 'outgoing', leaseTransitions: 0 });
  const b = elector(admin, 'release', 'incoming', long);
  await b.start();
  expect(b.isLeader()).toBe(false);

  await expect(a.release()).resolves.toBe(true);
  expect(a.isLeader()).toBe(false);
  await waitFor(() => b.isLeader(), { timeoutMs: 20_000, what: 'the other replica to take over after the release' });
  expect((await readLease('release')).spec).toMatchObject({ holderIdentity: 'incoming', leaseTransitions: 1, leaseDurationSeconds: 60 });
  expect(log).toEqual(['outgoing started leading', 'outgoing stopped leading: released the Lease', 'incoming started leading']);
});

it('a call to an API server that never answers is aborted at its timeout, and the connection closed', async () => {
  // Accepts connections, reads and drops what it is sent, and never says a word (not even the
  // TLS handshake). Reading is what lets it notice the client closing.
  const sockets: Socket[] = [];
  const closed: Socket[] = [];
  const blackHole = createServer((s) => {
    s.resume();
    sockets.push(s);
    s.on('close', () => closed.push(s));
  });
  blackHole.listen(0, '127.0.0.1');
  await once(blackHole, 'listening');
  const kc = kubeConfigAt(`https://127.0.0.1:${(blackHole.address() as AddressInfo).port}`);
  const e = elector(kc, 'hole', 'stranded', { callTimeoutMs: 1_000 });
  try {
    await e.start(); // the first attempt ends at the timeout instead of hanging
    expect(e.isLeader()).toBe(false);
    expect(e.lastError?.code).toBe('cluster_unreachable');
    expect(e.lastError?.message).toBe(`Kubernetes did not answer within 1 s when Tycho tried to read the Lease "hole" in namespace "${ns}".`);
    // The request itself was aborted, not just abandoned: the client closed its connection.
    expect(sockets.length).toBeGreaterThan(0);
    await waitFor(() => closed.includes(sockets[0]!), { timeoutMs: 5_000, what: 'the client to close the stalled connection' });
  } finally {
    await e.stop();
    for (const s of sockets) s.destroy();
    blackHole.close();
  }
});
