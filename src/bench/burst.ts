/**
 * 4, 6 and 7. A burst of `/tycho up` commands sent at once. Each must end in Slack with its URL
 * or a truthful error, exactly once, and the cluster must hold exactly one Deployment per
 * command. Meanwhile: the watches Tycho holds open (peak, at the proxy) and its resident memory
 * (sampled, and the kernel's high-water mark). Then, with Tycho's server stopped (its view
 * follows every Deployment of Tycho's labels in the namespace, the baseline's too, and its work
 * on them would slow the baseline down), the bare script makes the same launches at once, for
 * the wall-time ratio. Also gives the idle memory of a fresh server.
 *
 * Where the wall time goes: a watch of the namespace's pods (pod-clock.ts) and the Slack stand-in
 * note when each launch passed each point (acked, started, pod made, pod Ready, URL posted), for
 * Tycho and the bare script alike. With a profile directory, the server runs under --cpu-prof
 * and the burst's window of its profile is summarised (cpu-profile.ts). With `before` (a built
 * checkout of an earlier commit), that commit's server takes the same burst first, in a namespace
 * of its own, so a change is measured against its predecessor and the baseline in one run.
 */
import { AppsV1Api } from '@kubernetes/client-node';
import { cpus } from 'node:os';
import { MANAGED_SELECTOR } from '../k8s/labels.js';
import type { AppProcess } from './app-process.js';
import { BenchEnv, IMAGE } from './bench-env.js';
import type { BareLaunch } from './bare-launch.js';
import { epochMs, sleep } from './clock.js';
import type { ActorCounts } from './counting-proxy.js';
import { cpuSnapshot, cpuUsage } from './cpu-usage.js';
import { monotonicUs, readProfileOf, summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { PodClock } from './pod-clock.js';
import type { BurstPhases, BurstResult, BurstRunSummary, LaunchesOutcome } from './results.js';
import type { Ack } from './slash-command.js';
import { dist, type Dist } from './stats.js';

export interface BurstOutcome {
  burst: BurstResult;
  idleMiB: number;
  peakMiB: number;
  highWaterMiB: number;
}

export interface BurstOptions {
  /** Node flags for Tycho's server, after the image's (an experiment's: --trace-gc, a heap size). */
  nodeArgs?: string[];
  /** Settings for Tycho's server besides the benchmark's own (an experiment's: TYCHO_LAUNCH_CONCURRENCY). */
  serverEnv?: Record<string, string>;
  /** Where --cpu-prof writes: the burst's window of the server's profile is summarised in the result. */
  profileDir?: string;
  /** A built checkout of an earlier commit: its server takes the same burst in the same run. */
  before?: string;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;
/** The latest of the times (epoch ms) some launch passed a point, from `t0`, in s; undefined if none did. */
const lastOf = (xs: (number | undefined)[], t0: number) => {
  const known = xs.filter((x): x is number => x !== undefined);
  return known.length ? seconds(Math.max(...known) - t0) : undefined;
};
/** The earliest of the times some launch passed a point, from `t0`, in s. */
const firstOf = (xs: (number | undefined)[], t0: number) => {
  const known = xs.filter((x): x is number => x !== undefined);
  return known.length ? seconds(Math.min(...known) - t0) : undefined;
};
/** Per launch, from one point to the next (ms), where both are known. */
const between = (pairs: [number | undefined, number | undefined][]) => dist(pairs.filter(([a, b]) => a !== undefined && b !== undefined).map(([a, b]) => b! - a!));

/** One server's burst: what Slack and the cluster say, its memory, and when each launch passed each point. */
interface TychoBurst extends LaunchesOutcome {
  names: string[];
  t0: number;
  acks: Ack[];
  perLaunch: number[];
  idleMiB: number;
  peakMiB: number;
  highWaterMiB: number;
  counts: ActorCounts;
  slackCalls: Record<string, number>;
  /** CPU seconds by process while the burst ran (cpu-usage.ts). */
  cpu: { what: string; s: number }[];
  pods: PodClock;
  profile?: ProfileSummary;
}

async function tychoBurst(env: BenchEnv, ns: string, launches: number, o: BurstOptions, prefix: string, checkout?: string): Promise<TychoBurst> {
  const nodeArgs = o.profileDir ? [...(o.nodeArgs ?? []), '--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : (o.nodeArgs ?? []);
  const tycho: AppProcess = await env.startTycho(ns, nodeArgs, checkout, o.serverEnv);
  const pods = await PodClock.start(env.admin, ns);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await env.stopApp(tycho);
  };
  try {
    await env.quiet('tycho', 1000);
    await sleep(2000);
    const idle = await tycho.memory();
    await env.reset('tycho');
    const slackBefore = new Map(env.sink.byMethod);

    let peak = idle.rssMiB;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, (await tycho.memory().catch(() => idle)).rssMiB);
        await sleep(100);
      }
    })();

    const names = Array.from({ length: launches }, (_, i) => `${prefix}-${i}`);
    env.log(`burst: ${launches} /tycho up at once${checkout ? ` (the server of ${checkout})` : ''} ...`);
    const cpu0 = await cpuSnapshot();
    const t0 = epochMs();
    const mono0 = monotonicUs();
    const acks = await Promise.all(names.map((n) => env.slash(tycho, `up -n ${n} -c ${IMAGE} -p 80`)));
    const sentAt = new Map(names.map((n, i) => [n, acks[i]!.sentAt]));
    // A lost launch shows here as a timeout, and is then reported as lost rather than thrown.
    await env.sink.waitFor(`all ${launches} burst launches to end`, () => names.every((n) => env.sink.finished(n)), 1_200_000).catch((e: Error) => env.log(e.message));
    const ends = names.map((n) => env.sink.threads.get(n)).map((t) => t?.urlAt ?? t?.failedAt).filter((x): x is number => x !== undefined);
    const wallMs = Math.max(...ends) - t0;
    const cpu = cpuUsage(cpu0, await cpuSnapshot(), process.pid, new Map([...env.helperNames(), [tycho.pid, "Tycho's server"]]));
    await env.quiet('tycho', 1000);
    sampling = false;
    await sampler;
    const after = await tycho.memory();
    const counts = await env.counts('tycho');
    const slackCalls = Object.fromEntries([...env.sink.byMethod].map(([m, n]) => [m, n - (slackBefore.get(m) ?? 0)]).filter(([, n]) => (n as number) > 0)) as Record<string, number>;

    // What Slack says against what the cluster holds.
    const deps = await env.admin.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns, labelSelector: MANAGED_SELECTOR });
    const readyInCluster = new Set(deps.items.filter((d) => (d.status?.readyReplicas ?? 0) >= 1).map((d) => d.metadata!.name!));
    const depCount = new Map<string, number>();
    for (const d of deps.items) depCount.set(d.metadata!.name!, (depCount.get(d.metadata!.name!) ?? 0) + 1);
    const r = { lost: [] as string[], doubled: [] as string[], untruthful: [] as string[], failureTexts: [] as string[], perLaunch: [] as number[], ready: 0, failed: 0 };
    for (const n of names) {
      const t = env.sink.threads.get(n);
      if (!t || !env.sink.finished(n)) {
        r.lost.push(n);
        continue;
      }
      if ((env.sink.rootsByName.get(n) ?? 0) > 1 || t.urlReplies + t.failures > 1 || (depCount.get(n) ?? 0) > 1) r.doubled.push(n);
      if (t.urlAt !== undefined) {
        r.ready += 1;
        if (!readyInCluster.has(n)) r.untruthful.push(`${n}: said Ready, not Ready in the cluster`);
      } else {
        r.failed += 1;
        r.failureTexts.push(`${n}: ${t.failedText ?? ''}`);
        if (readyInCluster.has(n) && !/timed out|not ready in time/i.test(t.failedText ?? '')) r.untruthful.push(`${n}: said failed, Ready in the cluster`);
      }
      r.perLaunch.push((t.urlAt ?? t.failedAt!) - sentAt.get(n)!);
    }

    // Stopping it also writes its profile.
    await stop();
    let profile: ProfileSummary | undefined;
    if (o.profileDir) {
      const p = await readProfileOf(o.profileDir, tycho.pid);
      if (p) profile = summarizeProfile(p, mono0, mono0 + wallMs * 1000);
      else env.log(`burst: no CPU profile of the server (pid ${tycho.pid}) in ${o.profileDir}`);
    }
    return { names, t0, acks, wallMs, ...r, idleMiB: idle.rssMiB, peakMiB: Math.max(peak, after.rssMiB), highWaterMiB: after.peakMiB, counts, slackCalls, cpu, pods, ...(profile ? { profile } : {}) };
  } catch (e) {
    pods.stop();
    throw e;
  } finally {
    await stop();
  }
}

