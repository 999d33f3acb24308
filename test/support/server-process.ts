/**
 * A real Tycho server process (`node dist/server/main.js`, what the container image runs),
 * for tests that need what only a process has: a `kill -9`, a SIGTERM and its exit status, or
 * two replicas side by side. Its JSON log lines (stdout) are kept, so a test can wait for one
 * ("listening", "leading: …", "draining") instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';

const MAIN = new URL('../../dist/server/main.js', import.meta.url).pathname;

export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ServerProcess {
  readonly lines: LogLine[] = [];
  /** Lines that were not JSON (a Node warning, a crash's stack), kept for failure messages. */
  readonly other: string[] = [];
  /** Resolves when the process has exited, however. */
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;
  private readonly waiters = new Set<() => void>();
  url = '';

  private constructor(
    readonly child: ChildProcess,
    /** Its HOSTNAME, which starts its Lease holderIdentity ("<HOSTNAME>-<random>"). */
    readonly host: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
        this.wake();
      }),
    );
    const read = (l: string) => {
      try {
        this.lines.push(JSON.parse(l) as LogLine);
      } catch {
        this.other.push(l);
      }
      this.wake();
    };
    createInterface({ input: child.stdout! }).on('line', read);
    createInterface({ input: child.stderr! }).on('line', read);
  }

  /**
   * Starts the server with exactly this environment (plus PATH and HOME), PORT=0 on 127.0.0.1,
   * and resolves once it listens. `host` becomes HOSTNAME, so the Lease names the process.
   * It runs in the OS temp dir, so no `.env` of the developer's is loaded.
   */
  static async start(host: string, env: Record<string, string>): Promise<ServerProcess> {
    const child = spawn(process.execPath, [MAIN], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), HOSTNAME: host, PORT: '0', HOST: '127.0.0.1', TYCHO_LOCAL_CLUSTER: 'never', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = new ServerProcess(child, host);
    p.url = String((await p.waitForLog((l) => l.msg === 'listening', 'listening')).url);
    return p;
  }

  get eventsUrl(): string {
    return `${this.url}/slack/events`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * The first log line (past or future) that matches. Rejects if the process exits first; the
   * bound only turns a hang into a readable failure.
   */
  waitForLog(pred: (l: LogLine) => boolean, what: string, timeoutMs = 60_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.lines.find(pred);
        if (!hit && !this.exit) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        if (hit) resolve(hit);
        else reject(new Error(`${this.host} exited (${JSON.stringify(this.exit)}) before logging ${what}:\n${this.output()}`));
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.host} never logged ${what}:\n${this.output()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Sends the signal; with SIGKILL, resolves once the process is gone (nothing more runs in it). */
  async kill(signal: NodeJS.Signals): Promise<void> {
    this.child.kill(signal);
    if (signal === 'SIGKILL') await this.exited;
  }

  /** Everything it logged, for failure messages. */
  output(): string {
    return [...this.lines.map((l) => JSON.stringify(l)), ...this.other].join('\n');
  }

  /** For afterAll: makes sure nothing is left running. */
  async stop(): Promise<void> {
    if (this.exit) return;
    await this.kill('SIGKILL');
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
