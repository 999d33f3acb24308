/**
 * Leader election against an in-memory Lease API with the API server's resourceVersion rules, on
 * a fake clock that every candidate shares (each with its own monotonic origin and wall clock).
 * The instants asserted below are fake-clock instants, so they are exact, not timings.
 */
import { ApiException, type RequestContext, type V1Lease } from '@kubernetes/client-node';
import { LeaderElector, type LeaseApi, type LeaseClock, type LeaderElectionOptions } from '../../src/k8s/lease.js';
import type { TychoError } from '../../src/k8s/errors.js';

const NS = 'tycho-ns';
const NAME = 'tycho-leader';
const LEASE_MS = 15_000;
const RENEW_DEADLINE_MS = 10_000;
const RETRY_MS = 2_000;
const HOUR = 3_600_000;
const WALL_BASE = Date.parse('2030-01-01T00:00:00Z');

/** Lets every promise chain that is ready run (they all run before the next macrotask). */
const flush = () => new Promise<void>((r) => setImmediate(r));

class FakeTime {
  now = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  /** Checked after every step: at each instant where something can change. */
  readonly invariants: (() => void)[] = [];

  setTimeout(fn: () => void, ms: number): () => void {
    const t = { at: this.now + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(t);
    return () => {
      this.timers = this.timers.filter((x) => x !== t);
    };
  }

  private async step(end: number): Promise<boolean> {
    await flush();
    const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
    if (!next) return false;
    this.timers = this.timers.filter((t) => t !== next);
    this.now = next.at;
    next.fn();
    await flush();
    for (const check of this.invariants) check();
    return true;
  }

  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    while (await this.step(end));
    this.now = end;
    await flush();
    for (const check of this.invariants) check();
  }

  /** Advances until cond() holds; fails after maxMs. */
  async until(cond: () => boolean, maxMs: number, what: string): Promise<number> {
    const end = this.now + maxMs;
    while (!cond()) {
      if (!(await this.step(end))) throw new Error(`${what} did not happen within ${maxMs} ms of fake time`);
    }
    return this.now;
  }

  /** Time passes while no timer can run, as when the event loop is blocked. */
  jump(ms: number): void {
    this.now += ms;
  }
}

type Fault = 'refuse' | 'hang';

/** One Lease, kept as the API server keeps it: every write must carry the current resourceVersion. */
class FakeLeaseServer {
  lease: V1Lease | undefined;
  private rv = 100;
  latencyMs = 50;
  /** Every accepted write: who wrote it, when (fake time), and what was stored. */
  readonly writes: { at: number; by: string; lease: V1Lease }[] = [];
  conflicts = 0;
  readonly faults = new Map<string, Fault>();
  /** The abort signals that hung calls carried: what would cancel the real HTTP request. */
  readonly hungSignals: AbortSignal[] = [];
  createForbidden = false;
  /**
   * How many of a candidate's next replaces find that another writer (the thread ledger, which
   * merge-patches the Lease's annotations) changed the Lease just before them.
   */
  readonly othersWriteFirst = new Map<string, number>();
  private annotationWrites = 0;

  constructor(private readonly time: FakeTime) {}

