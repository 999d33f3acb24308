/**
 * Reads a request body into `req.rawBody`, and refuses one over the limit before it is held in
 * memory: a declared Content-Length is checked before a byte is read, and a streamed (chunked)
 * body is counted as it arrives and dropped the moment it passes the limit. Both Slack's
 * endpoint and the REST API read bodies only through this, so no caller, signed or not, can
 * make the server buffer more than the limit.
 *
 * Bolt's ExpressReceiver takes `req.rawBody` when it is set instead of reading the stream
 * itself (the hook it has for hosts that read bodies first), so its signature check still sees
 * the exact bytes Slack signed.
 */
import type { Request, RequestHandler, Response } from 'express';

declare module 'express-serve-static-core' {
  interface Request {
    /** The whole body, read by readBodyWithin(); empty when the request had none. */
    rawBody?: Buffer;
  }
}

/** Far above any real Slack payload or REST body (a few hundred bytes to a few kB), and cheap to hold. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface BodyRefusal {
  status: 413 | 415;
  message: string;
}

/** How a front end words a refusal (the REST envelope, or Slack's plain answer). */
export type RefuseBody = (res: Response, refusal: BodyRefusal) => void;

/**
 * After the refusal is sent, whatever the client is still sending is read and thrown away for
 * a moment before the connection is closed. Closing a socket that holds unread bytes makes the
 * kernel answer with a reset, and the client would lose the refusal and see only a broken pipe.
 */
const LINGER_MS = 2_000;

function refuseAndClose(req: Request, res: Response, refuse: RefuseBody, refusal: BodyRefusal): void {
  res.once('finish', () => {
    const socket = req.socket;
    req.resume(); // discard, never buffer
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
  refuse(res, refusal);
}

function tooLarge(limit: number): BodyRefusal {
  return { status: 413, message: `The request body is larger than ${limit / 1024} kB.` };
}

export function readBodyWithin(limit: number, refuse: RefuseBody): RequestHandler {
  return (req, res, next) => {
    if (req.rawBody !== undefined || req.readableEnded) return next();
    const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      return refuseAndClose(req, res, refuse, { status: 415, message: `The request body must be sent uncompressed, without Content-Encoding (this one is ${encoding}).` });
    }
    const declared = Number(req.get('content-length') ?? '0');
    if (declared > limit) return refuseAndClose(req, res, refuse, tooLarge(limit));

    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    function onData(chunk: Buffer): void {
      size += chunk.length;
      if (size > limit) {
        stop();
        chunks.length = 0;
        refuseAndClose(req, res, refuse, tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    }
    function onEnd(): void {
      stop();
      req.rawBody = Buffer.concat(chunks);
      next();
    }
    // The client went away mid-body: there is no one left to answer.
    function onError(): void {
      stop();
      chunks.length = 0;
      req.destroy();
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  };
}
