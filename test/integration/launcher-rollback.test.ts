/**
 * A launch whose API server fails right after the Deployment is made: the undo must really
 * happen, or the caller must hear exactly what was left. The fault proxy stops the API server
 * at the moment the launcher logs its Deployment as created, before the Service is asked for,
 * and the cluster is read directly (not through the proxy) to see what is really there.
 */
import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { Launcher, type LauncherOptions } from '../../src/k8s/launcher.js';
import { ClusterUnreachable, RollbackIncomplete, type TychoError } from '../../src/k8s/errors.js';
import { LiveView } from '../../src/k8s/view/live-view.js';
import { ANN_REPAIR } from '../../src/k8s/system-repair.js';
import { createLogger } from '../../src/log.js';
import type { LaunchSpec } from '../../src/k8s/spec.js';
import { createTestNamespace, kubeConfig, systemObjects, waitFor } from '../support/cluster.js';
import { FaultProxy, HttpFaultProxy } from '../support/fault-proxy.js';
import { failureOf } from '../support/failures.js';

let ns: string;
const apps = kubeConfig().makeApiClient(AppsV1Api);

const spec = (name: string): LaunchSpec => ({ name, image: 'nginx', ports: [80], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli', expose: 'nodeport' });

/** A launcher through kc whose log lines are handed to `on` as they are written. */
function launcherThrough(kc: KubeConfig, on: (line: string) => void, o: Partial<LauncherOptions> = {}): Launcher {
  return new Launcher(kc, { namespace: ns, readyTimeoutSeconds: 60, log: createLogger({ level: 'info', write: on }), ...o });
}

const nothingLeft = { deployments: [], replicaSets: [], pods: [], services: [] };

beforeAll(async () => {
  ns = await createTestNamespace('rollback');
});

it('the API server stopped mid-up, then started: no half-made system, and the caller was told the truth', async () => {
  const proxy = await FaultProxy.start(kubeConfig());
  try {
    const launcher = launcherThrough(proxy.kubeConfigThrough(kubeConfig()), (line) => {
      // Down right after the Deployment is made; back once the undo has found it down.
      if (line.includes('"created the Deployment"')) proxy.cut();
      if (line.includes('could not undo a failed launch yet')) proxy.heal();
    });
    const e = await failureOf(launcher.up(spec('halfway')));
    proxy.heal();
    // The launch's own failure, and nothing left: what it made was removed before it answered.
    expect(e).toBeInstanceOf(ClusterUnreachable);
    expect(e.message).toMatch(/to create the Service/);
    expect(e.leftInPlace).toBeUndefined();
    expect((await systemObjects(ns, 'halfway')).deployments).toEqual([]);
    // Its ReplicaSet and pod go with it (the garbage collector's work).
    await waitFor(async () => JSON.stringify(await systemObjects(ns, 'halfway')) === JSON.stringify(nothingLeft), { what: 'nothing of "halfway" to be left' });
  } finally {
    proxy.heal();
    await proxy.stop();
  }
});

it('the API server stayed down past the undo\'s time: the caller hears exactly what was left and how to remove it, and a server finishes the undo once it answers', async () => {
  const proxy = await FaultProxy.start(kubeConfig());
  const kc = proxy.kubeConfigThrough(kubeConfig());
  // A server's launcher (it has the shared view): it goes on undoing after it has answered.
  const view = new LiveView(kc, ns);
  await view.start();
  try {
    const launcher = launcherThrough(kc, (line) => line.includes('"created the Deployment"') && proxy.cut(), { view, rollbackSeconds: 1 });
    const e = await failureOf(launcher.up(spec('stranded')));
    expect(e).toBeInstanceOf(RollbackIncomplete);
    expect(e.code).toBe('rollback_incomplete');
    expect((e as RollbackIncomplete).failure).toBeInstanceOf(ClusterUnreachable);
    expect(e.message).toMatch(/^Tycho cannot reach Kubernetes \(\w+\) to create the Service; .* Tycho could not remove what it had made within 1 s: the Deployment "stranded" \(with its pods[^)]*\) is still in the cluster\. Tycho keeps trying to remove it; to remove it yourself once Kubernetes answers, tear "stranded" down \(down stranded\)\.$/);
    expect(e.leftInPlace).toBe('stranded');
    // What it said is there, is there.
    expect((await systemObjects(ns, 'stranded')).deployments.map((d) => d.metadata!.name)).toEqual(['stranded']);

    proxy.heal();
    await waitFor(async () => JSON.stringify(await systemObjects(ns, 'stranded')) === JSON.stringify(nothingLeft), { what: 'the undo to finish once the API server answers' });
  } finally {
    proxy.heal();
    await view.stop();
    await proxy.stop();
  }
});

it('a delete refused while other writes pass leaves the Deployment marked so no repair brings it back; the undo finishes once the delete is allowed', async () => {
  const proxy = await HttpFaultProxy.start(kubeConfig());
  const kc = proxy.kubeConfigThrough(kubeConfig());
  const view = new LiveView(kc, ns);
  await view.start();
  try {
    // The Service create and every Deployment delete are answered 503 by the proxy.
    proxy.answerWhen = (method, path) => ((method === 'POST' && /\/services(\?|$)/.test(path)) || (method === 'DELETE' && /\/deployments\//.test(path)) ? 503 : undefined);
    const launcher = launcherThrough(kc, () => undefined, { view, rollbackSeconds: 1 });
    const e: TychoError = await failureOf(launcher.up(spec('refused')));
    expect(e).toBeInstanceOf(RollbackIncomplete);
    expect(e.message).toMatch(/^Kubernetes is not answering properly \(HTTP 503\) while trying to create the Service; .* the Deployment "refused" \(with its pods\) is still in the cluster\./);
    const left = await apps.readNamespacedDeployment({ namespace: ns, name: 'refused' });
    expect(left.metadata!.annotations![ANN_REPAIR]).toBe('off');

    proxy.answerWhen = undefined;
    await waitFor(async () => JSON.stringify(await systemObjects(ns, 'refused')) === JSON.stringify(nothingLeft), { what: 'the undo to finish once deletes are allowed' });
  } finally {
    proxy.answerWhen = undefined;
    await view.stop();
    await proxy.stop();
  }
});

it('TYCHO_ON_FAILURE=delete whose teardown is refused: the caller hears the pod\'s failure and exactly what is still there', async () => {
  const proxy = await HttpFaultProxy.start(kubeConfig());
  try {
    proxy.answerWhen = (method, path) => (method === 'DELETE' && /\/deployments\//.test(path) ? 503 : undefined);
    const tidy = launcherThrough(proxy.kubeConfigThrough(kubeConfig()), () => undefined, { onFailure: 'delete', rollbackSeconds: 1 });
    const e = await failureOf(tidy.up({ ...spec('tidy-refused'), image: 'example.org/pull-error' }));
    expect(e).toBeInstanceOf(RollbackIncomplete);
    expect((e as RollbackIncomplete).failure.code).toBe('image_pull_failed');
    expect(e.message).toMatch(/^The image "example\.org\/pull-error" could not be pulled\..* the Deployment "tidy-refused" \(with its pods and its Service\) is still in the cluster\. To remove it yourself once Kubernetes answers, tear "tidy-refused" down \(down tidy-refused\)\.$/);
    expect(e.leftInPlace).toBe('tidy-refused');
    expect((await systemObjects(ns, 'tidy-refused')).deployments).toHaveLength(1);
  } finally {
    proxy.answerWhen = undefined;
    await proxy.stop();
  }
});
