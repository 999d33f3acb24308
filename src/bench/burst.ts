/**
 * 4, 6 and 7. A burst of `/tycho up` commands sent at once. Each must end in Slack with its URL
 * or a truthful error, exactly once, and the cluster must hold exactly one Deployment per
 * command. Meanwhile: the watches Tycho holds open (peak, at the proxy) and its resident memory
 * (sampled, and the kernel's high-water mark). Then the bare script makes the same launches at
 * once, for the wall-time ratio. Also gives the idle memory of a fresh server.
 */
import { AppsV1Api } from '@kubernetes/client-node';
import { MANAGED_SELECTOR } from '../k8s/labels.js';
import { BenchEnv, IMAGE } from './bench-env.js';
import type { BareLaunch } from './bare-launch.js';
import { epochMs, sleep } from './clock.js';
import type { BurstResult } from './results.js';
import { dist } from './stats.js';

export interface BurstOutcome {
  burst: BurstResult;
  idleMiB: number;
  peakMiB: number;
  highWaterMiB: number;
}

export async function measureBurst(env: BenchEnv, launches: number, nodeArgs: string[] = []): Promise<BurstOutcome> {
  const ns = await env.namespace('burst');
  const tycho = await env.startTycho(ns, nodeArgs);
  try {
    await env.quiet('tycho', 1000);
    await sleep(2000);
    const idle = await tycho.memory();
    await env.reset('tycho');

    let peak = idle.rssMiB;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await tycho.memory().catch(() => idle)).rssMiB);
        await sleep(100);
      }
    })();

    const names = Array.from({ length: launches }, (_, i) => `burst-${i}`);
    env.log(`burst: ${launches} /tycho up at once ...`);
    const t0 = epochMs();
    const acks = await Promise.all(names.map((n) => env.slash(tycho, `up -n ${n} -c ${IMAGE} -p 80`)));
    const sentAt = new Map(names.map((n, i) => [n, acks[i]!.sentAt]));
    // A lost launch shows here as a timeout, and is then reported as lost rather than thrown.
    await env.sink.waitFor(`all ${launches} burst launches to end`, () => names.every((n) => env.sink.finished(n)), 1_200_000).catch((e: Error) => env.log(e.message));
    const ends = names.map((n) => env.sink.threads.get(n)).map((t) => t?.urlAt ?? t?.failedAt).filter((x): x is number => x !== undefined);
    const wallMs = Math.max(...ends) - t0;
    await env.quiet('tycho', 1000);
    sampling = false;
    await sampler;
    const after = await tycho.memory();
    const counts = await env.counts('tycho');

    // What Slack says against what the cluster holds.
    const deps = await env.admin.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns, labelSelector: MANAGED_SELECTOR });
    const readyInCluster = new Set(deps.items.filter((d) => (d.status?.readyReplicas ?? 0) >= 1).map((d) => d.metadata!.name!));
    const depCount = new Map<string, number>();
    for (const d of deps.items) depCount.set(d.metadata!.name!, (depCount.get(d.metadata!.name!) ?? 0) + 1);
    const lost: string[] = [];
    const doubled: string[] = [];
    const untruthful: string[] = [];
    const failureTexts: string[] = [];
    const perLaunch: number[] = [];
    let ready = 0;
    let failed = 0;
    for (const n of names) {
      const t = env.sink.threads.get(n);
      if (!t || !env.sink.finished(n)) {
        lost.push(n);
        continue;
      }
      if ((env.sink.rootsByName.get(n) ?? 0) > 1 || t.urlReplies + t.failures > 1 || (depCount.get(n) ?? 0) > 1) doubled.push(n);
      if (t.urlAt !== undefined) {
        ready += 1;
        if (!readyInCluster.has(n)) untruthful.push(`${n}: said Ready, not Ready in the cluster`);
      } else {
        failed += 1;
        failureTexts.push(`${n}: ${t.failedText ?? ''}`);
        if (readyInCluster.has(n) && !/timed out|not ready in time/i.test(t.failedText ?? '')) untruthful.push(`${n}: said failed, Ready in the cluster`);
      }
      perLaunch.push((t.urlAt ?? t.failedAt!) - sentAt.get(n)!);
    }

    env.log(`burst: baseline, the bare script's ${launches} launches at once, and as many commands to a bare Bolt app ...`);
    const bare = await env.bare(ns);
    const bolt = await env.startBareBolt();
    let baseline: { launches: BareLaunch[]; doneAt: number };
    let baselineAcks: { ms: number }[];
    const b0 = epochMs();
    try {
      // The acks' baseline: the same machine taking the same burst of commands while a cluster as
      // busy makes the same launches, but with a receiver that only acks.
      [baseline, baselineAcks] = await Promise.all([
        bare.call<{ launches: BareLaunch[]; doneAt: number }>('launch', names.map((n) => `bare-${n}`)),
        Promise.all(names.map((n) => env.slash(bolt, `up -n ${n} -c ${IMAGE} -p 80`))),
      ]);
    } finally {
      await bare.stop();
      await env.stopApp(bolt);
    }
    const baseOk = baseline.launches.filter((l) => l.readyAt !== undefined);
    const baselineWallMs = Math.max(...baseOk.map((l) => l.readyAt!)) - b0;
    const baselinePerLaunch = baseOk.map((l) => l.readyAt! - l.startAt);
    return {
      idleMiB: idle.rssMiB,
      peakMiB: Math.max(peak, after.rssMiB),
      highWaterMiB: after.peakMiB,
      burst: {
        launches,
        ready,
        failed,
        lost,
        doubled,
        untruthful,
        failureTexts: failureTexts.slice(0, 20),
        wallMs: Math.round(wallMs),
        baselineWallMs: Math.round(baselineWallMs),
        wallRatio: Math.round((wallMs / baselineWallMs) * 100) / 100,
        baselineFailed: baseline.launches.length - baseOk.length,
        perLaunch: dist(perLaunch),
        baselinePerLaunch: dist(baselinePerLaunch),
        acks: dist(acks.map((a) => a.ms)),
        baselineAcks: dist(baselineAcks.map((a) => a.ms)),
        ackRatio: Math.round((dist(acks.map((a) => a.ms)).p99 / dist(baselineAcks.map((a) => a.ms)).p99) * 100) / 100,
        watchesPeak: counts.watchesPeak,
        counts,
        samples: { perLaunch: perLaunch.map(Math.round), baselinePerLaunch: baselinePerLaunch.map(Math.round) },
      },
    };
  } finally {
    await env.stopApp(tycho);
    await env.dropNamespace(ns);
  }
}
