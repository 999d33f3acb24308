/**
 * "Ready" means the URL answers. A pod's Ready condition comes before the endpoints controller,
 * kube-proxy and any ingress route traffic to it, so before Tycho hands a URL out it opens a
 * fresh connection to it and sends one request. Any HTTP answer counts (401, 404 and 302
 * included): the app is reachable, what it says is its own business. Through an ingress
 * controller, 404 and 502–504 are the controller's own "not routed yet" and do not count. No redirect is followed
 * and TLS is not checked.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

export type UrlCheckMode = 'auto' | 'public' | 'cluster' | 'off';
/** What was checked: the URL handed out, the Service's in-cluster address, or nothing. */
export type UrlChecked = 'public' | 'cluster' | 'none';

export interface UrlVerdict {
  checked: UrlChecked;
  verified: boolean;
  /** Why it was not verified, in words. */
  reason?: string;
}

export interface ProbeOptions {
  /** Total time to keep trying, in seconds. */
  totalSeconds: number;
  /** Per attempt. */
  attemptTimeoutMs?: number;
  signal?: AbortSignal;
  /** Connect here instead of the URL's host, which is still sent as Host and TLS SNI (an ingress controller's address). */
  via?: { host: string; port: number };
}

/**
 * Through an ingress controller these mean "no route yet" (an unknown host, or a host with no
 * ready endpoint behind it), not the app answering, so the check keeps trying.
 */
/** The controller's own 404: no Ingress names the host (any more). */
const HOST_NOT_ROUTED: ReadonlySet<number> = new Set([404]);
const NOT_ROUTED_YET: ReadonlySet<number> = new Set([...HOST_NOT_ROUTED, 502, 503, 504]);

/** One attempt: resolves with the HTTP status, or rejects with why there was none. */
export function probeOnce(url: string, timeoutMs: number, via?: ProbeOptions['via']): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    // Through an ingress: connect to its address, and name the host in Host and SNI.
    const target: RequestOptions = via
      ? { hostname: via.host, port: via.port, path: `${u.pathname}${u.search}`, servername: u.hostname, headers: { host: u.host } }
      : { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: `${u.pathname}${u.search}` };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      // agent: false → a fresh connection, never a pooled one that worked a moment ago.
      { ...target, method: 'GET', agent: false, timeout: timeoutMs, rejectUnauthorized: false, headers: { 'user-agent': 'tycho-url-check', connection: 'close', ...target.headers } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ?? e.message)));
    req.end();
  });
}

/** One attempt's outcome: the HTTP status, or why there was none. */
type Attempt = { status: number } | { error: string };

/**
 * Opens the URL with backoff (first wait `delays.firstMs`, doubling up to `delays.maxMs`) until an
 * attempt `settles` it, the time is up, or the signal aborts. `last` is the final attempt.
 */
async function probeUntil(url: string, o: ProbeOptions, delays: { firstMs: number; maxMs: number }, settles: (a: Attempt) => boolean): Promise<{ cancelled: true } | { settled: boolean; last: Attempt }> {
  const deadline = Date.now() + o.totalSeconds * 1000;
  let delay = delays.firstMs;
  for (;;) {
    if (o.signal?.aborted) return { cancelled: true };
    let last: Attempt;
    try {
      last = { status: await probeOnce(url, Math.min(o.attemptTimeoutMs ?? 1000, Math.max(100, deadline - Date.now())), o.via) };
    } catch (e) {
      last = { error: e instanceof Error ? e.message : String(e) };
    }
    if (settles(last)) return { settled: true, last };
    if (Date.now() + delay > deadline) return { settled: false, last };
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, delays.maxMs);
  }
}

/** Whether an attempt through the ingress controller got one of these answers of the controller's own, rather than the app's. */
const answeredBy = (o: ProbeOptions, a: Attempt, statuses: ReadonlySet<number>) => !!o.via && 'status' in a && statuses.has(a.status);

/** Tries with backoff until an answer or the time is up. */
export async function probeUrl(url: string, o: ProbeOptions): Promise<{ ok: boolean; reason?: string }> {
  const r = await probeUntil(url, o, { firstMs: 50, maxMs: 2000 }, (a) => 'status' in a && !answeredBy(o, a, NOT_ROUTED_YET));
  if ('cancelled' in r) return { ok: false, reason: 'the check was cancelled' };
  if (r.settled) return { ok: true };
  const last = 'error' in r.last ? r.last.error : `the ingress answered ${r.last.status}`;
  return { ok: false, reason: `it did not answer within ${o.totalSeconds} s (${last})` };
}

/**
 * The mirror of probeUrl, for a teardown: tries until the URL no longer answers (the connection
 * is refused, reset or times out; through an ingress controller, it answers 404) or
 * the time is up. A kube-proxy or ingress controller drops its route a moment after the objects
 * go, so "torn down" is only said once the URL stopped answering.
 */
export async function probeUntilGone(url: string, o: ProbeOptions): Promise<{ gone: boolean; reason?: string }> {
  // Through an ingress controller only its 404 (no Ingress names the host) means gone: a 502–504
  // still routes the host, to a Service whose endpoints went first.
  const r = await probeUntil(url, o, { firstMs: 25, maxMs: 1000 }, (a) => 'error' in a || answeredBy(o, a, HOST_NOT_ROUTED));
  if ('cancelled' in r) return { gone: false, reason: 'the check was cancelled' };
  if (r.settled) return { gone: true };
  return { gone: false, reason: `it still answered ${'status' in r.last ? r.last.status : 0} after ${o.totalSeconds} s` };
}

/**
 * Which address to check. `auto`: the URL handed out, unless Tycho runs inside the cluster and
 * that URL is a node or load-balancer address it may not reach from its pod (hairpin, private
 * node IPs); then the Service's in-cluster address.
 */
export function urlToCheck(mode: UrlCheckMode, publicUrl: string | null, clusterUrl: string | null, inCluster: boolean): { checked: UrlChecked; url: string | null } {
  if (mode === 'off') return { checked: 'none', url: null };
  if (mode === 'cluster' || (mode === 'auto' && inCluster)) return { checked: 'cluster', url: clusterUrl };
  return { checked: 'public', url: publicUrl };
}
