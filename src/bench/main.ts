/**
 * `npm run bench [-- --quick] [--plan JSON] [--kubeconfig PATH] [--out DIR] [--profile DIR] [--only scale|burst] [--before DIR]`
 *
 * Measures Tycho from outside, against baselines in the same run, on the local control plane
 * with the simulated kubelet (fixed readiness delay): Tycho's server runs as `npm start` runs
 * it (Slack HTTP mode, a local stand-in for Slack's Web API), the CLI as a person runs it, and
 * every Kubernetes call goes through a counting proxy. Writes results.json, REPORT.md and
 * latency.svg to bench/ (bench/quick/ for --quick, the small version CI runs). --profile writes
 * CPU profiles of Tycho's server during the ack and burst measurements (open them in Chrome's
 * DevTools). --report DIR only rewrites DIR's REPORT.md, latency.svg and target checks from its
 * results.json (after a change to the report code). --only scale runs the memory at scale alone
 * (section 8: thousands of systems, the server against client-node's informers) and writes
 * memory-at-scale.json and MEMORY-AT-SCALE.md to bench/scale/; with --before DIR (a built checkout
 * of an earlier commit, e.g. a git worktree) it measures that commit's server too, in the same
 * run. --only burst runs the burst alone (section 7, with its baselines) and writes burst.json and
 * BURST.md to bench/burst/; with --profile, the report summarises the burst's window of the
 * server's CPU profile; with --before DIR, that commit's server takes the same burst first;
 * --server-env KEY=VALUE and --server-flag FLAG (each repeatable) set an experiment's settings
 * and Node flags on the burst's server.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIfNeeded } from '../local/embedded.js';
import { measureAck } from './ack-latency.js';
import { BenchEnv, READINESS_DELAY_MS } from './bench-env.js';
import { measureBurst } from './burst.js';
import { measureLaunchOverhead } from './launch-overhead.js';
import { measureListAtScale } from './list-at-scale.js';
import { FULL_SETTLE, measureMemoryAtScale, type Settle } from './memory-at-scale.js';
import { populate } from './populate.js';
import { countReads, countUpDown } from './request-counts.js';
import { burstReport, memoryAtScaleSection, writeReport } from './report.js';
import type { BenchResults, MemoryResult, OpCount } from './results.js';
import { checkTargets } from './targets.js';

const USAGE = "usage: npm run bench [-- --quick] [--plan '{\"burst\":50}'] [--kubeconfig PATH] [--out DIR] [--profile DIR] [--only scale|burst] [--before DIR] [--server-env KEY=VALUE] [--server-flag FLAG] | npm run bench -- --report DIR";

interface Plan {
  ackLevels: number[];
  ackSequential: number;
  ackRounds: number;
  k8sDelayMs: number;
  overheadLaunches: number;
  systems: number[];
  listRuns: number;
  burst: number;
  /** Simulated nodes besides the first: each fits 256 benchmark pods (64 CPUs, 250m requested each). */
  extraNodes: number;
  /** Systems the memory at scale fills a namespace with (0: not measured); nodes are added for their pods. */
  scaleSystems: number;
  /** How long the memory at scale samples a process's resident set (the quick run only checks that it runs). */
  settle: Settle;
}

const FULL: Plan = { ackLevels: [1, 50, 200], ackSequential: 20, ackRounds: 3, k8sDelayMs: 1000, overheadLaunches: 50, systems: [10, 100, 1000], listRuns: 5, burst: 200, extraNodes: 4, scaleSystems: 5000, settle: FULL_SETTLE };
const QUICK: Plan = { ackLevels: [1, 5], ackSequential: 3, ackRounds: 1, k8sDelayMs: 300, overheadLaunches: 3, systems: [2, 5], listRuns: 2, burst: 5, extraNodes: 0, scaleSystems: 20, settle: { minMs: 0, maxMs: 2_000, everyMs: 250 } };

interface Args {
  quick: boolean;
  /** --plan '{"burst":50}': overrides parts of the plan, for a look at one measurement. */
  plan?: Partial<Plan>;
  kubeconfig?: string;
  out: string;
  profile?: string;
  report?: string;
  /** `scale`: the memory at scale alone; `burst`: the burst alone. */
  only?: 'scale' | 'burst';
  /** A built checkout of an earlier commit whose server the memory at scale also measures. */
  before?: string;
  /** An experiment's settings and Node flags for the burst's server (--only burst). */
  serverEnv: Record<string, string>;
  serverFlags: string[];
}

