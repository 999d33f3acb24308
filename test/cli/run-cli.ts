/**
 * Runs the CLI's main() in this process, with the given environment, and captures what it
 * writes. main() reads process.env, so the variables are set for the call and put back after.
 */
import { execFile } from 'node:child_process';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The variables main() reads; each call sets all of them, so no run leaks into the next. */
const KEYS = ['TYCHO_URL', 'TYCHO_API_TOKEN', 'TYCHO_NAMESPACE', 'TYCHO_OWNER', 'KUBECONFIG', 'TYCHO_POLICY_FILE', 'TYCHO_DEFAULT_TTL', 'TYCHO_MAX_TTL', 'TYCHO_LOG_LEVEL'] as const;
type CliEnv = Partial<Record<(typeof KEYS)[number], string>>;

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let buf = '';
  const stream = {
    write(chunk: string | Uint8Array): boolean {
      buf += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    },
  };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => buf };
}

export async function tycho(args: string[], env: CliEnv): Promise<CliRun> {
  const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
  for (const k of KEYS) {
    const v = env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const out = sink();
  const err = sink();
  try {
    const code = await main(args, out.stream as typeof process.stdout, err.stream as typeof process.stderr);
    return { code, stdout: out.text(), stderr: err.text() };
  } finally {
    for (const k of KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

const BIN = new URL('../../dist/cli/main.js', import.meta.url).pathname;

/** The built `tycho` program as a person runs it (needs `npm run build`, which `npm test` does first). */
export function tychoBinary(args: string[], env: CliEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env } }, (e, stdout, stderr) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The last line a failed run wrote to stderr: its one-sentence error ("tycho: ..."). */
export function errorLine(r: CliRun): string {
  return r.stderr.trim().split('\n').filter((l) => l.startsWith('tycho: ')).pop() ?? '';
}

/** Status tables show ages ("4s", "1m"), which tick between two calls. */
export function withoutAges(table: string): string {
  return table.replace(/\s+(\d+[smhd])+(\d+m)?$/gm, ' AGE');
}
