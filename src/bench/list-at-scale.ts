/**
 * 5. `list` with many systems: how long it takes and how many bytes it reads from the API
 * server, through the server (REST), the CLI (a whole process) and the bare baseline (the three
 * lists any tool needs: Deployments, Services, Pods).
 */
import type { AppProcess } from './app-process.js';
import { BenchEnv } from './bench-env.js';
import { epochMs } from './clock.js';
import { rest } from './rest.js';
import type { ListAtScaleResult } from './results.js';
import { dist, ratio } from './stats.js';
import { VERBS } from './verbs.js';

export async function measureListAtScale(env: BenchEnv, ns: string, tycho: AppProcess, systems: number, runs: number): Promise<ListAtScaleResult> {
  const requests = async (actor: 'tycho' | 'cli' | 'baseline') => {
    const c = await env.counts(actor);
    return { bytesRead: c.bytesRead, requests: VERBS.reduce((n, v) => n + c.verbs[v], 0) };
  };
  const serverMs: number[] = [];
  const cliMs: number[] = [];
  const baseMs: number[] = [];
  let server = { bytesRead: 0, requests: 0 };
  let cli = { bytesRead: 0, requests: 0 };
  let base = { bytesRead: 0, requests: 0 };

  const bare = await env.bare(ns);
  try {
    for (let i = 0; i < runs; i++) {
      await env.quiet('tycho', 300);
      await env.reset('tycho');
      const r = await rest(tycho, '/system/status', {});
      if (r.status !== 200 || (r.body.result as unknown[]).length !== systems) throw new Error(`the server listed ${(r.body.result as unknown[] | undefined)?.length} systems, not ${systems}`);
      serverMs.push(r.ms);
      await env.quiet('tycho', 300);
      server = await requests('tycho');

      await env.reset('cli');
      const t0 = epochMs();
      const c = await env.cli(['list', '--json'], ns);
      cliMs.push(epochMs() - t0);
      if (c.code !== 0) throw new Error(`tycho list exited ${c.code}: ${c.stderr}`);
      cli = await requests('cli');

      await env.reset('baseline');
      const b = await bare.call<{ systems: number; ms: number }>('list');
      if (b.systems !== systems) throw new Error(`the baseline listed ${b.systems} systems, not ${systems}`);
      baseMs.push(b.ms);
      base = await requests('baseline');
    }
  } finally {
    await bare.stop();
  }
  const s = dist(serverMs);
  const b = dist(baseMs);
  return { systems, server: { ms: s, ...server }, cli: { ms: dist(cliMs), ...cli }, baseline: { ms: b, ...base }, ratio: ratio(s, b) };
}