function parseArgs(argv: string[]): Args {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const a: Args = { quick: false, out: '', serverEnv: {}, serverFlags: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (!v || v.startsWith('--')) throw new Error(`${arg} needs a value.`);
      return v;
    };
    if (arg === '--quick') a.quick = true;
    else if (arg === '--kubeconfig') a.kubeconfig = value();
    else if (arg === '--out') a.out = value();
    else if (arg === '--profile') a.profile = resolve(value());
    else if (arg === '--report') a.report = resolve(value());
    else if (arg === '--plan') a.plan = JSON.parse(value()) as Partial<Plan>;
    else if (arg === '--before') a.before = resolve(value());
    else if (arg === '--server-flag') {
      // A Node flag starts with -- itself.
      const v = argv[++i];
      if (!v) throw new Error('--server-flag needs a value.');
      a.serverFlags.push(v);
    }
    else if (arg === '--server-env') {
      const [k, ...v] = value().split('=');
      if (!k || !v.length) throw new Error('--server-env takes KEY=VALUE.');
      a.serverEnv[k] = v.join('=');
    }
    else if (arg === '--only') {
      const v = value();
      if (v !== 'scale' && v !== 'burst') throw new Error(`--only takes "scale" or "burst", not "${v}".`);
      a.only = v;
    }
    else throw new Error(`Unknown option ${arg}.`);
  }
  a.out ||= `${root}bench${a.quick ? '/quick' : ''}${a.only ? `/${a.only}` : ''}`;
  return a;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

async function run(args: Args): Promise<void> {
  const plan = { ...(args.quick ? QUICK : FULL), ...args.plan };
  const startLoad = loadavg().map((x) => Math.round(x * 100) / 100);
  const commit = gitCommit();
  if (!args.kubeconfig) await buildIfNeeded(log);
  const env = await BenchEnv.start({ kubeconfig: args.kubeconfig, extraNodes: plan.extraNodes, log, awaitDrops: !args.quick });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await env.stop();
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  try {
    log('request counts: up and down ...');
    const ns = await env.namespace('counts');
    let tycho = await env.startTycho(ns);
    const requests: OpCount[] = await countUpDown(env, ns, tycho);
    // Stopped until the reads: a second server left running would add its watches and its CPU to
    // the later measurements, which count and time one server.
    await env.stopApp(tycho);

    log(`launch overhead: ${plan.overheadLaunches} launches, one at a time ...`);
    const launchOverhead = await measureLaunchOverhead(env, plan.overheadLaunches);

    const nodeArgs = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [];
    const ack = await measureAck(env, { levels: plan.ackLevels, sequential: plan.ackSequential, rounds: plan.ackRounds, k8sDelayMs: plan.k8sDelayMs, nodeArgs });

    const burst = await measureBurst(env, plan.burst, { ...(args.profile ? { profileDir: args.profile } : {}), ...(args.before ? { before: args.before } : {}) });

    // Last, since it leaves the most behind: list and status as the namespace fills up.
    let have = 0;
    let known = { rssMiB: 0, peakMiB: 0 };
    let listAtScale;
    for (const n of plan.systems) {
      log(`request counts: list and status with ${n} systems (creating them through the REST API) ...`);
      tycho = await env.startTycho(ns);
      await populate(env, tycho, ns, have, n);
      have = n;
      // A fresh server for the reads, so its memory afterwards is what knowing N systems costs.
      await env.stopApp(tycho);
      tycho = await env.startTycho(ns);
      requests.push(...(await countReads(env, ns, tycho, n)));
      if (n === plan.systems.at(-1)) {
        log(`list at scale: ${n} systems ...`);
        listAtScale = await measureListAtScale(env, ns, tycho, n, plan.listRuns);
        known = await tycho.memory();
      }
      await env.stopApp(tycho);
    }

    // Last of all: it leaves thousands of systems behind.
    let memoryAtScale;
    if (plan.scaleSystems > 0) {
      log(`memory at scale: ${plan.scaleSystems} systems ...`);
      memoryAtScale = await measureMemoryAtScale(env, plan.scaleSystems, { before: args.before, settle: plan.settle });
    }

    const memory: MemoryResult = {
      idleMiB: burst.idleMiB,
      burstPeakMiB: burst.peakMiB,
      burstHighWaterMiB: burst.highWaterMiB,
      knownSystems: have,
      knownMiB: known.rssMiB,
      knownHighWaterMiB: known.peakMiB,
    };
    const cpu = cpus();
    const partial: Omit<BenchResults, 'targets'> = {
      meta: {
        date: new Date().toISOString(),
        mode: args.quick ? 'quick' : 'full',
        command: args.quick ? 'npm run bench -- --quick' : 'npm run bench',
        node: process.version,
        machine: { cpus: cpu.length, cpuModel: cpu[0]?.model.trim() ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), loadAverageAtStart: startLoad },
        cluster: args.kubeconfig ? 'a given cluster' : `local Kubernetes 1.20.2 control plane with ${1 + plan.extraNodes} simulated node(s)`,
        readinessDelayMs: READINESS_DELAY_MS,
        gitCommit: commit,
        durationS: Math.round((Date.now() - t0) / 1000),
      },
      ack,
      launchOverhead,
      requests,
      burst: burst.burst,
      listAtScale: listAtScale!,
      memory,
      ...(memoryAtScale ? { memoryAtScale } : {}),
    };
    const results: BenchResults = { ...partial, targets: checkTargets(partial) };
    await writeReport(args.out, results);
    log(`wrote ${args.out}/results.json, REPORT.md and latency.svg`);
    for (const t of results.targets) log(`${t.met ? 'met   ' : 'MISSED'} ${t.what}: ${t.value} (target ${t.target})`);
  } finally {
    await stop();
  }
}

