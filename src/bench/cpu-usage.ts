/**
 * CPU time by process over a window: the benchmark's own processes (this one and everything it
 * started: the control plane, the simulated kubelets, the proxy, Tycho's server, the baselines)
 * by name, and the rest of the machine as one figure. On a machine of two shared cores, a
 * second of CPU that Tycho's server takes is a second the API server and the controllers do
 * not get: this says who took the CPU while a burst ran. Linux only (/proc); elsewhere empty.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc's CPU times (USER_HZ): 100 on every Linux the benchmark runs on. */
const TICKS_PER_S = 100;

interface Proc {
  comm: string;
  ppid: number;
  ticks: number;
}

export interface CpuSnapshot {
  procs: Map<number, Proc>;
  /** The whole machine's busy ticks (all CPUs), from /proc/stat. */
  machineTicks: number;
}

async function readProc(pid: number): Promise<Proc | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid … utime stime" — comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    return { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

export async function cpuSnapshot(): Promise<CpuSnapshot> {
  const procs = new Map<number, Proc>();
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((d) => /^\d+$/.test(d)).map(Number);
  for (const pid of pids) {
    const p = await readProc(pid);
    if (p) procs.set(pid, p);
  }
  const cpu = (await readFile('/proc/stat', 'utf8').catch(() => '')).split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
  const machineTicks = cpu.reduce((a, b, i) => (i === 3 || i === 4 ? a : a + (b || 0)), 0);
  return { procs, machineTicks };
}

/**
 * CPU seconds between two snapshots: each process under `root` (this benchmark) by its name, a
 * node process by the name `names` gives its pid ("node (other)" else), and everything else on
 * the machine as "outside this benchmark". Largest first.
 */
export function cpuUsage(a: CpuSnapshot, b: CpuSnapshot, root: number, names: Map<number, string>): { what: string; s: number }[] {
  const ours = (pid: number) => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = b.procs.get(p)?.ppid, hops++) if (p === root) return true;
    return false;
  };
  const by = new Map<string, number>();
  let inside = 0;
  for (const [pid, p] of b.procs) {
    if (!ours(pid)) continue;
    const ticks = p.ticks - (a.procs.get(pid)?.ticks ?? 0);
    if (ticks <= 0) continue;
    inside += ticks;
    const what = names.get(pid) ?? (p.comm === 'node' || p.comm.startsWith('node') ? 'node (other)' : p.comm);
    by.set(what, (by.get(what) ?? 0) + ticks);
  }
  // Processes that ended within the window are not counted; machine-wide figures cover them.
  const outside = b.machineTicks - a.machineTicks - inside;
  if (outside > 0) by.set('outside this benchmark (other jobs on the machine)', outside);
  return [...by].sort((x, y) => y[1] - x[1]).map(([what, t]) => ({ what, s: Math.round((t / TICKS_PER_S) * 10) / 10 }));
}
