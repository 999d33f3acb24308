/** The issue's targets, checked against one run's results. */
import type { BenchResults, OpCount, TargetCheck } from './results.js';

const ms = (x: number) => `${Math.round(x)} ms`;
/** The reconciler's writes for one Slack launch (README, "Write budget"): Ready claim, its record, two ledger writes. */
export const RECONCILER_UP_BUDGET = 4;

export function checkTargets(r: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const out: TargetCheck[] = [];
  const top = r.ack.levels.at(-1);
  if (top) {
    out.push({ what: `ack p99 ratio at ${top.concurrency} concurrent`, target: '≤ 1.5', value: `${top.ratio.p99}`, met: top.ratio.p99 <= 1.5 });
    const over = r.ack.levels.reduce((n, l) => n + l.tychoOver3s, 0);
    const worst = Math.max(...r.ack.levels.map((l) => l.tycho.max));
    out.push({ what: 'acks over 3 s (all levels)', target: '0', value: `${over} (slowest ${ms(worst)})`, met: over === 0 });
  }
  // The issue: the ack must stay within Slack's 3 s while the launches of a burst are in flight.
  const burstAcks = r.burst.acks;
  out.push({ what: `acks of the ${r.burst.launches} burst commands (Kubernetes at normal speed)`, target: 'none over 3 s', value: `p99 ${ms(burstAcks.p99)}, slowest ${ms(burstAcks.max)}${r.burst.baselineAcks ? ` (bare Bolt app in the same conditions: p99 ${ms(r.burst.baselineAcks.p99)})` : ''}`, met: burstAcks.max <= 3000 });
  const lo = r.launchOverhead;
  out.push({ what: 'launch overhead p50', target: '≤ 150 ms', value: ms(lo.tycho.p50), met: lo.tycho.p50 <= 150 });
  out.push({ what: 'launch overhead p99', target: '≤ 500 ms', value: ms(lo.tycho.p99), met: lo.tycho.p99 <= 500 });

  const find = (actor: OpCount['actor'], op: OpCount['op']) => r.requests.filter((c) => c.actor === actor && c.op === op);
  for (const actor of ['server', 'cli'] as const) {
    const up = find(actor, 'up')[0];
    const down = find(actor, 'down')[0];
    if (actor === 'server') {
      // The server's front end writes the intent; the reconciler's writes are its stated budget
      // (README, "Write budget"), checked on their own.
      const fe = up?.parts?.frontEnd;
      if (fe) out.push({ what: 'server up: the front end', target: '2 writes + 0 new watches', value: `${fe.writes} writes + ${fe.watches} watches (${fe.total} requests)`, met: fe.writes <= 2 && fe.watches === 0 && fe.total <= 2 });
      const rec = up?.parts?.reconciler;
      if (rec) out.push({ what: 'server up: the Slack reconciler', target: `≤ ${RECONCILER_UP_BUDGET} writes (the README's budget)`, value: `${rec.writes} writes (${rec.total} requests)`, met: rec.writes <= RECONCILER_UP_BUDGET });
      const dfe = down?.parts?.frontEnd;
      if (dfe) out.push({ what: 'server down: the front end', target: '≤ 3 requests', value: `${dfe.total} requests`, met: dfe.total <= 3 });
    } else {
      // The two creates, one watch of the system's pods, and the URL check's record (one-watch.ts).
      if (up) out.push({ what: `${actor} up`, target: '≤ 4 requests (1 watch)', value: `${up.writes} writes + ${up.watches} watches (${up.total} requests)`, met: up.total <= 4 && up.watches <= 1 });
      if (down) out.push({ what: `${actor} down`, target: '≤ 3 requests', value: `${down.total} requests`, met: down.total <= 3 });
    }
    for (const op of ['list', 'status'] as const) {
      const rows = find(actor, op);
      if (rows.length < 2) continue;
      const totals = rows.map((c) => c.total);
      out.push({
        what: `${actor} ${op} at ${rows.map((c) => c.systems).join('/')} systems`,
        target: 'constant',
        value: totals.join('/'),
        met: totals.every((t) => t === totals[0]),
      });
    }
  }
  // Issue 16 sets it in MiB ("Memory peak during the 200-launch burst ≤ 150 MiB"), as the other memory target.
  out.push({ what: 'memory at the burst peak', target: '≤ 150 MiB', value: `${r.memory.burstPeakMiB} MiB`, met: r.memory.burstPeakMiB <= 150 });
  const scale = r.memoryAtScale;
  if (scale) {
    out.push({
      what: `memory of the server holding ${scale.systems} systems`,
      target: '≤ 200 MiB',
      value: `${scale.tycho.heldMiB} MiB, high-water ${scale.tycho.highWaterMiB} (client-node's informers: ${scale.baseline.heldMiB} MiB)`,
      met: scale.tycho.heldMiB <= 200,
    });
  }
  const b = r.burst;
  out.push({
    what: `burst of ${b.launches}: every launch Ready or a truthful error, none lost or doubled`,
    target: 'all',
    value: `${b.ready} Ready, ${b.failed} failed, ${b.lost.length} lost, ${b.doubled.length} doubled, ${b.untruthful.length} untruthful`,
    met: b.lost.length === 0 && b.doubled.length === 0 && b.untruthful.length === 0,
  });
  return out;
}
