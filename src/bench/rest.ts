/** Calls to Tycho's REST API (loopback callers need no token), timed. */
import type { AppProcess } from './app-process.js';
import { epochMs } from './clock.js';

export interface RestAnswer {
  status: number;
  body: { status?: string; result?: unknown; message?: string };
  ms: number;
}

export async function rest(app: AppProcess, path: string, body: unknown): Promise<RestAnswer> {
  const t0 = epochMs();
  const res = await fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json().catch(() => ({}))) as RestAnswer['body'];
  return { status: res.status, body: json, ms: epochMs() - t0 };
}
