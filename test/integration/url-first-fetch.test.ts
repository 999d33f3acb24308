/**
 * "Ready" means the URL answers: each URL handed out answers on the very first fetch, 50
 * launches in a row. Before the live view, Ready came from the pod's condition alone, which
 * precedes the Endpoints (and kube-proxy, here the node simulator) routing to the pod, and
 * clean-clone runs failed with ECONNREFUSED right after Ready.
 */
import { Launcher } from '../../src/k8s/launcher.js';
import { LiveView } from '../../src/k8s/view/live-view.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { openUrl } from '../support/open-url.js';

let ns: string;
let view: LiveView;
let launcher: Launcher;

beforeAll(async () => {
  ns = await createTestNamespace('first-fetch');
  view = new LiveView(kubeConfig(), ns);
  await view.start();
  launcher = new Launcher(kubeConfig(), { namespace: ns, view, readyTimeoutSeconds: 60 });
});

afterAll(async () => {
  await view?.stop();
});

it('50 launches in a row: every URL answers on the first fetch, and says it was checked', async () => {
  const failures: string[] = [];
  for (let i = 0; i < 50; i++) {
    const name = `first-${i}`;
    const up = await launcher.up({ name, image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' });
    expect(up.urlCheck).toEqual({ checked: 'public', verified: true });
    // One fetch, no retry: this is what a person clicking the link does.
    const answer = await openUrl(up.url!);
    if (!('status' in answer) || answer.status !== 200) failures.push(`${name}: ${'status' in answer ? answer.status : answer.refused}`);
    // Torn down without waiting, so the namespace does not fill up; the view follows it.
    void launcher.down(name).catch(() => undefined);
  }
  expect(failures).toEqual([]);
}, 300_000);

it('a system that serves but whose URL never answers is ready with the URL unverified, not failed', async () => {
  // No-one listens on this address: the check must give up and say so.
  const lonely = new Launcher(kubeConfig(), { namespace: ns, view, publicHost: '127.0.0.2', urlCheckSeconds: 1 });
  const up = await lonely.up({ name: 'unreachable', image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' });
  expect(up.ready).toBe(true);
  expect(up.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
  expect(up.urlCheck).toMatchObject({ checked: 'public', verified: false });
  expect(up.urlCheck?.reason).toMatch(/did not answer within 1 s/);
  // Recorded on the Deployment: anyone reading status later sees the same verdict.
  expect((await launcher.status('unreachable')).urlCheck).toMatchObject({ checked: 'public', verified: false });
});