/** When a server's launches passed each point, beside the bare script's (absent when it was not run). */
function phasesOf(env: BenchEnv, t: TychoBurst, bare?: { b0: number; launches: BareLaunch[]; acks: Ack[]; wallMs: number; pods: PodClock }): BurstPhases {
  const thread = (n: string) => env.sink.threads.get(n);
  const pod = (n: string) => t.pods.bySystem.get(n);
  const ackedAt = (i: number) => t.acks[i]!.sentAt + t.acks[i]!.ms;
  const bareOf = new Map(bare?.launches.map((l) => [l.name, l]));
  const bareNames = t.names.map((n) => `bare-${n}`);
  const barePod = (n: string) => bare?.pods.bySystem.get(n);
  const b = <T>(x: () => T): T | undefined => (bare ? x() : undefined);
  return {
    milestones: [
      { what: 'the first launch started (its root message posted)', tychoS: firstOf(t.names.map((n) => thread(n)?.rootAt), t.t0), bareS: b(() => firstOf(bareNames.map((n) => bareOf.get(n)?.startAt), bare!.b0)) },
      { what: 'every command acked', tychoS: lastOf(t.names.map((_, i) => ackedAt(i)), t.t0), bareS: b(() => lastOf(bare!.acks.map((a) => a.sentAt + a.ms), bare!.b0)) },
      { what: 'every launch started (Tycho: its root message posted; bare: its create sent)', tychoS: lastOf(t.names.map((n) => thread(n)?.rootAt), t.t0), bareS: b(() => lastOf(bareNames.map((n) => bareOf.get(n)?.startAt), bare!.b0)) },
      { what: 'every pod made (seen by a watch of the namespace)', tychoS: lastOf(t.names.map((n) => pod(n)?.seenAt), t.t0), bareS: b(() => lastOf(bareNames.map((n) => barePod(n)?.seenAt), bare!.b0)) },
      { what: 'every pod Ready (seen by that watch)', tychoS: lastOf(t.names.map((n) => pod(n)?.readySeenAt), t.t0), bareS: b(() => lastOf(bareNames.map((n) => barePod(n)?.readySeenAt), bare!.b0)) },
      { what: 'every launch over (Tycho: URL posted; bare: Ready seen by its watch)', tychoS: seconds(t.wallMs), bareS: b(() => seconds(bare!.wallMs)) },
    ],
    perLaunch: [
      { what: 'command sent → acked', tycho: dist(t.acks.map((a) => a.ms)), ...(bare ? { bare: dist(bare.acks.map((a) => a.ms)) } : {}) },
      { what: 'acked → launch started (queued, then its root message)', tycho: between(t.names.map((n, i) => [ackedAt(i), thread(n)?.rootAt])) },
      {
        what: 'launch started → pod made (creates, controllers, scheduler)',
        tycho: between(t.names.map((n) => [thread(n)?.rootAt, pod(n)?.seenAt])),
        ...(bare ? { bare: between(bareNames.map((n) => [bareOf.get(n)?.startAt, barePod(n)?.seenAt])) } : {}),
      },
      {
        what: 'pod made → pod Ready (the simulated kubelet)',
        tycho: between(t.names.map((n) => [pod(n)?.seenAt, pod(n)?.readySeenAt])),
        ...(bare ? { bare: between(bareNames.map((n) => [barePod(n)?.seenAt, barePod(n)?.readySeenAt])) } : {}),
      },
      {
        what: 'pod Ready → URL posted (Tycho: view, URL check, claim, post; bare: its watch)',
        tycho: between(t.names.map((n) => [pod(n)?.readySeenAt, thread(n)?.urlAt])),
        ...(bare ? { bare: between(bareNames.map((n) => [barePod(n)?.readySeenAt, bareOf.get(n)?.readyAt])) } : {}),
      },
    ],
  };
}

