/**
 * Runs an HTTP app as its own Node process, the way it runs in production: Tycho's server
 * (dist/server/main.js, what the image runs) or the bare Bolt baseline. Both
 * write a JSON log line {"msg":"listening","url":…} once they listen.
 */
import { appendFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { until } from './clock.js';

export interface Memory {
  /** Resident set now, and its high-water mark since the process started, in MiB. */
  rssMiB: number;
  peakMiB: number;
}

export interface AppProcess {
  url: string;
  pid: number;
  memory(): Promise<Memory>;
  /** The last lines it logged, for a failure message. */
  logTail(): string;
  stop(): Promise<void>;
}

export const distPath = (rel: string): string => fileURLToPath(new URL(`../${rel}`, import.meta.url));

export async function readMemory(pid: number): Promise<Memory> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { rssMiB: mib(kb('VmRSS')), peakMiB: mib(kb('VmHWM')) };
}

/**
 * Starts `node [nodeArgs] <script>` with exactly `env` (plus PATH and HOME) in `cwd`, and waits
 * until it listens. nodeArgs is for profiling (--cpu-prof is not allowed in NODE_OPTIONS).
 */
export async function startApp(script: string, env: Record<string, string>, cwd: string, nodeArgs: string[] = [], timeoutMs = 120_000): Promise<AppProcess> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail: string[] = [];
  let url: string | undefined;
  // TYCHO_BENCH_APP_LOG=FILE keeps every line the actors log, for finding out why a figure is what it is.
  const keep = process.env.TYCHO_BENCH_APP_LOG;
  const onLine = (line: string) => {
    tail = [...tail.slice(-30), line];
    if (keep) appendFileSync(keep, `${child.pid} ${line}\n`);
    if (url) return;
    try {
      const j = JSON.parse(line) as { msg?: string; url?: string };
      if (j.msg === 'listening' && j.url) url = j.url;
    } catch {
      /* not a log line */
    }
  };
  for (const s of [child.stdout, child.stderr]) {
    let buf = '';
    s?.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      lines.forEach(onLine);
    });
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let dead = false;
  void exited.then(() => (dead = true));
  try {
    await until(`${script} to listen`, () => {
      if (dead) throw new Error(`${script} exited before it listened:\n${tail.join('\n')}`);
      return url;
    }, timeoutMs, 50);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    url: url!,
    pid: child.pid!,
    memory: () => readMemory(child.pid!),
    logTail: () => tail.join('\n'),
    async stop() {
      if (dead) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
