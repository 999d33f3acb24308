/**
 * 1. Slash-command ack latency at each concurrency, with Kubernetes made slow (every API call
 * held back by the proxy), so launch work from earlier commands is in flight while later
 * commands wait for their ack. Baseline: the bare Bolt app that only acks, same run, same
 * commands. Concurrency 1 sends one command at a time, several times, for a distribution; the
 * other levels run in rounds, baseline then Tycho each round, and pool the rounds, since one
 * burst on a shared machine says little.
 */
import type { AppProcess } from './app-process.js';
import { BenchEnv, IMAGE } from './bench-env.js';
import type { AckLevel, AckResult } from './results.js';
import type { Ack } from './slash-command.js';
import { dist, ratio } from './stats.js';

export interface AckOptions {
  levels: number[];
  /** Commands sent one after another at concurrency 1. */
  sequential: number;
  /** Rounds at each other level. */
  rounds: number;
  k8sDelayMs: number;
  /** Node flags for Tycho's server (--profile). */
  nodeArgs?: string[];
}

async function send(env: BenchEnv, app: AppProcess, names: string[], concurrency: number): Promise<Ack[]> {
  const text = (n: string) => `up -n ${n} -c ${IMAGE} -p 80`;
  if (concurrency === 1) {
    const out: Ack[] = [];
    for (const n of names) out.push(await env.slash(app, text(n)));
    return out;
  }
  return Promise.all(names.map((n) => env.slash(app, text(n))));
}

export async function measureAck(env: BenchEnv, o: AckOptions): Promise<AckResult> {
  const ns = await env.namespace('ack');
  const tycho = await env.startTycho(ns, o.nodeArgs);
  const bolt = await env.startBareBolt();
  const levels: AckLevel[] = [];
  try {
    await env.setDelay('tycho', o.k8sDelayMs);
    for (const c of o.levels) {
      const base: Ack[] = [];
      const mine: Ack[] = [];
      const roundRatios: number[] = [];
      const rounds = c === 1 ? 1 : o.rounds;
      for (let round = 0; round < rounds; round++) {
        const count = c === 1 ? o.sequential : c;
        const names = Array.from({ length: count }, (_, i) => `ack${c}-${round}-${i}`);
        env.log(`ack: ${count} commands at concurrency ${c} (round ${round + 1}/${rounds}), bare Bolt app ...`);
        const b = await send(env, bolt, names, c);
        env.log(`ack: ${count} commands at concurrency ${c} (round ${round + 1}/${rounds}), Tycho (Kubernetes delayed ${o.k8sDelayMs} ms per call) ...`);
        const t = await send(env, tycho, names, c);
        // Let this round's launches finish, so the next one starts from a quiet server.
        await env.sink.waitFor(`the end of the ${count} launches at concurrency ${c}`, () => names.every((n) => env.sink.finished(n)), 900_000);
        await env.quiet('tycho', 1000);
        base.push(...b);
        mine.push(...t);
        roundRatios.push(Math.round((dist(t.map((a) => a.ms)).p99 / dist(b.map((a) => a.ms)).p99) * 100) / 100);
      }
      const ok = (acks: Ack[]) => acks.filter((a) => a.status === 200).map((a) => a.ms);
      const t = dist(ok(mine));
      const b = dist(ok(base));
      levels.push({
        concurrency: c,
        tycho: t,
        baseline: b,
        ratio: ratio(t, b),
        tychoOver3s: mine.filter((a) => a.ms > 3000).length,
        baselineOver3s: base.filter((a) => a.ms > 3000).length,
        tychoErrors: mine.filter((a) => a.status !== 200).length,
        baselineErrors: base.filter((a) => a.status !== 200).length,
        p99RatioByRound: roundRatios,
        samples: { tycho: mine.map((a) => Math.round(a.ms)), baseline: base.map((a) => Math.round(a.ms)) },
      });
      env.log(`ack @${c}: Tycho p50/p95/p99 ${t.p50}/${t.p95}/${t.p99} ms, bare Bolt ${b.p50}/${b.p95}/${b.p99} ms`);
    }
  } finally {
    await env.setDelay('tycho', 0);
    await env.stopApp(bolt);
    await env.stopApp(tycho);
    await env.dropNamespace(ns);
  }
  return { k8sDelayMs: o.k8sDelayMs, levels };
}
