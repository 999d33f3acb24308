/**
 * 2. Launch overhead: command sent → URL posted in the thread, minus the time Kubernetes took
 * to make the pod Ready. Launches run one at a time, alternating with the bare client-node
 * script (create the same two objects, watch until Ready), whose overhead is measured the same
 * way against the same pod clock.
 */
import { BenchEnv, IMAGE } from './bench-env.js';
import type { BareLaunch } from './bare-launch.js';
import { PodClock } from './pod-clock.js';
import type { LaunchOverheadResult } from './results.js';
import { dist, ratio } from './stats.js';
import { until } from './clock.js';

export async function measureLaunchOverhead(env: BenchEnv, launches: number): Promise<LaunchOverheadResult> {
  const ns = await env.namespace('launch');
  const tycho = await env.startTycho(ns);
  const bare = await env.bare(ns);
  const clock = await PodClock.start(env.admin, ns);
  const t: number[] = [];
  const b: number[] = [];
  const tTotal: number[] = [];
  const bTotal: number[] = [];
  const failed: string[] = [];
  const k8s = (name: string) => until(`the pod clock to see ${name} Ready`, () => clock.k8sMs(name), 30_000, 20);
  try {
    for (let i = 0; i < launches; i++) {
      const name = `lo-t-${i}`;
      const ack = await env.slash(tycho, `up -n ${name} -c ${IMAGE} -p 80`);
      await env.sink.waitFor(`${name} to finish`, () => env.sink.finished(name), 300_000);
      const thread = env.sink.threads.get(name)!;
      if (thread.urlAt === undefined) failed.push(`${name}: ${thread.failedText ?? 'failed'}`);
      else {
        tTotal.push(thread.urlAt - ack.sentAt);
        t.push(thread.urlAt - ack.sentAt - (await k8s(name)));
      }
      // Tycho's last calls (recording the Ready message) end before the next launch starts.
      await env.quiet('tycho', 200);

      const bname = `lo-b-${i}`;
      const [r] = (await bare.call<{ launches: BareLaunch[] }>('launch', [bname])).launches;
      if (r?.readyAt === undefined) failed.push(`${bname}: ${r?.error ?? 'no answer'}`);
      else {
        bTotal.push(r.readyAt - r.startAt);
        b.push(r.readyAt - r.startAt - (await k8s(bname)));
      }
      if ((i + 1) % 10 === 0) env.log(`launch overhead: ${i + 1}/${launches}`);
    }
  } finally {
    clock.stop();
    await bare.stop();
    await env.stopApp(tycho);
  }
  const names = [...clock.bySystem.keys()];
  const fromWatch = names.map((n) => clock.k8sMs(n)).filter((x): x is number => x !== undefined);
  const fromConditions = names.map((n) => clock.k8sMsFromConditions(n)).filter((x): x is number => x !== undefined);
  const agreement = Math.max(0, ...names.map((n) => Math.abs((clock.k8sMs(n) ?? 0) - (clock.k8sMsFromConditions(n) ?? 0))));
  await env.dropNamespace(ns);
  const td = dist(t);
  const bd = dist(b);
  return {
    launches,
    tycho: td,
    baseline: bd,
    ratio: ratio(td, bd),
    k8sReady: dist(fromWatch),
    k8sReadyFromConditions: dist(fromConditions),
    clockAgreementMs: Math.round(agreement),
    tychoTotal: dist(tTotal),
    baselineTotal: dist(bTotal),
    failed,
    samples: { tycho: t.map(Math.round), baseline: b.map(Math.round) },
  };
}