let args: Args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
/** The memory at scale alone, on a cluster of its own (or the one given). */
async function runScaleOnly(args: Args): Promise<void> {
  const plan = { ...(args.quick ? QUICK : FULL), ...args.plan };
  if (!args.kubeconfig) await buildIfNeeded(log);
  const env = await BenchEnv.start({ kubeconfig: args.kubeconfig, extraNodes: 0, log });
  try {
    const result = await measureMemoryAtScale(env, plan.scaleSystems, { before: args.before, settle: plan.settle });
    const meta = { date: new Date().toISOString(), command: `npm run bench -- --only scale${args.plan ? ` --plan '${JSON.stringify(args.plan)}'` : ''}`, node: process.version, gitCommit: gitCommit(), loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100), durationS: Math.round((Date.now() - t0) / 1000) };
    await mkdir(args.out, { recursive: true });
    await writeFile(join(args.out, 'memory-at-scale.json'), `${JSON.stringify({ meta, memoryAtScale: result }, null, 2)}\n`);
    await writeFile(join(args.out, 'MEMORY-AT-SCALE.md'), `# Tycho benchmark: memory at scale\n\n${meta.date}, \`${meta.command}\`, ${meta.durationS} s, Node ${meta.node}, commit ${meta.gitCommit}, load average ${meta.loadAverageAtStart.join(' / ')} at the start.\n\n${memoryAtScaleSection(result)}`);
    log(`wrote ${args.out}/memory-at-scale.json and MEMORY-AT-SCALE.md`);
    log(`server holding ${result.systems} systems: ${result.tycho.heldMiB} MiB (idle ${result.tycho.idleMiB}); client-node's informers: ${result.baseline.heldMiB} MiB (idle ${result.baseline.idleMiB})`);
  } finally {
    await env.stop();
  }
}

/** The burst alone (section 7 and the memory it measures), on a cluster of its own (or the one given). */
async function runBurstOnly(args: Args): Promise<void> {
  const plan = { ...(args.quick ? QUICK : FULL), ...args.plan };
  const startLoad = loadavg().map((x) => Math.round(x * 100) / 100);
  if (!args.kubeconfig) await buildIfNeeded(log);
  const env = await BenchEnv.start({ kubeconfig: args.kubeconfig, extraNodes: plan.extraNodes, log, awaitDrops: !args.quick });
  try {
    const r = await measureBurst(env, plan.burst, { profileDir: args.profile, before: args.before, serverEnv: args.serverEnv, nodeArgs: args.serverFlags });
    const experiment = [...Object.entries(args.serverEnv).map(([k, v]) => ` --server-env ${k}=${v}`), ...args.serverFlags.map((f) => ` --server-flag ${f}`)].join('');
    const meta = { date: new Date().toISOString(), command: `npm run bench -- --only burst${args.plan ? ` --plan '${JSON.stringify(args.plan)}'` : ''}${args.profile ? ' --profile DIR' : ''}${args.before ? ' --before DIR' : ''}${experiment}`, node: process.version, gitCommit: gitCommit(), loadAverageAtStart: startLoad, durationS: Math.round((Date.now() - t0) / 1000) };
    await mkdir(args.out, { recursive: true });
    await writeFile(join(args.out, 'burst.json'), `${JSON.stringify({ meta, ...r }, null, 2)}\n`);
    await writeFile(join(args.out, 'BURST.md'), burstReport(meta, r));
    log(`wrote ${args.out}/burst.json and BURST.md`);
    const b = r.burst;
    log(`burst of ${b.launches}: ${b.ready} Ready, ${b.failed} failed, ${b.lost.length} lost, ${b.doubled.length} doubled; wall ${(b.wallMs / 1000).toFixed(1)} s against ${(b.baselineWallMs / 1000).toFixed(1)} s (ratio ${b.wallRatio}); memory peak ${r.peakMiB} MiB (high-water ${r.highWaterMiB}, idle ${r.idleMiB})`);
  } finally {
    await env.stop();
  }
}

/** Rewrites a report (and its target checks) from the results.json it was made from. */
async function rewrite(dir: string): Promise<void> {
  const { targets: _old, ...partial } = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')) as BenchResults;
  await writeReport(dir, { ...partial, targets: checkTargets(partial) });
  log(`rewrote ${dir}/REPORT.md, latency.svg and the target checks in results.json`);
}

(args.report ? rewrite(args.report) : args.only === 'scale' ? runScaleOnly(args) : args.only === 'burst' ? runBurstOnly(args) : run(args)).then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
