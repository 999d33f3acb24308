/**
 * Who may call /system/*. With TYCHO_API_TOKEN: whoever sends it as a Bearer token. Without:
 * only callers on the server's own machine, so the original client works on a laptop and
 * nothing is open to the network by accident.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { sendError } from './envelope.js';

/** 127.0.0.0/8, ::1, and IPv4 loopback written as an IPv6-mapped address. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Hashing first gives both sides the same length, so timingSafeEqual never throws and the
 * time taken says nothing about the token's length or its first differing byte.
 */
export function tokenMatches(given: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digest(given), expectedDigest);
}

export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m?.[1];
}

export const MESSAGES = {
  missingToken: 'This Tycho server needs an API token: send "Authorization: Bearer <token>" with the value of TYCHO_API_TOKEN.',
  wrongToken: 'The API token is wrong: send "Authorization: Bearer <token>" with the value of TYCHO_API_TOKEN on the server.',
  notLoopback:
    'This Tycho server has no API token, so it only accepts calls from its own machine. To call it from elsewhere, set TYCHO_API_TOKEN on the server and send "Authorization: Bearer <token>".',
} as const;

/**
 * `req.ip` honours X-Forwarded-For only from a loopback proxy (http-app.ts sets
 * `trust proxy` to loopback), so a remote caller cannot claim to be local by sending the header.
 */
export function requireCaller(apiToken: string | undefined): RequestHandler {
  if (apiToken) {
    const expected = digest(apiToken);
    return (req, res, next) => {
      const given = bearerToken(req.get('authorization'));
      if (given === undefined) return sendError(res, 401, 'unauthorized', MESSAGES.missingToken);
      if (!tokenMatches(given, expected)) return sendError(res, 401, 'unauthorized', MESSAGES.wrongToken);
      next();
    };
  }
  return (req, res, next) => {
    if (!isLoopback(req.ip ?? req.socket.remoteAddress)) return sendError(res, 401, 'unauthorized', MESSAGES.notLoopback);
    next();
  };
}
