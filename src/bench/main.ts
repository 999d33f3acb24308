/**
 * `npm run bench`: Tycho's speed side by side with a baseline, on the local control plane.
 *
 * 1. Status of every system. Tycho lists Deployments, Services and Pods once each (3 calls,
 *    whatever N is). Baseline: the original Tycho's shape, one list and then reads per system.
 * 2. Launch until Ready. Tycho learns of readiness from a watch. Baseline: create the same
 *    objects, then poll the Deployment once a second, as a polling client does.
 *
 * Prints a Markdown table; the README quotes it. Timings are medians over repeated runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Launcher } from '../k8s/launcher.js';
import { buildDeployment, buildService } from '../k8s/manifests.js';
import { MANAGED_SELECTOR, systemSelector } from '../k8s/labels.js';
import type { LaunchSpec } from '../k8s/spec.js';
import { startLocalCluster } from '../local/local-cluster.js';
import { buildIfNeeded } from '../local/embedded.js';

const spec = (name: string): LaunchSpec => ({ name, image: 'nginx', ports: [80], owner: { id: 'bench', display: 'bench' }, origin: 'cli' });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function timeMany(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(await time(fn));
  return median(out);
}

/** The per-system shape: list the systems, then read each one's Deployment, Service and Pods. */
async function baselineStatusAll(apps: AppsV1Api, core: CoreV1Api, namespace: string): Promise<number> {
  const list = await apps.listNamespacedDeployment({ namespace, labelSelector: MANAGED_SELECTOR });
  let calls = 1;
  for (const d of list.items) {
    const name = d.metadata!.name!;
    await apps.readNamespacedDeployment({ namespace, name });
    await core.readNamespacedService({ namespace, name });
    await core.listNamespacedPod({ namespace, labelSelector: systemSelector(name) });
    calls += 3;
  }
  return calls;
}

async function baselineUpPolling(apps: AppsV1Api, core: CoreV1Api, namespace: string, s: LaunchSpec): Promise<void> {
  const d = await apps.createNamespacedDeployment({ namespace, body: buildDeployment(s, namespace) });
  await core.createNamespacedService({ namespace, body: buildService(s, namespace, { name: s.name, uid: d.metadata!.uid! }, 'NodePort') });
  for (;;) {
    const cur = await apps.readNamespacedDeployment({ namespace, name: s.name });
    if ((cur.status?.readyReplicas ?? 0) >= 1) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<void> {
  await buildIfNeeded((l) => process.stderr.write(`${l}\n`));
  const stateDir = await mkdtemp(join(tmpdir(), 'tycho-bench-'));
  process.stderr.write('starting the local control plane ...\n');
  const cluster = await startLocalCluster({ stateDir });
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const namespace = 'bench';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    // A fresh namespace accepts pods once its default ServiceAccount has a token.
    for (let i = 0; i < 100; i++) {
      const sa = await core.readNamespacedServiceAccount({ namespace, name: 'default' }).catch(() => undefined);
      if (sa?.secrets?.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const launcher = new Launcher(kc, { namespace });
    const rows: string[] = [];

    // 1. Status of all systems.
    let launched = 0;
    for (const n of [1, 10, 50]) {
      const batch: Promise<unknown>[] = [];
      for (; launched < n; launched++) batch.push(launcher.up(spec(`sys-${launched}`), { wait: false }));
      await Promise.all(batch);
      await launcher.list();
      const tycho = await timeMany(15, () => launcher.list());
      let calls = 0;
      const base = await timeMany(15, async () => (calls = await baselineStatusAll(apps, core, namespace)));
      rows.push(`| status of all, ${n} system(s) | ${tycho.toFixed(1)} ms (3 API calls) | ${base.toFixed(1)} ms (${calls} API calls) | ${(base / tycho).toFixed(1)}× |`);
      process.stderr.write(`${rows.at(-1)}\n`);
    }
    await Promise.all(Array.from({ length: launched }, (_, i) => launcher.down(`sys-${i}`)));

    // 2. Launch until Ready.
    const runs = 7;
    const tUp: number[] = [];
    const bUp: number[] = [];
    for (let i = 0; i < runs; i++) {
      tUp.push(await time(() => launcher.up(spec(`watch-${i}`))));
      bUp.push(await time(() => baselineUpPolling(apps, core, namespace, spec(`poll-${i}`))));
      await launcher.down(`watch-${i}`);
      await launcher.down(`poll-${i}`);
    }
    const t = median(tUp);
    const b = median(bUp);
    rows.push(`| launch until Ready (simulated node) | ${t.toFixed(0)} ms (watch) | ${b.toFixed(0)} ms (poll every 1 s) | ${(b / t).toFixed(1)}× |`);

    process.stdout.write(
      [
        `Tycho bench, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, local Kubernetes 1.20.2 control plane with the simulated node`,
        '',
        '| scenario | Tycho | baseline | speed-up |',
        '|---|---|---|---|',
        ...rows,
        '',
      ].join('\n'),
    );
  } finally {
    await cluster.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
