/**
 * What POST /slack/events checks before Bolt's receiver sees a request (HTTP mode):
 * - the body is read within BODY_LIMIT_BYTES and never buffered beyond it. Bolt reads the
 *   whole body before it checks the signature, so without this one unsigned request could fill
 *   the pod's memory; it then takes the bytes read here (req.rawBody) instead;
 * - a timestamp more than five minutes ahead is refused with 401, as Bolt refuses one more than
 *   five minutes old: a request signed for later must not be replayable until then.
 */
import type { RequestHandler } from 'express';
import { BODY_LIMIT_BYTES, readBodyWithin } from '../server/body-limit.js';
import type { Logger } from '../log.js';

/** Bolt's (and Slack's documented) replay window, applied to the future as well. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export function slackRequestGuard(log: Logger): RequestHandler[] {
  const bodyWithinLimit = readBodyWithin(BODY_LIMIT_BYTES, (res, refusal) => {
    log.warn('refused a request to the Slack endpoint', { status: refusal.status, reason: refusal.message });
    res.status(refusal.status).type('text/plain').send(refusal.message);
  });
  const notFromTheFuture: RequestHandler = (req, res, next) => {
    const ts = Number(req.get('x-slack-request-timestamp'));
    if (Number.isFinite(ts) && ts > Date.now() / 1000 + MAX_CLOCK_SKEW_SECONDS) {
      log.warn('refused a Slack request whose timestamp is in the future', { timestamp: ts });
      res.status(401).send();
      return;
    }
    next();
  };
  return [bodyWithinLimit, notFromTheFuture];
}
