/**
 * The live view through the failures a long-running server meets, on the real control plane:
 * - a forced 410: watches ended by the ERROR event an API server sends when their
 *   resourceVersion is too old, and watches refused 410 Gone outright. The view re-lists and
 *   catches up with what happened meanwhile, and a launch in flight finishes;
 * - the API server unreachable for more than 30 s: /readyz says so meanwhile, then the view
 *   catches up, and the launch that was in flight finishes within its own timeout.
 * Changes "meanwhile" are made behind Tycho's back, straight to the API server.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Launcher } from '../../src/k8s/launcher.js';
import { LiveView } from '../../src/k8s/view/live-view.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';
import type { RunningTycho } from '../../src/server/tycho.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { HttpFaultProxy, FaultProxy } from '../support/fault-proxy.js';
import { startServer } from '../api/helpers.js';
import { openUrl } from '../support/open-url.js';

let admin: KubeConfig;
const spec = (name: string, image = 'nginx'): LaunchSpec => ({ name, image, ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' });

function sees(view: LiveView, name: string, test: (stage: string | undefined) => boolean, ms = 60_000): Promise<void> {
  return view.waitFor(name, (s) => (test(s?.stage) ? true : undefined), AbortSignal.timeout(ms)).then(() => undefined);
}

beforeAll(() => {
  admin = kubeConfig();
});

describe('a forced 410', () => {
  let ns: string;
  let proxy: HttpFaultProxy;
  let view: LiveView;
  let launcher: Launcher;
  let direct: Launcher;

  beforeAll(async () => {
    ns = await createTestNamespace('view-410');
    proxy = await HttpFaultProxy.start(admin);
    const through = proxy.kubeConfigThrough(admin);
    // The default watch timeout: the first test counts the four watches open at one moment, which
    // a view whose watches end every few seconds would not always have.
    view = new LiveView(through, ns, { backoffMaxMs: 1000 });
    await view.start();
    launcher = new Launcher(through, { namespace: ns, view, readyTimeoutSeconds: 90 });
    direct = new Launcher(admin, { namespace: ns });
  });

  afterAll(async () => {
    await view?.stop();
    await proxy?.stop();
  });

  it('watches ended with ERROR 410 Expired: the view re-lists, catches up, and the launch in flight finishes', async () => {
    await direct.up(spec('old'));
    await sees(view, 'old', (s) => s === 'ready');
    // slow-start: ContainerCreating for a few seconds, so the launch is in flight when its watches expire.
    const launching = launcher.up(spec('in-flight', 'example/slow-start:1'));
    await sees(view, 'in-flight', (s) => s !== undefined);
    const listsBefore = proxy.counts.lists;
    // Behind the view's back, then its four watches expire before it has heard of either change.
    await waitFor(() => proxy.watchesOpen === 4, { what: 'the view to hold its four watches' });
    await direct.down('old');
    await direct.up(spec('made-meanwhile'), { wait: false });
    expect(proxy.expireOpenWatches()).toBe(4);

    expect((await launching).ready).toBe(true);
    await sees(view, 'old', (s) => s === undefined);
    await sees(view, 'made-meanwhile', (s) => s === 'ready');
    // Each of the four informers listed again: a 410 means its resourceVersion is of no use.
    expect(proxy.counts.lists - listsBefore).toBeGreaterThanOrEqual(4);
  });

  it('watches refused 410 Gone outright: the view re-lists and catches up', async () => {
    // Watches that end on their own every 3 s; the first view's stay open, so every refused
    // watch request below is this view's.
    const quick = new LiveView(proxy.kubeConfigThrough(admin), ns, { watchTimeoutSeconds: 3, backoffMaxMs: 1000 });
    try {
      await quick.start();
      // Both views' four watches open: the refusals below are of resumed watches.
      await waitFor(() => proxy.watchesOpen === 8, { what: 'both views to hold their four watches' });
      const listsBefore = proxy.counts.lists;
      const expiredBefore = proxy.counts.expired;
      proxy.answerNextWatchesGone(4);
      await direct.up(spec('after-gone'), { wait: false });
      // The watches end on their own and their next four requests are refused.
      await sees(quick, 'after-gone', (s) => s === 'ready');
      await waitFor(() => proxy.counts.expired - expiredBefore === 4, { what: 'four watch requests to be refused 410' });
      await waitFor(() => proxy.counts.lists - listsBefore >= 4, { what: 'the four informers to list again' });
      expect(quick.system('after-gone')?.stage).toBe('ready');
    } finally {
      await quick.stop();
    }
  });
});

/** The server's longest pause between two tries to reach the API server (30 s in production). */
const BACKOFF_MAX_MS = 2000;

describe('the API server unreachable for longer than the longest pause between tries', () => {
  let ns: string;
  let proxy: FaultProxy;
  let server: RunningTycho;
  let direct: Launcher;

  beforeAll(async () => {
    ns = await createTestNamespace('view-outage');
    proxy = await FaultProxy.start(admin);
    server = await startServer({ namespace: ns, kc: proxy.kubeConfigThrough(admin), env: { TYCHO_READY_TIMEOUT: '150' }, viewOptions: { backoffMaxMs: BACKOFF_MAX_MS } });
    direct = new Launcher(admin, { namespace: ns });
  });

  afterAll(async () => {
    await server?.stop();
    await proxy?.stop();
  });

  it('/readyz says so meanwhile; then the view catches up and the launch in flight finishes', async () => {
    await direct.up(spec('before'));
    const readyz = `${server.url}/readyz`;
    await waitFor(async () => {
      const r = await openUrl(readyz);
      return 'status' in r && r.status === 200;
    }, { what: '/readyz to answer 200' });
    const launching = server.launcher.up(spec('in-flight', 'example/slow-start:1'));
    // Both creates made (the Service lists its ports), so the outage falls while the launch waits.
    await waitFor(() => direct.status('in-flight').then((s) => s.ports.length > 0), { what: 'the launch to have created its objects' });
    proxy.cut();
    try {
      const during = await waitFor(async () => {
        const r = await openUrl(readyz);
        return 'status' in r && r.status === 503 ? r : undefined;
      }, { what: '/readyz to answer 503' });
      expect(JSON.parse(during.body)).toMatchObject({ status: 'not ready', message: expect.stringMatching(/\S/) });
      // Meanwhile, behind Tycho's back.
      await direct.down('before');
      await direct.up(spec('during'), { wait: false });
      // The scenario: down for longer than the longest pause between retries (30 s in production,
      // BACKOFF_MAX_MS here), so every informer has backed off to it and tried again after it.
      // Counted, not slept: the pauses start at 250 ms and double (jittered down to half), so an
      // informer is at the longest pause by its fifth try; 48 tries refused are about 12 for each
      // of the view's four informers.
      await waitFor(() => proxy.refused >= 48, { what: `48 tries refused while the API server is away (${proxy.refused} so far)`, timeoutMs: 120_000 });
      expect(await openUrl(readyz)).toMatchObject({ status: 503 });
    } finally {
      proxy.heal();
    }
    expect((await launching).ready).toBe(true);
    await waitFor(async () => {
      const names = (await server.launcher.list()).map((s) => s.name).sort();
      return names.join(',') === 'during,in-flight' ? names : undefined;
    }, { what: 'the view to catch up: "before" gone, "during" there', timeoutMs: 60_000 });
    await waitFor(async () => (await server.launcher.status('during')).ready, { what: '"during" ready', timeoutMs: 60_000 });
    await waitFor(async () => {
      const r = await openUrl(readyz);
      return 'status' in r && r.status === 200;
    }, { what: '/readyz to answer 200 again' });
  }, 180_000);
});
