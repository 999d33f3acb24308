/**
 * 3. Kubernetes API requests per operation, by verb, counted at the proxy: `up` and `down`
 * through the CLI (one process each) and through the server (Slack), and `list` and `status`
 * through the CLI and the server (REST) at each number of systems.
 */
import type { AppProcess } from './app-process.js';
import { BenchEnv, IMAGE, type ActorName } from './bench-env.js';
import type { ActorCounts } from './counting-proxy.js';
import { populatedName } from './populate.js';
import { rest } from './rest.js';
import type { OpCount } from './results.js';
import { VERBS, WRITE_VERBS } from './verbs.js';

type Part = 'frontEnd' | 'reconciler' | 'election';

/**
 * Who in the server made a call ("patch deployments", "get leases", …). Leases are leader
 * election's; the ledger's ConfigMap is the reconciler's. In a Slack `up` the front end only
 * creates (the root message is Slack's, not Kubernetes'), so every other call on the Deployment
 * is the reconciler's claims and records; in every other operation Deployment and Service calls
 * are the front end's.
 */
function partOf(call: string, op: OpCount['op']): Part {
  const [verb, resource] = call.split(' ');
  if (resource === 'leases') return 'election';
  if (resource === 'configmaps') return 'reconciler';
  if (op === 'up' && verb !== 'create') return 'reconciler';
  return 'frontEnd';
}

function opCount(c: ActorCounts, op: OpCount['op'], via: OpCount['via'], systems: number): OpCount {
  const parts = { frontEnd: { total: 0, writes: 0, watches: 0 }, reconciler: { total: 0, writes: 0, watches: 0 }, election: { total: 0, writes: 0, watches: 0 } };
  for (const [call, n] of Object.entries(c.calls)) {
    const verb = call.split(' ')[0] as (typeof VERBS)[number];
    const part = parts[via === 'cli' ? 'frontEnd' : partOf(call, op)];
    part.total += n;
    if (WRITE_VERBS.has(verb)) part.writes += n;
    if (verb === 'watch') part.watches += n;
  }
  return {
    actor: via === 'cli' ? 'cli' : 'server',
    op,
    via,
    systems,
    verbs: c.verbs,
    calls: c.calls,
    total: parts.frontEnd.total + parts.reconciler.total,
    writes: parts.frontEnd.writes + parts.reconciler.writes,
    watches: parts.frontEnd.watches + parts.reconciler.watches,
    bytesRead: c.bytesRead,
    connections: c.connections,
    ...(via === 'cli' ? {} : { parts }),
  };
}

/** Counts what one operation does: from a settled actor, through the operation, until it settles again. */
async function counted(env: BenchEnv, actor: ActorName, run: () => Promise<void>): Promise<ActorCounts> {
  if (actor === 'tycho') await env.quiet('tycho', 300);
  await env.reset(actor);
  await run();
  if (actor === 'tycho') await env.quiet('tycho', 500);
  return env.counts(actor);
}

async function cli(env: BenchEnv, ns: string, args: string[]): Promise<void> {
  const r = await env.cli(args, ns);
  if (r.code !== 0) throw new Error(`tycho ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
}

/** up and down, CLI and server, with no other system around. */
export async function countUpDown(env: BenchEnv, ns: string, tycho: AppProcess): Promise<OpCount[]> {
  const out: OpCount[] = [];
  out.push(opCount(await counted(env, 'cli', () => cli(env, ns, ['up', '-n', 'cnt-cli', '-c', IMAGE, '-p', '80'])), 'up', 'cli', 0));
  out.push(opCount(await counted(env, 'cli', () => cli(env, ns, ['down', 'cnt-cli'])), 'down', 'cli', 0));
  const up = await counted(env, 'tycho', async () => {
    await env.slash(tycho, `up -n cnt-srv -c ${IMAGE} -p 80`);
    await env.sink.waitFor('cnt-srv to be launched', () => env.sink.finished('cnt-srv'), 300_000);
  });
  out.push(opCount(up, 'up', 'slack', 0));
  const down = await counted(env, 'tycho', async () => {
    await env.slash(tycho, 'down -n cnt-srv');
    await env.sink.waitFor('cnt-srv to be torn down', () => env.sink.threads.get('cnt-srv')?.tornDownAt !== undefined, 300_000);
  });
  out.push(opCount(down, 'down', 'slack', 0));
  return out;
}

/** list and status, CLI and server, with `systems` systems in the namespace. */
export async function countReads(env: BenchEnv, ns: string, tycho: AppProcess, systems: number): Promise<OpCount[]> {
  const one = populatedName(0);
  const restOk = async (body: unknown) => {
    const r = await rest(tycho, '/system/status', body);
    if (r.status !== 200) throw new Error(`/system/status answered ${r.status}: ${r.body.message ?? ''}`);
  };
  return [
    opCount(await counted(env, 'tycho', () => restOk({})), 'list', 'rest', systems),
    opCount(await counted(env, 'tycho', () => restOk({ name: one })), 'status', 'rest', systems),
    opCount(await counted(env, 'cli', () => cli(env, ns, ['list'])), 'list', 'cli', systems),
    opCount(await counted(env, 'cli', () => cli(env, ns, ['status', '-n', one])), 'status', 'cli', systems),
  ];
}
