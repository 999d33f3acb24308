/**
 * What a CPU profile of Tycho's server (node --cpu-prof) says about one window of time, in a
 * few lines for the report: how much of the window the event loop was busy at all, where that
 * time went by area (Tycho's own code, each package, Node, the garbage collector), the functions
 * that took it themselves (self time), and, for time spent in a library, the Tycho function that
 * called into it (the nearest frame of Tycho's own on the stack), which is what a fix would touch.
 *
 * The profile's timestamps are microseconds of the machine's monotonic clock, the one
 * process.hrtime() reads in every process, so the benchmark can cut out its own window.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  what: string;
  ms: number;
  /** Of the window's busy (non-idle) time, in percent. */
  pct: number;
}

export interface ProfileSummary {
  windowMs: number;
  /** Sampled time the event loop was not idle. */
  busyMs: number;
  /** busyMs over the window, in percent: the rest the server was waiting (for the API server, Slack, timers). */
  busyPct: number;
  byArea: Share[];
  topSelf: Share[];
  /** Time in libraries and Node, by the Tycho function nearest on the stack. */
  byTychoCaller: Share[];
}

/** The monotonic clock the profile uses, in microseconds. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Where a frame's code comes from: "tycho", a package's name, "node", or a V8 special. */
function areaOf(f: CallFrame): string {
  if (SPECIAL.has(f.functionName) && !f.url) return f.functionName;
  const url = f.url;
  if (!url) return '(native: V8 builtins)';
  if (url.startsWith('node:') || !url.includes('/')) return 'node';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.includes('/dist/')) return 'tycho';
  return 'other';
}

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const file = f.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
  return `${name} ${file}:${f.lineNumber + 1}`;
}

/** Summarises the samples taken between fromUs and toUs (monotonic microseconds). */
export function summarizeProfile(p: CpuProfile, fromUs: number, toUs: number, top = 12): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const next = i + 1 < p.samples.length ? t + (p.timeDeltas[i + 1] ?? 0) : p.endTime;
    const from = Math.max(t, fromUs);
    const to = Math.min(next, toUs);
    if (to > from) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (to - from));
  }
  const area = new Map<string, number>();
  const fn = new Map<string, number>();
  const caller = new Map<string, number>();
  let idle = 0;
  let sampled = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const a = areaOf(f);
    sampled += us;
    if (a === '(idle)') {
      idle += us;
      continue;
    }
    area.set(a, (area.get(a) ?? 0) + us);
    fn.set(label(f), (fn.get(label(f)) ?? 0) + us);
    if (a !== 'tycho') {
      let up = parent.get(id);
      while (up !== undefined && areaOf(byId.get(up)!.callFrame) !== 'tycho') up = parent.get(up);
      const who = up === undefined ? `(no Tycho frame: ${a === 'node' || a.startsWith('(') ? a : `${a}, on its own`})` : label(byId.get(up)!.callFrame);
      caller.set(who, (caller.get(who) ?? 0) + us);
    }
  }
  const busy = sampled - idle;
  const shares = (m: Map<string, number>, n: number): Share[] =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .slice(0, n)
      .map(([what, us]) => ({ what, ms: Math.round(us / 1000), pct: busy ? Math.round((us / busy) * 1000) / 10 : 0 }));
  const windowUs = Math.max(0, Math.min(toUs, p.endTime) - Math.max(fromUs, p.startTime));
  return {
    windowMs: Math.round(windowUs / 1000),
    busyMs: Math.round(busy / 1000),
    busyPct: windowUs ? Math.round((busy / windowUs) * 1000) / 10 : 0,
    byArea: shares(area, 10),
    topSelf: shares(fn, top),
    byTychoCaller: shares(caller, top),
  };
}

/** The profile node --cpu-prof wrote for process `pid` in `dir` (its name carries the pid). */
export async function readProfileOf(dir: string, pid: number): Promise<CpuProfile | undefined> {
  const file = (await readdir(dir).catch(() => [] as string[])).find((f) => f.endsWith('.cpuprofile') && f.split('.').includes(String(pid)));
  return file ? (JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile) : undefined;
}