export async function measureBurst(env: BenchEnv, launches: number, o: BurstOptions = {}): Promise<BurstOutcome> {
  // The earlier commit's server first, in a namespace of its own that is gone again before the
  // current server's burst: both take the burst on an otherwise empty cluster.
  let before: BurstRunSummary | undefined;
  if (o.before) {
    const nsBefore = await env.namespace('burst-before');
    try {
      // Other names than the current server's: the Slack stand-in knows a thread by its system's name.
      // As it was: an experiment's settings and flags are the current server's only.
      const t = await tychoBurst(env, nsBefore, launches, {}, 'prior', o.before);
      t.pods.stop();
      before = {
        checkout: o.before,
        ready: t.ready,
        lost: t.lost.length,
        doubled: t.doubled.length,
        wallMs: Math.round(t.wallMs),
        perLaunch: dist(t.perLaunch),
        acks: dist(t.acks.map((a) => a.ms)),
        idleMiB: t.idleMiB,
        peakMiB: t.peakMiB,
        highWaterMiB: t.highWaterMiB,
        verbs: t.counts.verbs,
        slackCalls: t.slackCalls,
        cpu: t.cpu,
        phases: phasesOf(env, t),
      };
    } finally {
      await env.dropNamespace(nsBefore);
    }
  }

  const ns = await env.namespace('burst');
  let tPods: PodClock | undefined;
  try {
    const t = await tychoBurst(env, ns, launches, o, 'burst');
    tPods = t.pods;

    env.log(`burst: baseline, the bare script's ${launches} launches at once, and as many commands to a bare Bolt app ...`);
    const bare = await env.bare(ns);
    const bolt = await env.startBareBolt();
    let baseline: { launches: BareLaunch[]; doneAt: number };
    let baselineAcks: Ack[];
    let bareCpu: { what: string; s: number }[] = [];
    const cpuNames = new Map([...env.helperNames(), ...(bare.child.pid ? [[bare.child.pid, 'bare script'] as const] : []), [bolt.pid, 'bare Bolt app'] as const]);
    const cpu0 = await cpuSnapshot();
    const b0 = epochMs();
    try {
      // The acks' baseline: the same machine taking the same burst of commands while a cluster as
      // busy makes the same launches, but with a receiver that only acks.
      [baseline, baselineAcks] = await Promise.all([
        bare.call<{ launches: BareLaunch[]; doneAt: number }>('launch', t.names.map((n) => `bare-${n}`)),
        Promise.all(t.names.map((n) => env.slash(bolt, `up -n ${n} -c ${IMAGE} -p 80`))),
      ]);
      bareCpu = cpuUsage(cpu0, await cpuSnapshot(), process.pid, cpuNames);
    } finally {
      await bare.stop();
      await env.stopApp(bolt);
    }
    const baseOk = baseline.launches.filter((l) => l.readyAt !== undefined);
    const baselineWallMs = Math.max(...baseOk.map((l) => l.readyAt!)) - b0;
    const baselinePerLaunch = baseOk.map((l) => l.readyAt! - l.startAt);
    const phases = phasesOf(env, t, { b0, launches: baseline.launches, acks: baselineAcks, wallMs: baselineWallMs, pods: t.pods });
    const acks: Dist = dist(t.acks.map((a) => a.ms));
    return {
      idleMiB: t.idleMiB,
      peakMiB: t.peakMiB,
      highWaterMiB: t.highWaterMiB,
      burst: {
        launches,
        ready: t.ready,
        failed: t.failed,
        lost: t.lost,
        doubled: t.doubled,
        untruthful: t.untruthful,
        failureTexts: t.failureTexts.slice(0, 20),
        wallMs: Math.round(t.wallMs),
        baselineWallMs: Math.round(baselineWallMs),
        wallRatio: Math.round((t.wallMs / baselineWallMs) * 100) / 100,
        baselineFailed: baseline.launches.length - baseOk.length,
        perLaunch: dist(t.perLaunch),
        baselinePerLaunch: dist(baselinePerLaunch),
        acks,
        baselineAcks: dist(baselineAcks.map((a) => a.ms)),
        ackRatio: Math.round((acks.p99 / dist(baselineAcks.map((a) => a.ms)).p99) * 100) / 100,
        watchesPeak: t.counts.watchesPeak,
        counts: t.counts,
        slackCalls: t.slackCalls,
        cpu: { tycho: t.cpu, bare: bareCpu },
        cpuCores: cpus().length,
        phases,
        ...(t.profile ? { profile: t.profile } : {}),
        ...(before ? { before: { ...before, wallRatio: Math.round((before.wallMs / baselineWallMs) * 100) / 100 } } : {}),
        samples: { perLaunch: t.perLaunch.map(Math.round), baselinePerLaunch: baselinePerLaunch.map(Math.round) },
      },
    };
  } finally {
    tPods?.stop();
    await env.dropNamespace(ns);
  }
}
