/**
 * A repair that keeps failing (a quota that refuses the Service) is tried again less and less
 * often, however many changes the view sees meanwhile, and as often as before once it works.
 * Jest's fake clock drives it and the view is a stand-in that announces a change every second,
 * as a pod's status updates would; the times asserted are fake-clock instants, so they are exact.
 */
import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { ApiException, type AppsV1Api, type CoreV1Api, type NetworkingV1Api, type V1Service } from '@kubernetes/client-node';
import { buildDeployment } from '../../src/k8s/manifests.js';
import { MAX_BACKOFF_MS, SystemRepair } from '../../src/k8s/system-repair.js';
import type { LiveView } from '../../src/k8s/view/live-view.js';
import type { SystemState } from '../../src/k8s/view/system-model.js';
import { silentLogger } from '../../src/log.js';

const NS = 'repair-ns';
const GRACE_MS = 10_000;

/** One system whose Deployment has no Service, as the view holds it. */
function brokenSystem(): SystemState {
  const deployment = buildDeployment({ name: 'quota', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli', expose: 'nodeport' }, NS);
  deployment.metadata = { ...deployment.metadata, uid: 'uid-quota' };
  return { uid: 'uid-quota', name: 'quota', stage: 'unready', describe: 'not routed', deployment, pods: [], servingPods: [] };
}

class FakeView extends EventEmitter {
  readonly namespace = NS;
  readonly followsIngresses = false;
  constructor(public state: SystemState) {
    super();
  }
  systems(): SystemState[] {
    return [this.state];
  }
  system(name: string): SystemState | undefined {
    return name === this.state.name ? this.state : undefined;
  }
  changed(): void {
    this.emit('changed', this.state);
  }
}

const quotaRefusal = () =>
  new ApiException(403, 'Forbidden', JSON.stringify({ kind: 'Status', message: 'services "quota" is forbidden: exceeded quota: q, requested: services=1, used: services=1, limited: services=1', code: 403 }), {});

let view: FakeView;
let repair: SystemRepair;
/** Fake-clock instants (ms since the start) of every Service create the repair tried. */
let attempts: number[];
let quotaFull: boolean;
let t0: number;

beforeEach(() => {
  jest.useFakeTimers();
  t0 = Date.now();
  attempts = [];
  quotaFull = true;
  view = new FakeView(brokenSystem());
  const core = {
    createNamespacedService: async ({ body }: { body: V1Service }) => {
      attempts.push(Date.now() - t0);
      if (quotaFull) throw quotaRefusal();
      const made = { ...body, metadata: { ...body.metadata, uid: `uid-service-${attempts.length}` } };
      // The view hears of it, as its watch would.
      view.state = { ...view.state, service: made };
      return made;
    },
  };
  repair = new SystemRepair({ core: core as unknown as CoreV1Api, apps: {} as AppsV1Api, networking: {} as NetworkingV1Api }, view as unknown as LiveView, {
    graceMs: GRACE_MS,
    defaultServiceType: 'NodePort',
    log: silentLogger,
  });
  repair.start();
});

afterEach(() => {
  repair.stop();
  jest.useRealTimers();
});

/** Moves the fake clock on by ms, with a change announced every second meanwhile. */
async function changesFor(ms: number): Promise<void> {
  for (let i = 0; i < ms / 1000; i++) {
    await jest.advanceTimersByTimeAsync(1000);
    view.changed();
  }
}

it('a refused repair is tried again after 20 s, 40 s, 80 s, … up to 5 min, not on every change the view sees', async () => {
  await changesFor(21 * 60_000);
  // The grace period, then waits that double from twice it, capped at MAX_BACKOFF_MS.
  expect(attempts).toEqual([10_000, 30_000, 70_000, 150_000, 310_000, 610_000, 910_000, 1_210_000]);
  expect(MAX_BACKOFF_MS).toBe(300_000);
});

it('once the quota has room the next try makes the Service, and a later loss is repaired after the grace period again', async () => {
  await changesFor(200_000);
  expect(attempts).toEqual([10_000, 30_000, 70_000, 150_000]);
  quotaFull = false;
  await changesFor(200_000);
  expect(attempts).toEqual([10_000, 30_000, 70_000, 150_000, 310_000]);

  // Deleted again later: the failures are behind it, so the grace period alone.
  await changesFor(60_000);
  view.state = { ...view.state, service: undefined };
  const lostAt = Date.now() - t0;
  view.changed();
  await changesFor(GRACE_MS);
  expect(attempts).toEqual([10_000, 30_000, 70_000, 150_000, 310_000, lostAt + GRACE_MS]);
});