  /** As the manifests do: the Lease exists, held by nobody. */
  preCreate(): this {
    this.lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: NAME, namespace: NS, resourceVersion: String(this.rv) }, spec: {} };
    return this;
  }

  holder(): string | undefined {
    return this.lease?.spec?.holderIdentity;
  }

  lastWriteBy(who: string): { at: number; lease: V1Lease } {
    const w = this.writes.filter((x) => x.by === who).at(-1);
    if (!w) throw new Error(`${who} never wrote`);
    return w;
  }

  client(who: string): LeaseApi {
    const api = {
      readNamespacedLease: (_p: unknown, opts: unknown) =>
        this.handle(who, opts, () => {
          if (!this.lease) throw status(404, 'NotFound', `leases.coordination.k8s.io "${NAME}" not found`);
          return wire(this.lease);
        }),
      replaceNamespacedLease: (p: { body: V1Lease }, opts: unknown) =>
        this.handle(who, opts, () => {
          if (!this.lease) throw status(404, 'NotFound', `leases.coordination.k8s.io "${NAME}" not found`);
          const others = this.othersWriteFirst.get(who) ?? 0;
          if (others > 0) {
            this.othersWriteFirst.set(who, others - 1);
            this.annotate(`tycho.renci.org/thread.${++this.annotationWrites}`, '{}');
          }
          if (p.body.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) {
            this.conflicts++;
            throw status(409, 'Conflict', `Operation cannot be fulfilled on leases.coordination.k8s.io "${NAME}": the object has been modified; please apply your changes to the latest version and try again`);
          }
          return this.store(who, p.body);
        }),
      createNamespacedLease: (p: { body: V1Lease }, opts: unknown) =>
        this.handle(who, opts, () => {
          if (this.createForbidden)
            throw status(403, 'Forbidden', `leases.coordination.k8s.io is forbidden: User "system:serviceaccount:${NS}:tycho" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "${NS}"`);
          if (this.lease) throw status(409, 'AlreadyExists', `leases.coordination.k8s.io "${NAME}" already exists`);
          return this.store(who, p.body);
        }),
    };
    return api as unknown as LeaseApi;
  }

  /** A merge patch of one annotation, as the thread ledger writes: a new resourceVersion, the spec untouched. */
  annotate(key: string, value: string): void {
    this.lease!.metadata = { ...this.lease!.metadata, annotations: { ...this.lease!.metadata?.annotations, [key]: value }, resourceVersion: String(++this.rv) };
  }

  private store(who: string, body: V1Lease): V1Lease {
    const stored = wire(body);
    stored.metadata = { ...stored.metadata, name: NAME, namespace: NS, resourceVersion: String(++this.rv) };
    this.lease = stored;
    this.writes.push({ at: this.time.now, by: who, lease: wire(stored) });
    return wire(stored);
  }

  private async handle<T>(who: string, opts: unknown, op: () => T): Promise<T> {
    if (this.faults.get(who) === 'hang') {
      // Run the request middleware as the generated client would, to see the signal it sets.
      const middleware = (opts as { middleware?: { pre(ctx: RequestContext): unknown }[] } | undefined)?.middleware ?? [];
      for (const m of middleware) m.pre({ setSignal: (s: AbortSignal) => this.hungSignals.push(s) } as unknown as RequestContext);
      return new Promise<T>(() => undefined);
    }
    await new Promise<void>((r) => this.time.setTimeout(r, this.latencyMs));
    if (this.faults.get(who) === 'refuse') throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6443'), { code: 'ECONNREFUSED' });
    return op();
  }
}

/** What crosses the wire is JSON: dates become strings, nothing is shared. */
const wire = (lease: V1Lease): V1Lease => JSON.parse(JSON.stringify(lease)) as V1Lease;

/** The API server's error as client-node 1.4 hands it over (404/409 bodies arrive as JSON strings). */
function status(code: number, reason: string, message: string): ApiException<string> {
  return new ApiException(code, `HTTP-Code: ${code}`, JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code }), {});
}

interface Candidate {
  name: string;
  elector: LeaderElector;
  /** Per the callbacks, between onStartedLeading and onStoppedLeading. */
  leading: boolean;
  started: number[];
  stopped: { at: number; why: string }[];
  errors: TychoError[];
  newLeaders: string[];
}

let time: FakeTime;
let server: FakeLeaseServer;
let candidates: Candidate[];
/** Callbacks and writes in the order they happened. */
let log: string[];

