/** Writes bench/results.json, bench/REPORT.md and the plot it shows (bench/latency.svg). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { latencySvg } from './plot.js';
import type { Share } from './cpu-profile.js';
import type { BenchResults, BurstPhases, BurstResult, CpuShare, MemoryAtScaleResult } from './results.js';
import type { Dist, Ratio } from './stats.js';

const d = (x: Dist) => `${Math.round(x.p50)} / ${Math.round(x.p95)} / ${Math.round(x.p99)}`;
const r = (x: Ratio) => `${x.p50} / ${x.p95} / ${x.p99}`;
const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;

function table(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

export function markdown(res: BenchResults): string {
  const m = res.meta;
  const lo = res.launchOverhead;
  const b = res.burst;
  const las = res.listAtScale;
  const mem = res.memory;
  return `# Tycho benchmark

${m.date}, \`${m.command}\` (${m.mode}), ${m.durationS} s. Node ${m.node} on ${m.machine.cpus} × ${m.machine.cpuModel}, ${m.machine.memoryGiB} GiB
(load average ${m.machine.loadAverageAtStart.join(' / ')} at the start: the machine is shared, so read the ratios, not the absolute times).
${m.cluster}; every benchmark pod is Ready ${m.readinessDelayMs} ms after it starts. Commit ${m.gitCommit}.
Distributions are p50 / p95 / p99 in milliseconds; a ratio is Tycho's figure over its baseline's from the same run.

## Targets

${table(['what', 'target', 'this run', 'met'], res.targets.map((t) => [t.what, t.target, t.value, t.met ? 'yes' : '**no**']))}

![Latency distributions](latency.svg)

## 1. Slash-command ack

Signed \`/tycho up\` requests to POST /slack/events, with every Kubernetes API call held ${res.ack.k8sDelayMs} ms by the proxy.
Baseline: a Bolt app with the same receiver that only acks.

${table(
  ['concurrent', 'commands', 'Tycho', 'bare Bolt app', 'ratio', 'p99 ratio by round', 'Tycho acks > 3 s', 'errors (Tycho / bare)'],
  res.ack.levels.map((l) => [l.concurrency, l.tycho.n, d(l.tycho), d(l.baseline), r(l.ratio), (l.p99RatioByRound ?? []).join(', '), l.tychoOver3s, `${l.tychoErrors} / ${l.baselineErrors}`]),
)}

## 2. Launch overhead

${lo.launches} launches, one at a time: command sent → URL posted in the thread, minus the pod's own time from appearing to Ready.
Baseline: a bare client-node script that creates the same Deployment and Service and watches the pods until Ready.

${table(
  ['', 'overhead', 'total', 'ratio (overhead)'],
  [
    ['Tycho (Slack)', d(lo.tycho), d(lo.tychoTotal), r(lo.ratio)],
    ['bare client-node', d(lo.baseline), d(lo.baselineTotal), ''],
  ],
)}

The pod's own time to Ready: ${d(lo.k8sReady)} ms as a watch saw it; ${d(lo.k8sReadyFromConditions)} ms from its condition timestamps,
which are whole seconds (largest difference ${lo.clockAgreementMs} ms).${lo.failed.length ? ` Failed: ${lo.failed.join('; ')}.` : ''}

## 3. Kubernetes API requests per operation

Counted by verb at a proxy in front of the API server. The CLI runs in direct mode (one process per command); the server is asked through Slack (up, down) or REST (list, status).
Bytes are as sent on the wire: the API server gzips answers over 128 KiB, so a larger list can read fewer bytes than a smaller one.
The server's requests are split by who made them: the front end that took the command, the Slack reconciler (claims, records, the ledger of threads) and leader election (Lease renewals every few seconds, whatever happens: not counted in the operation's total).

${table(
  ['actor', 'operation', 'systems', 'list', 'watch', 'get', 'create', 'patch', 'update', 'delete', 'total', 'writes', 'front end / reconciler / election', 'TLS connections', 'bytes read'],
  res.requests.map((c) => [c.actor, `${c.op} (${c.via})`, c.systems, c.verbs.list, c.verbs.watch, c.verbs.get, c.verbs.create, c.verbs.patch, c.verbs.update, c.verbs.delete + c.verbs.deletecollection, c.total, c.writes, c.parts ? `${c.parts.frontEnd.total} / ${c.parts.reconciler.total} / ${c.parts.election.total}` : '', c.connections, kib(c.bytesRead)]),
)}

## 4. Watches held open

At the peak of ${b.launches} concurrent launches, Tycho's server held **${b.watchesPeak}** watches open.
Over the whole burst it made ${Object.entries(b.counts.verbs).filter(([, n]) => n > 0).map(([v, n]) => `${n} ${v}`).join(', ')} requests and opened ${b.counts.connections} TLS connections.${b.slackCalls ? ` Its Slack calls: ${slackCalls(b.slackCalls)}.` : ''}

## 5. List at scale

\`list\` with ${las.systems} systems in the namespace, ${las.server.ms.n} runs each.

${table(
  ['', 'time', 'requests', 'bytes read'],
  [
    ['Tycho server (REST /system/status)', d(las.server.ms), las.server.requests, kib(las.server.bytesRead)],
    ['Tycho CLI (whole process)', d(las.cli.ms), las.cli.requests, kib(las.cli.bytesRead)],
    ['bare client-node (3 lists)', d(las.baseline.ms), las.baseline.requests, kib(las.baseline.bytesRead)],
  ],
)}

Server over baseline: ${r(las.ratio)}.

## 6. Memory (Tycho's server, resident set)

${table(
  ['state', 'MiB'],
  [
    ['idle (fresh server)', mem.idleMiB],
    [`peak of ${b.launches} concurrent launches (sampled / high-water mark)`, `${mem.burstPeakMiB} / ${mem.burstHighWaterMiB}`],
    [`${mem.knownSystems} systems known (after listing them; high-water mark)`, `${mem.knownMiB} / ${mem.knownHighWaterMiB}`],
  ],
)}

## 7. Burst

${b.launches} \`/tycho up\` sent at once: ${b.ready} Ready, ${b.failed} failed, ${b.lost.length} lost, ${b.doubled.length} doubled, ${b.untruthful.length} untruthful.
Wall time ${(b.wallMs / 1000).toFixed(1)} s against ${(b.baselineWallMs / 1000).toFixed(1)} s for the same ${b.launches} launches by the bare client-node script (ratio ${b.wallRatio}${b.baselineFailed ? `; ${b.baselineFailed} baseline launches failed` : ''}).
Per launch, command → URL: ${d(b.perLaunch)} (bare: ${d(b.baselinePerLaunch)}). Acks during the burst (Kubernetes at normal speed): ${d(b.acks)}${b.baselineAcks ? `; a bare Bolt app's acks of as many commands at once, while the bare script's launches keep the cluster as busy: ${d(b.baselineAcks)} (p99 ratio ${b.ackRatio})` : ''}.${burstDetails(b, { idleMiB: mem.idleMiB, peakMiB: mem.burstPeakMiB })}
${b.failureTexts.length ? `\nFailures as Slack saw them:\n${b.failureTexts.map((t) => `- ${t}`).join('\n')}\n` : ''}${[...b.lost, ...b.doubled, ...b.untruthful].length ? `\nLost: ${b.lost.join(', ') || 'none'}. Doubled: ${b.doubled.join(', ') || 'none'}. Untruthful: ${b.untruthful.join('; ') || 'none'}.\n` : ''}${res.memoryAtScale ? `\n${memoryAtScaleSection(res.memoryAtScale)}` : ''}`;
}

/** Section 8, also written on its own by `--only scale`. */
export function memoryAtScaleSection(m: MemoryAtScaleResult): string {
  const o = m.baseline.objects;
  const cost = (x: { idleMiB: number; heldMiB: number }) => Math.round((x.heldMiB - x.idleMiB) * 10) / 10;
  return `## 8. Memory at scale

${m.systems} systems in one namespace (each a Deployment, its ClusterIP Service, one Ready pod and the Service's Endpoints, made by Tycho's manifest code).
Resident set in MiB once settled (sampled every 2 s from 12 s on until three samples agree within 1 MiB: their median): idle (Tycho's server in an empty namespace; the baseline before it lists), then holding the systems (Tycho's server after /readyz says its view has synced); the high-water mark is the peak of the sync.
Baseline: client-node's own informers (makeInformer) over the same four kinds with the same label selector, which cache every object whole; same Node flags.

${table(
  ['', 'idle', `holding ${m.systems} systems`, 'cost of the systems', 'high-water mark'],
  [
    ['Tycho server', m.tycho.idleMiB, m.tycho.heldMiB, cost(m.tycho), m.tycho.highWaterMiB],
    ...(m.before ? [[`Tycho server of ${m.before.checkout}`, m.before.idleMiB, m.before.heldMiB, cost(m.before), m.before.highWaterMiB]] : []),
    ['client-node informers', m.baseline.idleMiB, m.baseline.heldMiB, cost(m.baseline), m.baseline.highWaterMiB],
  ],
)}

The server listed ${m.tycho.listed} systems (${m.tycho.ready} ready); the informers held ${o.deployments} Deployments, ${o.pods} pods, ${o.services} Services and ${o.endpoints} Endpoints.
Cost ratio (Tycho over the informers): ${cost(m.baseline) > 0 ? Math.round((cost(m.tycho) / cost(m.baseline)) * 100) / 100 : 'n/a'}.
`;
}

