/** Small text helpers shared by the front ends. */

export function age(created: string, now = Date.now()): string {
  const t = Date.parse(created);
  if (Number.isNaN(t)) return '?';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d`;
}

/** The system's state in a few words: "ready", or why not. */
export function stateText(s: { ready: boolean; stage: string; reason?: string }): string {
  if (s.ready) return 'ready';
  return s.reason ? `${s.stage}: ${s.reason}` : s.stage;
}

export const STAGE_WORDS: Record<string, string> = {
  created: 'created, waiting for a node',
  scheduled: 'scheduled onto a node',
  pulling: 'pulling the image',
  started: 'started, waiting for it to be ready',
  ready: 'ready',
};
