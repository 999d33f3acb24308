/**
 * Fills a namespace with systems: through Tycho's own REST API (`/system/start?wait=false`), a
 * few at a time, or (thousands of them, for the memory at scale) straight to the API server with
 * Tycho's own manifests; then waits until the pod of every one is Ready, so lists read full objects.
 */
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { ANN_LAUNCH_ID, MANAGED_SELECTOR } from '../k8s/labels.js';
import { buildDeployment, buildService } from '../k8s/manifests.js';
import type { LaunchSpec } from '../k8s/spec.js';
import type { AppProcess } from './app-process.js';
import { BenchEnv, IMAGE } from './bench-env.js';
import { until } from './clock.js';
import { rest } from './rest.js';

export const populatedName = (i: number): string => `sys-${String(i).padStart(4, '0')}`;

export async function populate(env: BenchEnv, app: AppProcess, namespace: string, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    for (let i = next++; i < to; i = next++) {
      const name = populatedName(i);
      const r = await rest(app, '/system/start?wait=false', { name, containers: [{ name: `${name}-c`, image: IMAGE, ports: [{ containerPort: 80 }] }] });
      if (r.status !== 201 && r.status !== 200) throw new Error(`could not create ${name}: HTTP ${r.status} ${r.body.message ?? ''}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const core = env.admin.makeApiClient(CoreV1Api);
  let lastLog = 0;
  await until(
    `${to} Ready pods in ${namespace}`,
    async () => {
      const pods = await core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR });
      const ready = pods.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      if (Date.now() - lastLog > 20_000) {
        env.log(`populate: ${ready}/${to} pods Ready`);
        lastLog = Date.now();
      }
      return ready >= to;
    },
    1_800_000,
    3000,
  );
}

const isReady = (p: V1Pod) => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Ready pods of Tycho's in the namespace, counted page by page (a list of thousands at once is a burden on a busy API server). */
async function readyPods(core: CoreV1Api, namespace: string): Promise<number> {
  let ready = 0;
  let next: string | undefined;
  do {
    const page = await core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR, limit: 500, ...(next ? { _continue: next } : {}) });
    ready += page.items.filter(isReady).length;
    next = page.metadata?._continue || undefined;
  } while (next);
  return ready;
}

/**
 * `count` systems made as a launch makes them (the Deployment and its ClusterIP Service, built by
 * Tycho's manifest code, with a launch id) but straight to the API server, 16 at a time: setup,
 * not a measurement, and thousands through the REST API would take far longer. Small requests
 * (10m CPU, 16Mi) so that a simulated node takes 500 pods.
 */
export async function populateDirect(env: BenchEnv, namespace: string, count: number): Promise<void> {
  const apps = env.admin.makeApiClient(AppsV1Api);
  const core = env.admin.makeApiClient(CoreV1Api);
  let next = 0;
  let lastLog = Date.now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const name = populatedName(i);
      const spec: LaunchSpec = {
        name,
        image: IMAGE,
        ports: [80],
        resources: { cpu: '10m', memory: '16Mi' },
        expose: 'cluster',
        owner: { id: 'api:bench', display: 'bench' },
        origin: 'api',
        annotations: { [ANN_LAUNCH_ID]: `bench-${i}` },
      };
      const d = await apps.createNamespacedDeployment({ namespace, body: buildDeployment(spec, namespace) });
      await core.createNamespacedService({ namespace, body: buildService(spec, namespace, { name, uid: d.metadata!.uid! }, 'ClusterIP') });
      if (Date.now() - lastLog > 20_000) {
        env.log(`populate: ${i + 1}/${count} systems created`);
        lastLog = Date.now();
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  lastLog = 0;
  await until(
    `${count} Ready pods in ${namespace}`,
    async () => {
      const ready = await readyPods(core, namespace);
      if (Date.now() - lastLog > 20_000) {
        env.log(`populate: ${ready}/${count} pods Ready`);
        lastLog = Date.now();
      }
      return ready >= count;
    },
    3_600_000,
    10_000,
  );
}
