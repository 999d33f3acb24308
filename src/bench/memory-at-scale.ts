/**
 * 8. Memory at scale: the resident set of Tycho's server once its live view holds N systems
 * (5,000 in the full run: each a Deployment, its ClusterIP Service, one Ready pod and the
 * Service's Endpoints, made by Tycho's manifest code), against the baseline in the same run:
 * client-node's own informers over the same four kinds (bare-informers.ts), which hold every
 * object whole. Each is measured idle first (the server in an empty namespace; the baseline
 * process before it lists), so what holding the systems costs shows on its own. Both run with
 * the Node flags of the image. With `--before DIR` (a built checkout of an earlier commit), that
 * commit's server is measured the same way in the same run.
 */
import { execFileSync } from 'node:child_process';
import { CoreV1Api, type V1Endpoints } from '@kubernetes/client-node';
import { MANAGED_SELECTOR } from '../k8s/labels.js';
import { readMemory, type Memory } from './app-process.js';
import type { BareInformersSynced } from './bare-informers.js';
import { BenchEnv } from './bench-env.js';
import { sleep, until } from './clock.js';
import { populateDirect } from './populate.js';
import { rest } from './rest.js';
import type { MemoryAtScaleResult } from './results.js';

/**
 * The resident set once it has settled: right after a sync it still holds the lists' garbage
 * until V8's memory reducer runs (some seconds of little allocation), and a long-running server
 * lives in the settled state. Sampled every `settle.everyMs` (2 s) from `settle.minMs` on until three
 * samples in a row agree within 1 MiB (or `settle.maxMs` has passed): their median, and the
 * high-water mark (the sync's peak).
 */
export interface Settle {
  /** Sampled at least this long (a full run: 12 s, for V8's memory reducer). */
  minMs: number;
  /** And at most this long. */
  maxMs: number;
  /** The pause between two samples (a full run: 2 s; the quick run, which only checks that it runs, samples faster). */
  everyMs: number;
}

/** A full run's settling: at least 12 s (for V8's memory reducer), at most 60 s, a sample every 2 s. */
export const FULL_SETTLE: Settle = { minMs: 12_000, maxMs: 60_000, everyMs: 2000 };

async function settled(read: () => Promise<Memory>, settle: Settle): Promise<Memory> {
  const t0 = Date.now();
  const rss: number[] = [];
  let last: Memory = { rssMiB: 0, peakMiB: 0 };
  for (;;) {
    await sleep(settle.everyMs);
    last = await read();
    rss.push(last.rssMiB);
    const recent = rss.slice(-3);
    const steady = recent.length === 3 && Math.max(...recent) - Math.min(...recent) < 1;
    if ((steady && Date.now() - t0 >= settle.minMs) || Date.now() - t0 >= settle.maxMs) break;
  }
  const recent = rss.slice(-3).sort((a, b) => a - b);
  return { rssMiB: recent[Math.floor(recent.length / 2)]!, peakMiB: last.peakMiB };
}

/** Endpoints of Tycho's in the namespace that route to an address, counted page by page. */
async function routedServices(core: CoreV1Api, namespace: string): Promise<number> {
  let n = 0;
  let next: string | undefined;
  do {
    const page = await core.listNamespacedEndpoints({ namespace, labelSelector: MANAGED_SELECTOR, limit: 500, ...(next ? { _continue: next } : {}) });
    n += page.items.filter((e: V1Endpoints) => (e.subsets ?? []).some((s) => (s.addresses ?? []).length > 0)).length;
    next = page.metadata?._continue || undefined;
  } while (next);
  return n;
}

/** The checkout named by its commit (and where it is), for the report. */
function commitOf(dir: string): string {
  try {
    return `commit ${execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()} (${dir})`;
  } catch {
    return dir;
  }
}

/** Tycho's server idle (an empty namespace), then holding the systems: /readyz answers once its view has synced. */
async function serverMemory(env: BenchEnv, ns: string, empty: string, systems: number, settle: Settle, checkout?: string): Promise<MemoryAtScaleResult['tycho']> {
  let tycho = await env.startTycho(empty, [], checkout);
  await env.quiet('tycho', 1000);
  const idle = await settled(() => tycho.memory(), settle);
  await env.stopApp(tycho);
  tycho = await env.startTycho(ns, [], checkout);
  await env.quiet('tycho', 2000);
  const held = await settled(() => tycho.memory(), settle);
  const status = await rest(tycho, '/system/status', {});
  const listed = (status.body.result as { ready?: boolean }[] | undefined) ?? [];
  await env.stopApp(tycho);
  if (listed.length !== systems) throw new Error(`the server${checkout ? ` of ${checkout}` : ''} listed ${listed.length} systems, not ${systems}`);
  return { idleMiB: idle.rssMiB, heldMiB: held.rssMiB, highWaterMiB: held.peakMiB, listed: listed.length, ready: listed.filter((s) => s.ready).length };
}

export async function measureMemoryAtScale(env: BenchEnv, systems: number, opts: { before?: string; settle?: Settle } = {}): Promise<MemoryAtScaleResult> {
  const settle = opts.settle ?? FULL_SETTLE;
  await env.roomForPods(systems);
  const ns = await env.namespace('scale');
  env.log(`memory at scale: creating ${systems} systems straight to the API server ...`);
  await populateDirect(env, ns, systems);
  const core = env.admin.makeApiClient(CoreV1Api);
  // Looked at seldom when thousands are listed each time (a load on the API server), often when a few.
  await until(`the Endpoints of ${systems} Services to route to their pods`, async () => (await routedServices(core, ns)) >= systems, 600_000, systems > 500 ? 5000 : 500);
  env.log(`memory at scale: ${systems} systems Ready`);
  const empty = await env.namespace('scale-empty');
  const tycho = await serverMemory(env, ns, empty, systems, settle);
  const before = opts.before ? { checkout: commitOf(opts.before), ...(await serverMemory(env, ns, empty, systems, settle, opts.before)) } : undefined;

  // The baseline: client-node's informers, in a process of their own.
  const bare = await env.bareInformers(ns);
  let baseline;
  try {
    const pid = bare.ready.pid;
    const bareIdle = await settled(() => readMemory(pid), settle);
    const objects = await bare.call<BareInformersSynced>('start');
    await env.quiet('baseline', 2000);
    const bareHeld = await settled(() => readMemory(pid), settle);
    baseline = { idleMiB: bareIdle.rssMiB, heldMiB: bareHeld.rssMiB, highWaterMiB: bareHeld.peakMiB, objects };
  } finally {
    await bare.stop();
  }
  if (baseline.objects.deployments !== systems) throw new Error(`the baseline's informers hold ${baseline.objects.deployments} Deployments, not ${systems}`);
  return { systems, tycho, baseline, ...(before ? { before } : {}) };
}
