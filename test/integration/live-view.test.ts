/**
 * The live view on the real control plane: one event per real transition, who tore a system
 * down, answers from the cache with the API server unreachable, and recovery from the ways a
 * watch dies (server gone, half-open connection, a throwing subscriber).
 */
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Launcher } from '../../src/k8s/launcher.js';
import { LiveView, type Transition } from '../../src/k8s/view/live-view.js';
import { ANN_DELETED_BY } from '../../src/k8s/labels.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { FaultProxy } from '../support/fault-proxy.js';

let admin: KubeConfig;
let proxy: FaultProxy;
let ns: string;
let view: LiveView;
let launcher: Launcher;
/** Launches behind Tycho's back: straight to the API server, not through the proxy. */
let direct: Launcher;
const seen: Transition[] = [];

const spec = (name: string): LaunchSpec => ({ name, image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' });

/** Resolves when the view reports that system in that stage, or rejects after a while. */
function viewSees(name: string, test: (stage: string | undefined) => boolean, ms = 45_000): Promise<void> {
  return view.waitFor(name, (s) => (test(s?.stage) ? true : undefined), AbortSignal.timeout(ms)).then(() => undefined);
}

beforeAll(async () => {
  admin = kubeConfig();
  ns = await createTestNamespace('live-view');
  proxy = await FaultProxy.start(admin);
  const through = proxy.kubeConfigThrough(admin);
  view = new LiveView(through, ns, { watchTimeoutSeconds: 3, backoffMaxMs: 1000 });
  view.on('transition', (t) => seen.push(t));
  await view.start();
  launcher = new Launcher(through, { namespace: ns, view, readyTimeoutSeconds: 60 });
  direct = new Launcher(admin, { namespace: ns });
});

afterAll(async () => {
  await view?.stop();
  await proxy?.stop();
});

describe('events', () => {
  it('one transition per real change, forward to ready, then terminating and gone with who asked', async () => {
    const up = await launcher.up(spec('events'));
    expect(up.stage).toBe('ready');
    const uid = seen.find((t) => t.name === 'events')!.uid;
    await launcher.down('events', 'alice');
    await viewSees('events', (s) => s === undefined);

    const mine = seen.filter((t) => t.uid === uid);
    const stages = mine.map((t) => t.to);
    // No repeats: one event per real transition, not per watch event.
    for (let i = 1; i < stages.length; i++) expect(stages[i]).not.toBe(stages[i - 1]);
    expect(stages).toContain('ready');
    expect(stages.indexOf('ready')).toBeLessThan(stages.indexOf('gone'));
    expect(stages.at(-1)).toBe('gone');
    expect(mine.at(-1)!.state.deployment.metadata?.annotations?.[ANN_DELETED_BY]).toBe('alice');
  });

  it('a deletion made outside Tycho carries no record of who asked', async () => {
    await launcher.up(spec('kubectl-deleted'));
    const uid = view.system('kubectl-deleted')!.uid;
    await admin.makeApiClient(AppsV1Api).deleteNamespacedDeployment({ namespace: ns, name: 'kubectl-deleted' });
    await viewSees('kubectl-deleted', (s) => s === undefined);
    const gone = seen.find((t) => t.uid === uid && t.to === 'gone')!;
    expect(gone.state.deployment.metadata?.annotations?.[ANN_DELETED_BY]).toBeUndefined();
  });

  it('a subscriber that throws stops neither the view nor a launch', async () => {
    const boom = () => {
      throw new Error('subscriber bug');
    };
    view.on('transition', boom);
    try {
      const up = await launcher.up(spec('thrower'));
      expect(up.ready).toBe(true);
      expect(view.system('thrower')?.stage).toBe('ready');
    } finally {
      view.off('transition', boom);
    }
  });
});

describe('answers from the cache', () => {
  it('status and list need no API call once synced: they answer with the API server unreachable', async () => {
    await launcher.up(spec('cached'));
    proxy.cut();
    try {
      expect((await launcher.status('cached')).ready).toBe(true);
      expect((await launcher.list()).map((s) => s.name)).toContain('cached');
    } finally {
      proxy.heal();
    }
  });
});

describe('recovery', () => {
  it('catches up after the API server was unreachable: a launch and a deletion made meanwhile', async () => {
    await direct.up(spec('before-outage'));
    await viewSees('before-outage', (s) => s === 'ready');
    const refusedBefore = proxy.refused;
    proxy.cut();
    await direct.up(spec('during-outage'));
    await direct.down('before-outage');
    // Several failed reconnects with backoff (16 refused: about four for each of the four
    // informers, whose pauses reach the 1 s cap by the third), then the server is back.
    await waitFor(() => proxy.refused - refusedBefore >= 16, { what: `16 reconnects refused (${proxy.refused - refusedBefore} so far)` });
    proxy.heal();
    await viewSees('during-outage', (s) => s === 'ready');
    await viewSees('before-outage', (s) => s === undefined);
  });

  it('restarts a watch that went half-open, and sees what happened since', async () => {
    await viewSees('during-outage', (s) => s === 'ready');
    expect(proxy.freeze()).toBeGreaterThan(0);
    await direct.up(spec('after-freeze'));
    // Nothing arrives on the frozen streams; the watchdog must notice and restart them.
    await viewSees('after-freeze', (s) => s === 'ready');
  });
});