function candidate(name: string, opts: { wallOffsetMs?: number } & Partial<LeaderElectionOptions> = {}): Candidate {
  // Each process has its own monotonic origin, so no two candidates' monotonic readings compare.
  const origin = 1_000_000 * (candidates.length + 1);
  const clock: LeaseClock = {
    monotonicMs: () => origin + time.now,
    wallTime: () => new Date(WALL_BASE + time.now + (opts.wallOffsetMs ?? 0)),
    setTimeout: (fn, ms) => time.setTimeout(fn, ms),
  };
  const c: Candidate = { name, leading: false, started: [], stopped: [], errors: [], newLeaders: [] } as unknown as Candidate;
  c.elector = new LeaderElector(server.client(name), {
    namespace: NS,
    name: NAME,
    identity: name,
    clock,
    onStartedLeading: () => {
      c.leading = true;
      c.started.push(time.now);
      log.push(`${name} started leading`);
    },
    onStoppedLeading: (why) => {
      c.leading = false;
      c.stopped.push({ at: time.now, why });
      log.push(`${name} stopped leading`);
    },
    onNewLeader: (id) => c.newLeaders.push(id),
    onError: (e) => c.errors.push(e),
    ...opts,
  });
  candidates.push(c);
  return c;
}

beforeEach(() => {
  time = new FakeTime();
  server = new FakeLeaseServer(time);
  candidates = [];
  log = [];
  // Safety, checked at every instant: never two leaders, by isLeader() or by the callbacks.
  time.invariants.push(() => {
    expect(candidates.filter((c) => c.elector.isLeader()).map((c) => c.name).length).toBeLessThanOrEqual(1);
    expect(candidates.filter((c) => c.leading).length).toBeLessThanOrEqual(1);
  });
});

afterEach(async () => {
  const stopping = Promise.all(candidates.map((c) => c.elector.stop()));
  await time.advance(10_000);
  await stopping;
});

/** Starts a candidate and runs the fake clock until its first attempt is over. */
async function start(c: Candidate): Promise<void> {
  let done = false;
  const first = c.elector.start().then(() => (done = true));
  await time.until(() => done, 10_000, `${c.name}'s first attempt`);
  await first;
}

/** On the pre-created Lease: a leads, b has followed it for settleMs. */
async function leaderAndFollower(settleMs: number): Promise<[Candidate, Candidate]> {
  server.preCreate();
  const a = candidate('a');
  await start(a);
  const b = candidate('b');
  void b.elector.start();
  await time.advance(settleMs);
  return [a, b];
}

const leaderOf = () => candidates.filter((c) => c.elector.isLeader());

describe('contention', () => {
  it('of three candidates started together exactly one leads, without flapping, and a killed leader is replaced after the lease duration', async () => {
    server.preCreate();
    for (const n of ['a', 'b', 'c']) void candidate(n).elector.start();
    await time.advance(60_000);

    expect(server.conflicts).toBeGreaterThan(0); // they really raced for the same resourceVersion
    const [first] = leaderOf();
    expect(leaderOf()).toHaveLength(1);
    expect(server.holder()).toBe(first!.name);
    expect(server.lease!.spec!.leaseTransitions).toBe(1);
    expect(first!.started).toHaveLength(1);
    for (const c of candidates) expect(c.newLeaders).toEqual([first!.name]);

    await first!.elector.stop(); // killed: no release
    const lastRenew = server.lastWriteBy(first!.name).at;
    const takenAt = await time.until(() => leaderOf().length === 1, 60_000, 'a takeover');
    const [second] = leaderOf();
    expect(second!.name).not.toBe(first!.name);
    expect(takenAt).toBeGreaterThanOrEqual(lastRenew + LEASE_MS);
    expect(server.holder()).toBe(second!.name);
    expect(server.lease!.spec!.leaseTransitions).toBe(2);
  });
});

describe('other writers of the Lease', () => {
  it("a burst of annotation writes (the thread ledger) does not cost the holder its Lease, and the holder's writes keep them", async () => {
    const [a, b] = await leaderAndFollower(5_000);
    const transitions = server.lease!.spec!.leaseTransitions;
    // Every replace the leader sends for the next 12 finds the Lease changed just before: more
    // than its renewals within one renew deadline (a renewal and a re-read and write per try).
    server.othersWriteFirst.set('a', 12);
    await time.advance(RENEW_DEADLINE_MS + LEASE_MS);

    expect(server.othersWriteFirst.get('a')).toBe(0); // the burst really happened
    expect(a.stopped).toEqual([]);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.started).toEqual([]);
    expect(server.lease!.spec!.leaseTransitions).toBe(transitions);
    expect(Object.keys(server.lease!.metadata!.annotations!)).toHaveLength(12);
  });
});

