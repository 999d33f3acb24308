/**
 * What a person clicking a launched system's link sees: one GET, no retry, and either the
 * page (any HTTP status counts as an answer) or the reason nothing answered. Every test that
 * asks "does this URL answer" asks it here, so all of them mean the same thing by it.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type UrlAnswer = { status: number; body: string } | { refused: string };

export interface OpenUrlOptions {
  /**
   * For https: the CA the served certificate must chain to (test-ca.ts). 'unverified' is only
   * for hosts no Ingress names, which get the controller's default certificate (as with ingress-nginx).
   */
  ca?: Buffer | 'unverified';
  /** How long the whole answer may take, connection to last byte. */
  timeoutSeconds?: number;
}

/** The simulated ingress controller's host:port (global-setup.ts). */
function ingressAddress(): { host: string; port: number } {
  const a = process.env.TYCHO_TEST_INGRESS_ADDRESS;
  if (!a) throw new Error("TYCHO_TEST_INGRESS_ADDRESS is unset: these tests need the local cluster's simulated ingress controller.");
  const [host, port] = a.split(':') as [string, string];
  return { host, port: Number(port) };
}

/**
 * GET the URL once. An https:// URL is asked as a browser whose DNS points the host at the
 * ingress controller would: the URL's host in Host and SNI, the certificate checked against `ca`.
 */
export function openUrl(url: string, opts: OpenUrlOptions = {}): Promise<UrlAnswer> {
  const u = new URL(url);
  const seconds = opts.timeoutSeconds ?? 5;
  return new Promise((resolve) => {
    let req: ClientRequest | undefined;
    let settled = false;
    const timer = setTimeout(() => {
      settle({ refused: `no answer within ${seconds} s` });
      req?.destroy();
    }, seconds * 1000);
    function settle(answer: UrlAnswer): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    }
    const refused = (e: Error & { code?: string }) => settle({ refused: e.message || e.code || String(e) });
    const answered = (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => settle({ status: res.statusCode ?? 0, body }));
      res.on('error', refused);
    };
    // agent: false: a fresh connection each time, as a first click makes; nothing pooled from an earlier test.
    if (u.protocol === 'https:') {
      const via = ingressAddress();
      const trust = opts.ca === 'unverified' ? { rejectUnauthorized: false } : opts.ca ? { ca: opts.ca } : {};
      req = httpsRequest({ hostname: via.host, port: via.port, path: `${u.pathname}${u.search}`, servername: u.hostname, headers: { host: u.host }, agent: false, ...trust }, answered);
    } else {
      req = httpRequest(u, { agent: false }, answered);
    }
    req.on('error', refused);
    req.end();
  });
}
