/**
 * The incident record on a served system's Deployment (labels.ANN_SLACK_INCIDENT), written only
 * through the claims (a guarded swap), so that of two replicas one tells each move:
 *
 *   "<open|over> <n> <crash|outage> <crash key>"
 *
 * n counts the incidents; `crash` is one opened by a crash (k8s/crash.ts), `outage` one opened
 * by a gap in serving longer than the grace period; the crash key is that of the last crash
 * already accounted for ("-": none), so a crash is told once. The Ready claim writes "over 0
 * outage <key>": a crash before the system ever served belongs to its launch, not to an incident.
 * The older form "open 3" / "over 3" (no kind, no key) is read too.
 */
export type IncidentKind = 'crash' | 'outage';

export interface Incident {
  n: number;
  open: boolean;
  kind: IncidentKind;
  /** The last crash accounted for; undefined in a record of the older form (none yet: "-"). */
  crashKey?: string;
}

export const NO_CRASH = '-';

export function parseIncident(v: string | undefined): Incident {
  const m = /^(open|over) (\d+)(?: (crash|outage) (\S+))?$/.exec(v ?? '');
  if (!m) return { n: 0, open: false, kind: 'outage' };
  return { n: Number(m[2]), open: m[1] === 'open', kind: (m[3] as IncidentKind | undefined) ?? 'outage', ...(m[4] ? { crashKey: m[4] } : {}) };
}

export function formatIncident(i: Incident): string {
  return `${i.open ? 'open' : 'over'} ${i.n} ${i.kind} ${i.crashKey ?? NO_CRASH}`;
}