describe('clock skew', () => {
  it.each([
    ['5 hours ahead (the live leader looks expired by wall time)', 5 * HOUR],
    ['5 hours behind (the dead leader looks valid for hours by wall time)', -5 * HOUR],
  ])('a follower whose wall clock is %s neither steals a live Lease nor waits for ever on a dead one', async (_, offset) => {
    server.preCreate();
    const leader = candidate('leader');
    await start(leader);
    await time.advance(1_000);
    const follower = candidate('skewed', { wallOffsetMs: offset });
    void follower.elector.start();

    await time.advance(60_000);
    expect(leader.elector.isLeader()).toBe(true);
    expect(follower.started).toEqual([]);

    await leader.elector.stop();
    const lastRenew = server.lastWriteBy('leader').at;
    const takenAt = await time.until(() => follower.elector.isLeader(), LEASE_MS + 3 * RETRY_MS + 1_000, 'the takeover');
    expect(takenAt).toBeGreaterThanOrEqual(lastRenew + LEASE_MS);
    // The skew was real: the follower wrote its own wall time into the Lease.
    expect(Date.parse(String(server.lease!.spec!.renewTime)) - (WALL_BASE + time.now)).toBeCloseTo(offset, -4);
  });
});

describe('renew deadline', () => {
  it.each<[Fault, RegExp]>([
    ['refuse', /cannot reach Kubernetes \(ECONNREFUSED\)/],
    ['hang', /did not answer within 5 s/],
  ])('a leader whose API calls %s stops leading within the renew deadline, and the follower acquires only after the lease duration', async (fault, error) => {
    const [a, b] = await leaderAndFollower(20_000);
    expect(a.elector.isLeader()).toBe(true);

    server.faults.set('a', fault);
    const lastRenew = server.lastWriteBy('a').at;
    await time.until(() => b.elector.isLeader(), 60_000, 'the takeover');

    expect(a.stopped).toEqual([{ at: expect.any(Number), why: 'could not renew the Lease within the renew deadline' }]);
    expect(a.stopped[0]!.at).toBeLessThanOrEqual(lastRenew + RENEW_DEADLINE_MS);
    expect(b.started[0]).toBeGreaterThanOrEqual(lastRenew + LEASE_MS);
    expect(log).toEqual(['a started leading', 'a stopped leading', 'b started leading']);
    expect(a.errors[0]!.code).toBe('cluster_unreachable');
    expect(a.errors[0]!.message).toMatch(error);
    expect(server.lease!.spec!.leaseTransitions).toBe(2);
  });

  it('a hung call is aborted at its timeout and the loop moves on to the next try', async () => {
    server.preCreate();
    const a = candidate('a');
    await start(a);
    server.faults.set('a', 'hang');
    await time.advance(RENEW_DEADLINE_MS);
    // More than one request went out during the hang, and each one's signal was fired.
    // (The last one may still be waiting for its timeout.)
    expect(server.hungSignals.length).toBeGreaterThan(1);
    expect(server.hungSignals.slice(0, -1).every((s) => s.aborted)).toBe(true);

    server.faults.delete('a');
    // The call in flight still runs out its 5 s timeout; the next try then succeeds.
    await time.until(() => a.elector.isLeader(), 5_000 + 3 * RETRY_MS, 'a leading again');
    expect(server.lease!.spec!.leaseTransitions).toBe(1); // it renewed its own Lease: no transition
  });

  it('isLeader() reads the monotonic clock, so a leader whose timers could not run is no longer leader', async () => {
    server.preCreate();
    const a = candidate('a');
    await start(a);
    expect(a.elector.isLeader()).toBe(true);
    time.jump(RENEW_DEADLINE_MS); // the event loop was blocked: no timer ran, no callback fired
    expect(a.leading).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
  });
});

