/**
 * Fills a namespace with systems through Tycho's own REST API (`/system/start?wait=false`), a
 * few at a time, then waits until the pod of every one is Ready, so lists read full objects.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { MANAGED_SELECTOR } from '../k8s/labels.js';
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
