/**
 * Acks first. Slack gives a slash command 3 s for its ack; the launch behind it can wait a
 * moment. When a class launches at once, the server's one event loop holds both: 200 requests
 * to ack, and the launches already acked (their Slack posts, creates, view events, URL checks).
 * Measured on a burst of 200, the receiver got about a fifth of the CPU while launches ran, so
 * the last acks waited 2–5 s where a receiver alone took 0.4 s. So a launch starts only once no
 * Slack request is being answered, or after MAX_WAIT_MS at most (a steady stream of commands
 * must not hold launches back for ever). Launches already running go on.
 */
import type { RequestHandler } from 'express';
import type { Limiter } from '../concurrency.js';

/** The longest a launch waits for the receiver to fall quiet. */
export const MAX_WAIT_MS = 2000;
/**
 * How long the receiver must have had nothing to answer. Not just "nothing right now": a burst's
 * requests arrive over a few hundred milliseconds, and a gap between two of them must not let
 * the launches in. Small next to a launch's own seconds.
 */
export const QUIET_MS = 25;

export class AcksFirst {
  private inFlight = 0;
  private lastSeen = 0;

  /** Express middleware for the Slack endpoint: a request counts from its arrival until its answer is sent (or it is dropped). */
  readonly counter: RequestHandler = (_req, res, next) => {
    this.inFlight++;
    this.lastSeen = Date.now();
    res.once('close', () => {
      this.inFlight--;
      this.lastSeen = Date.now();
    });
    next();
  };

  private shared: Promise<void> | undefined;

  /**
   * turn(), one for all who only need to come after the acks (the queue notices of a burst: a
   * couple of hundred waiters, one timer between them).
   */
  quiet(): Promise<void> {
    return (this.shared ??= this.turn().finally(() => (this.shared = undefined)));
  }

  /** Resolves once the receiver has had nothing to answer for QUIET_MS, or after maxWaitMs. */
  async turn(maxWaitMs = MAX_WAIT_MS): Promise<void> {
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const now = Date.now();
      const quietFor = this.inFlight === 0 ? now - this.lastSeen : 0;
      if (quietFor >= QUIET_MS || now >= deadline) return;
      await new Promise((r) => setTimeout(r, Math.min(deadline - now, QUIET_MS - quietFor)));
    }
  }
}

/**
 * A limiter whose work, once its turn comes, also waits for the acks in progress. So does the
 * news that a piece of work is queued: in a burst nearly every launch is queued, and each notice
 * is a call to Slack that would otherwise compete with the acks still to go (the burst's acks
 * were at 2.5× a bare receiver's p99, against 1.3× before the notices). It gives the place in
 * the queue as it is then, and nothing if the work has started meanwhile.
 */
export function acksFirstLimiter(limit: Limiter, acks: AcksFirst): Limiter {
  return (fn, onQueued) =>
    limit(
      async () => {
        await acks.turn();
        return fn();
      },
      onQueued &&
        ((_position, positionNow) => {
          void acks.quiet().then(() => {
            const position = positionNow();
            if (position !== undefined) onQueued(position, positionNow);
          });
        }),
    );
}