const slackCalls = (c: Record<string, number>) =>
  Object.entries(c)
    .sort((x, y) => y[1] - x[1])
    .map(([m, n]) => `${n} ${m}`)
    .join(', ');

/** Where the burst's wall time went (its phases) and, when profiled, where the server's CPU went. */
export function burstDetails(b: BurstResult, mem: { idleMiB: number; peakMiB: number }): string {
  const out: string[] = [];
  const s = (x: number | undefined) => (x === undefined ? '' : `${x.toFixed(1)} s`);
  if (b.phases) {
    out.push(
      `Where the wall time went: when the first launch started, and when the last launch passed each point (Tycho from the first command sent, the bare script from its start), and each launch's time from one point to the next (a watch of the namespace's pods and the Slack stand-in note the times).`,
      table(['launches …', 'Tycho', 'bare script'], b.phases.milestones.map((m) => [m.what, s(m.tychoS), s(m.bareS)])),
      table(['per launch', 'Tycho', 'bare script'], b.phases.perLaunch.map((p) => [p.what, d(p.tycho), p.bare ? d(p.bare) : ''])),
    );
  }
  if (b.cpu) {
    const cols = [b.cpu.tycho, b.cpu.bare, ...(b.before ? [b.before.cpu] : [])];
    const names = [...new Set(cols.flat().map((c) => c.what))];
    const of = (xs: CpuShare[], what: string) => xs.find((c) => c.what === what)?.s ?? 0;
    const total = (xs: CpuShare[]) => Math.round(xs.filter((c) => !c.what.startsWith('outside')).reduce((a, c) => a + c.s, 0) * 10) / 10;
    out.push(
      `Who took the CPU (seconds of CPU time by process while each burst ran; the machine has ${b.cpuCores ?? 'a few'} cores, shared by all of them and by other jobs):`,
      table(
        ['process', `during Tycho's burst (${s(b.wallMs / 1000)})`, `during the bare script's (${s(b.baselineWallMs / 1000)})`, ...(b.before ? [`during the earlier commit's (${s(b.before.wallMs / 1000)})`] : [])],
        [...names.map((n) => [n, ...cols.map((c) => of(c, n))]), ['all of this benchmark', ...cols.map(total)]],
      ),
    );
  }
  const pre = b.before;
  if (pre) {
    const last = (ph: BurstPhases, i: number) => s(ph.milestones.filter((m) => m.what.startsWith('every'))[i]?.tychoS);
    const ph = b.phases;
    out.push(
      `The server of an earlier commit (${pre.checkout}) took the same burst first, in the same run, against the same baseline:`,
      table(
        ['', 'wall time', 'ratio to the bare script', 'per launch', 'acks', 'last launch started', 'memory idle / peak (MiB)', 'Slack calls', 'outcome'],
        [
          ['earlier commit', s(pre.wallMs / 1000), pre.wallRatio, d(pre.perLaunch), d(pre.acks), last(pre.phases, 1), `${pre.idleMiB} / ${pre.peakMiB}`, slackCalls(pre.slackCalls), `${pre.ready} Ready, ${pre.lost} lost, ${pre.doubled} doubled`],
          ['this commit', s(b.wallMs / 1000), b.wallRatio, d(b.perLaunch), d(b.acks), ph ? last(ph, 1) : '', `${mem.idleMiB} / ${mem.peakMiB}`, b.slackCalls ? slackCalls(b.slackCalls) : '', `${b.ready} Ready, ${b.lost.length} lost, ${b.doubled.length} doubled`],
        ],
      ),
    );
  }
  const p = b.profile;
  if (p) {
    const shares = (xs: Share[]) => xs.map((x) => [x.what.replace(/\|/g, '\\|'), x.ms, `${x.pct} %`]);
    out.push(
      `CPU profile of the server (node --cpu-prof) over the burst's ${s(p.windowMs / 1000)}: the event loop was busy ${p.busyMs} ms (${p.busyPct} %), idle the rest (waiting for the API server, Slack or a timer). The profiler's own cost is in these figures; the run's memory figures are from runs without it.`,
      table(['busy time by area', 'ms', 'of busy'], shares(p.byArea)),
      table(['top functions by self time', 'ms', 'of busy'], shares(p.topSelf)),
      table(['time outside Tycho\'s code, by the Tycho function nearest on the stack', 'ms', 'of busy'], shares(p.byTychoCaller)),
    );
  }
  return out.length ? `\n\n${out.join('\n\n')}\n` : '';
}

