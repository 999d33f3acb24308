/**
 * The watches the live view holds, counted where the API server sees them: through the
 * benchmark's counting proxy (src/bench/counting-proxy.ts), as test/bot/load.test.ts counts them.
 * - Across the API server's rollovers (it ends each watch at its timeoutSeconds, and the view
 *   opens it again), under churn, the view holds exactly its four watches: never more, and four
 *   again once every kind has re-opened. The counts are reset while the first four are open, as
 *   the load test does: a watch opened before a reset still closes against the same count.
 * - A view stopped right after it synced (the CLI's one-shot view, a server shutting down)
 *   leaves no watch open, not even one it was still opening.
 * Churn is made behind the view's back, straight to the API server (not counted).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { CountingProxy } from '../../src/bench/counting-proxy.js';
import { Launcher } from '../../src/k8s/launcher.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';
import { LiveView, type Transition } from '../../src/k8s/view/live-view.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { countingProxyFor } from '../support/counted.js';

const KINDS = ['deployments', 'pods', 'services', 'endpoints'];
const ACTOR = 'view';
/** A rollover every few seconds instead of every 300 s. */
const ROLLOVER_SECONDS = 3;

let proxy: CountingProxy;
let through: KubeConfig;
let ns: string;

const spec = (name: string): LaunchSpec => ({ name, image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' });
const open = () => proxy.counts(ACTOR).watchesOpen;

beforeAll(async () => {
  ns = await createTestNamespace('view-rollover');
  ({ proxy, kc: through } = await countingProxyFor(ACTOR));
});

afterAll(async () => {
  await proxy?.stop();
});

describe('across rollovers, under churn', () => {
  let view: LiveView;
  let churning = true;
  let churn: Promise<void>[] = [];

  afterAll(async () => {
    churning = false;
    await Promise.all(churn);
    await view?.stop();
  });

  it('the view holds exactly its four watches, and none once stopped', async () => {
    view = new LiveView(through, ns, { watchTimeoutSeconds: ROLLOVER_SECONDS });
    const transitions: Transition[] = [];
    view.on('transition', (t) => transitions.push(t));
    await view.start();
    await waitFor(() => open() === 4, { what: 'the view to hold its four watches' });
    // Count from here, as the load test does: the four open now stay counted.
    proxy.reset(ACTOR);

    // Systems made and torn down behind the view's back: Deployment, ReplicaSet, Pod, Service
    // and Endpoints events for every watch, all the while their rollovers happen.
    const direct = new Launcher(kubeConfig(), { namespace: ns });
    const worker = async (w: number) => {
      for (let i = 0; churning; i++) {
        const name = `churn-${w}-${i}`;
        await direct.up(spec(name), { wait: false });
        await direct.down(name);
      }
    };
    churn = [0, 1, 2].map(worker);
    // Two rollovers of every kind since the reset: every watch counted at the reset has ended.
    const reopened = () => KINDS.every((k) => (proxy.counts(ACTOR).calls[`watch ${k}`] ?? 0) >= 2);
    await waitFor(reopened, { what: 'every watch to have been re-opened twice', timeoutMs: 120_000, intervalMs: 500 });
    churning = false;
    await Promise.all(churn);

    // The view followed the churn across its rollovers.
    expect(transitions.filter((t) => t.name.startsWith('churn-') && t.to === 'gone').length).toBeGreaterThan(0);
    const c = proxy.counts(ACTOR);
    // Never more than four at once: each watch ended before its kind opened the next.
    expect(c.watchesPeak).toBe(4);
    // Four again once a rollover in progress has re-opened its watch (never more, see the peak).
    await waitFor(() => open() === 4, { what: `the view to hold four watches (${open()} open when the wait began)` });

    await view.stop();
    await waitFor(() => open() === 0, { what: `no watch open once the view is stopped (${open()} open when the wait began)` });
  }, 180_000);
});

describe('stopped right after it synced', () => {
  it('leaves no watch open, not even one it was still opening', async () => {
    // Three times: a watch left behind would stay open on the API server for the default
    // timeout (300 s), so by the last stop those of the first would long be open.
    for (let i = 0; i < 3; i++) {
      const view = new LiveView(through, ns);
      // Synced means listed: the watch that follows each list may still be on its way.
      await view.start();
      await view.stop();
    }
    await waitFor(() => open() === 0, { what: `no watch open once the views are stopped (${open()} open when the wait began)`, timeoutMs: 15_000 });
  });
});
