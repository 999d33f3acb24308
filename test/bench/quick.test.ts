/**
 * `npm run bench -- --quick` still works end to end (its own processes: Tycho's server in Slack
 * HTTP mode, the CLI, the baselines, the counting proxy), on the tests' cluster. Only what is
 * deterministic is asserted: the Kubernetes API requests each operation makes, that no launch of
 * the burst is lost or doubled, and that the report is written. Never a timing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResults, OpCount } from '../../src/bench/results.js';

const BENCH = new URL('../../dist/bench/main.js', import.meta.url).pathname;

let out: string;
let results: BenchResults;
let report: string;
let svg: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'tycho-bench-quick-'));
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('No test cluster: KUBECONFIG is unset (is jest globalSetup configured?)');
  const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [BENCH, '--quick', '--kubeconfig', kubeconfig, '--out', out], { maxBuffer: 16 << 20 }, (err, _stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }),
    );
  });
  if (run.code !== 0) throw new Error(`the quick benchmark exited ${run.code}:\n${run.stderr}`);
  results = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as BenchResults;
  report = await readFile(join(out, 'REPORT.md'), 'utf8');
  svg = await readFile(join(out, 'latency.svg'), 'utf8');
}, 900_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

const op = (actor: OpCount['actor'], name: OpCount['op'], systems?: number): OpCount[] =>
  results.requests.filter((c) => c.actor === actor && c.op === name && (systems === undefined || c.systems === systems));

test.each(['cli', 'server'] as const)('up through the %s creates exactly one Deployment and one Service', (actor) => {
  const [up] = op(actor, 'up');
  expect(up?.calls['create deployments']).toBe(1);
  expect(up?.calls['create services']).toBe(1);
  // Through the server (from Slack) the reconciler also records the thread (one small ConfigMap),
  // and the audit trail writes one Event on the Deployment, as the CLI in direct mode does too.
  expect(up?.verbs.create).toBe(actor === 'server' ? 4 : 3);
  expect(up?.calls['create configmaps']).toBe(actor === 'server' ? 1 : undefined);
  expect(up?.calls['create events']).toBe(1);
});

test.each(['cli', 'server'] as const)('down through the %s deletes the Deployment once and creates nothing but its audit Event', (actor) => {
  const [down] = op(actor, 'down');
  expect(down?.calls['delete deployments']).toBe(1);
  expect(down?.verbs.create).toBe(1);
  expect(down?.calls['create events']).toBe(1);
});

test.each(['cli', 'server'] as const)('list and status through the %s make the same requests whatever the number of systems', (actor) => {
  for (const name of ['list', 'status'] as const) {
    const rows = op(actor, name);
    expect(rows.map((r) => r.systems)).toEqual([2, 5]);
    expect(rows[1]!.verbs).toEqual(rows[0]!.verbs);
    expect(rows[0]!.writes).toBe(0);
  }
});

test('every launch of the burst ends in Slack exactly once, and the report says so', () => {
  const b = results.burst;
  expect(b.ready + b.failed).toBe(b.launches);
  expect(b.lost).toEqual([]);
  expect(b.doubled).toEqual([]);
  expect(b.untruthful).toEqual([]);
  expect(report).toContain(`${b.launches} \`/tycho up\` sent at once: ${b.ready} Ready, ${b.failed} failed, 0 lost, 0 doubled, 0 untruthful.`);
});

test('the report shows every distribution as p50/p95/p99 and embeds the plot', () => {
  for (const l of results.ack.levels) expect(Object.keys(l.tycho)).toEqual(expect.arrayContaining(['p50', 'p95', 'p99']));
  expect(report).toContain('![Latency distributions](latency.svg)');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('launch overhead');
});
