/**
 * Turns the raw body (read, within its limit, by readBodyWithin) into `req.body`. Only
 * `Content-Type: application/json` in UTF-8 is read: a browser can send text/plain or a form
 * to any address without asking first, but not JSON, so this alone stops a web page from
 * launching apps through a developer's local Tycho.
 */
import type { RequestHandler } from 'express';
import { sendError } from './envelope.js';

const JSON_TYPE = /^application\/json\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

export function notJsonMessage(contentType: string | undefined): string {
  return `The request body must be JSON sent with "Content-Type: application/json" (this one was ${contentType ? `"${contentType}"` : 'sent without a Content-Type'}).`;
}

export function jsonBody(): RequestHandler {
  return (req, res, next) => {
    const raw = req.rawBody;
    // No bytes means no body; the operation's own rules say whether one is required.
    if (!raw || raw.length === 0) {
      req.body = undefined;
      return next();
    }
    const type = req.get('content-type');
    if (!type || !JSON_TYPE.test(type)) return sendError(res, 415, 'usage', notJsonMessage(type));
    const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      return sendError(res, 415, 'usage', `The request body must be JSON in UTF-8 (this one declares charset ${charset}).`);
    }
    try {
      req.body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      // The parser's own wording is an implementation detail; its position is what helps.
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      return sendError(res, 400, 'usage', `The request body is not valid JSON${at ? ` (near character ${at})` : ''}: send a JSON object (see /openapi.json).`);
    }
    next();
  };
}
