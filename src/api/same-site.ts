/**
 * What keeps web pages out of the REST API. A page the developer visits can make the browser
 * send requests to any address, loopback included, and with DNS rebinding it can even read the
 * answers, since the attacker's name then points at 127.0.0.1. Two headers give that away, and
 * neither can be forged by a page:
 * - `Origin`: browsers send it with every cross-site POST; the API answers only its own origin
 *   (Swagger UI at /apidocs/ is one) and clients that send none (curl, the CLI, the original
 *   client);
 * - `Host`: after DNS rebinding it carries the attacker's name. Without a token only loopback
 *   names and TYCHO_ALLOWED_HOSTS are answered. With a token the name does not matter: a page
 *   cannot send a token it does not know.
 * The raw Host header is used, never X-Forwarded-Host: a rebound page talks to the server
 * from loopback, which `trust proxy` trusts, and may set that header itself.
 */
import type { Request, RequestHandler } from 'express';
import { isLoopback } from './auth.js';
import { sendError } from './envelope.js';

/** "Host: [::1]:3000" → "::1"; "Host: Localhost:3000" → "localhost". */
export function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const h = host.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](:\d+)?$/.exec(h);
  if (bracketed) return bracketed[1];
  const m = /^([^:]+)(:\d+)?$/.exec(h);
  return m?.[1];
}

export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || isLoopback(name);
}

/** The host (name and port) a URL names, or undefined for "null" and anything unreadable. */
function urlHost(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.host : undefined;
  } catch {
    return undefined;
  }
}

/** The scheme is not compared: behind a TLS ingress the browser says https while Tycho sees http. */
function sameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  if (origin === undefined) return true;
  const host = req.get('host');
  const own = host === undefined ? undefined : urlHost(`http://${host}`);
  return own !== undefined && urlHost(origin) === own;
}

/** The names a tokenless server answers, as the startup log and the refusal list them. */
export function answeredHosts(allowed: readonly string[]): string {
  return ['localhost', '127.0.0.1', '[::1]', ...allowed].join(', ');
}

export interface SameSiteOptions {
  /** Without a token, Host must name loopback or one of these (lower case, no port). */
  checkHost: boolean;
  allowedHosts: readonly string[];
}

export function sameSiteOnly(o: SameSiteOptions): RequestHandler {
  const allowed = new Set(o.allowedHosts.map((h) => h.toLowerCase()));
  const names = answeredHosts(o.allowedHosts);
  return (req, res, next) => {
    if (o.checkHost) {
      const name = hostName(req.get('host'));
      if (name === undefined || !(isLoopbackName(name) || allowed.has(name))) {
        return sendError(
          res,
          403,
          'forbidden',
          `This Tycho server has no API token, so it only answers requests addressed to ${names}, and this one was addressed to ${JSON.stringify(req.get('host') ?? '')}; add the name to TYCHO_ALLOWED_HOSTS or set TYCHO_API_TOKEN.`,
        );
      }
    }
    if (!sameOrigin(req)) {
      return sendError(res, 403, 'forbidden', `Requests from web pages of another site are refused (Origin ${JSON.stringify(req.get('origin'))}); call the API from a program, or from Swagger UI at /apidocs/ on this server.`);
    }
    next();
  };
}