/** BURST.md of `--only burst`: the burst's section of the report, with the memory it measured. */
export function burstReport(meta: { date: string; command: string; node: string; gitCommit: string; loadAverageAtStart: number[]; durationS: number }, r: { burst: BurstResult; idleMiB: number; peakMiB: number; highWaterMiB: number }): string {
  const b = r.burst;
  return `# Tycho benchmark: the burst

${meta.date}, \`${meta.command}\`, ${meta.durationS} s, Node ${meta.node}, commit ${meta.gitCommit}, load average ${meta.loadAverageAtStart.join(' / ')} at the start.
Distributions are p50 / p95 / p99 in milliseconds.

${b.launches} \`/tycho up\` sent at once: ${b.ready} Ready, ${b.failed} failed, ${b.lost.length} lost, ${b.doubled.length} doubled, ${b.untruthful.length} untruthful.
Wall time ${(b.wallMs / 1000).toFixed(1)} s against ${(b.baselineWallMs / 1000).toFixed(1)} s for the same ${b.launches} launches by the bare client-node script (ratio ${b.wallRatio}${b.baselineFailed ? `; ${b.baselineFailed} baseline launches failed` : ''}).
Per launch, command → URL: ${d(b.perLaunch)} (bare: ${d(b.baselinePerLaunch)}). Acks: ${d(b.acks)}${b.baselineAcks ? `; a bare Bolt app's: ${d(b.baselineAcks)} (p99 ratio ${b.ackRatio})` : ''}.
Server memory (resident set): idle ${r.idleMiB} MiB, burst peak ${r.peakMiB} MiB sampled every 100 ms (high-water mark ${r.highWaterMiB} MiB).
Requests: ${Object.entries(b.counts.verbs).filter(([, n]) => n > 0).map(([v, n]) => `${n} ${v}`).join(', ')}; at most ${b.watchesPeak} watches open.${b.slackCalls ? ` Slack calls: ${slackCalls(b.slackCalls)}.` : ''}${burstDetails(b, r)}${b.failureTexts.length ? `\nFailures as Slack saw them:\n${b.failureTexts.map((t) => `- ${t}`).join('\n')}\n` : ''}`;
}

export async function writeReport(dir: string, res: BenchResults): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'results.json'), `${JSON.stringify(res, null, 2)}\n`);
  await writeFile(join(dir, 'latency.svg'), await latencySvg(res));
  await writeFile(join(dir, 'REPORT.md'), markdown(res));
}
