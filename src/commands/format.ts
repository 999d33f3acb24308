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

/**
 * Serving, but the URL did not answer when Tycho opened it: not a failed launch (the app may
 * need a moment, or the address is not reachable from where Tycho runs), so every front end
 * says this sentence next to the URL instead of failing. Undefined when there is nothing to say.
 */
export function urlWarning(s: { name: string; urlCheck?: { checked: string; verified: boolean; reason?: string } }): string | undefined {
  const c = s.urlCheck;
  if (!c || c.verified || c.checked === 'none') return undefined;
  const what = c.checked === 'cluster' ? "its Service's address inside the cluster" : 'its URL';
  return `${s.name} is serving, but ${what} did not answer when Tycho opened it${c.reason ? ` (${c.reason})` : ''}; it may need a moment longer.`;
}
