/**
 * The benchmark's helpers run in processes of their own (the cluster, the counting proxy, the
 * bare baseline), so that their CPU never lands in the process that takes the timings. This is
 * the small request/answer protocol over Node's IPC channel between them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Handler = (arg: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Request {
  id: number;
  op: string;
  arg: unknown;
}

type Answer = { id: number; result: unknown } | { id: number; error: string };

/**
 * In the child: answers the parent's calls, after `init` has run (its result is the ready
 * message). The child ends when the parent goes, so a killed benchmark leaves nothing behind.
 */
export async function serveParent(init: () => Promise<unknown>, handlers: Record<string, Handler>, onParentGone: () => Promise<void> = async () => {}): Promise<void> {
  const send = (m: unknown) => process.send?.(m);
  process.on('disconnect', () => void onParentGone().finally(() => process.exit(0)));
  let ready: unknown;
  try {
    ready = await init();
  } catch (e) {
    send({ failed: (e as Error).message });
    return;
  }
  process.on('message', (m: Request) => {
    const h = handlers[m.op];
    Promise.resolve()
      .then(() => {
        if (!h) throw new Error(`unknown operation ${m.op}`);
        return h(m.arg);
      })
      .then(
        (result) => send({ id: m.id, result } satisfies Answer),
        (e: unknown) => send({ id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies Answer),
      );
  });
  send({ ready });
}

/** In the parent: a helper process and its calls. */
export class Helper<Ready> {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(
    readonly child: ChildProcess,
    readonly ready: Ready,
  ) {
    child.on('message', (m: Answer) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`helper process exited (${code})`));
      this.pending.clear();
    });
  }

  /** Forks dist/bench/<script> (with execArgv as its Node flags, when given) and waits for its ready message. */
  static async start<R>(script: string, arg: unknown, opts: { env?: NodeJS.ProcessEnv; stderr?: (line: string) => void; execArgv?: string[] } = {}): Promise<Helper<R>> {
    const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
    const child = fork(path, [JSON.stringify(arg)], { env: opts.env ?? process.env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'json', ...(opts.execArgv ? { execArgv: opts.execArgv } : {}) });
    let tail = '';
    child.stderr?.on('data', (b: Buffer) => {
      const text = b.toString();
      tail = (tail + text).slice(-4000);
      if (opts.stderr) for (const l of text.split('\n').filter(Boolean)) opts.stderr(l);
    });
    const ready = await new Promise<R>((resolve, reject) => {
      child.once('message', (m: { ready?: R; failed?: string }) => (m.failed !== undefined ? reject(new Error(`${script}: ${m.failed}`)) : resolve(m.ready as R)));
      child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready:\n${tail}`)));
    });
    return new Helper<R>(child, ready);
  }

  call<T>(op: string, arg?: unknown): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, arg } satisfies Request);
    });
  }

  /** Closes the channel: the child cleans up and exits (see serveParent). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    await gone;
  }
}

/** The JSON argument a helper was started with. */
export function helperArg<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}