describe('release', () => {
  it('hands the Lease over at once: the follower leads at its next try, long before the lease duration', async () => {
    const [a, b] = await leaderAndFollower(20_000);

    const releasing = a.elector.release();
    expect(a.elector.isLeader()).toBe(false); // stopped before the Lease is even written
    await time.advance(server.latencyMs);
    await expect(releasing).resolves.toBe(true);
    const releasedAt = server.lastWriteBy('a').at;
    expect(server.holder()).toBeUndefined();
    expect(server.lease!.spec!.leaseDurationSeconds).toBe(1);

    const takenAt = await time.until(() => b.elector.isLeader(), LEASE_MS, 'the takeover');
    expect(takenAt - releasedAt).toBeLessThanOrEqual(RETRY_MS * 2.2 + 2 * server.latencyMs);
    expect(log).toEqual(['a started leading', 'a stopped leading', 'b started leading']);
    expect(server.lease!.spec!.leaseTransitions).toBe(2);
  });

  it('a follower releases nothing', async () => {
    const [, b] = await leaderAndFollower(5_000);
    const releasing = b.elector.release();
    await time.advance(1_000);
    await expect(releasing).resolves.toBe(false);
    expect(server.holder()).toBe('a');
  });

  it('a release while its acquiring write is in flight still hands the Lease back', async () => {
    server.preCreate();
    const b = candidate('b');
    void b.elector.start();
    await time.advance(server.latencyMs + 10); // read done, the write is on its way
    const releasing = b.elector.release();
    await time.advance(1_000);
    await expect(releasing).resolves.toBe(true);
    expect(server.writes.map((w) => w.lease.spec?.holderIdentity)).toEqual(['b', undefined]);
  });
});

describe('a missing Lease (local development)', () => {
  it('is created, held by the first candidate', async () => {
    const a = candidate('a');
    await start(a);
    expect(a.elector.isLeader()).toBe(true);
    expect(server.lease!.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
  });

  it('that may not be created gives one sentence naming the permission', async () => {
    server.createForbidden = true;
    const a = candidate('a');
    await start(a);
    await time.advance(30_000);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.errors).toHaveLength(1); // once, not once per retry
    expect(a.errors[0]!.code).toBe('forbidden');
    expect(a.errors[0]!.message).toBe(
      `Tycho is not allowed to create leases.coordination.k8s.io in namespace "${NS}", so it could not create the Lease "${NAME}" in namespace "${NS}", which Tycho's manifests normally create. Ask a cluster admin to grant that permission to Tycho's account (see kubernetes/base/role.yaml).`,
    );
    expect(a.elector.lastError?.code).toBe('forbidden');
  });
});

describe('setup', () => {
  it('identity defaults to the pod name plus a random suffix', () => {
    const saved = process.env.HOSTNAME;
    process.env.HOSTNAME = 'tycho-7d9f-abcde';
    try {
      const [x, y] = [candidate('x', { identity: undefined }), candidate('y', { identity: undefined })];
      expect(x.elector.identity).toMatch(/^tycho-7d9f-abcde-[0-9a-f]{8}$/);
      expect(y.elector.identity).not.toBe(x.elector.identity);
    } finally {
      process.env.HOSTNAME = saved;
    }
  });

  it('refuses timings under which a stale leader could overlap its successor', () => {
    expect(() => candidate('x', { renewDeadlineMs: LEASE_MS })).toThrow(/renew deadline must be shorter than the lease duration/);
    expect(() => candidate('y', { leaseDurationMs: 1_500 })).toThrow(/whole number of seconds/);
  });

  it('a callback that throws does not stop the election', async () => {
    server.preCreate();
    const a = candidate('a', {
      onStartedLeading: () => {
        throw new Error('reconciler bug');
      },
    });
    await start(a);
    await time.advance(20_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.errors.map((e) => e.message)).toEqual(['A leader-election callback failed: reconciler bug.']);
  });
});
