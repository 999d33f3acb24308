import { ANN_SLACK_PENDING } from '../k8s/labels.js';

/**
 * Replies told once that are not the Ready reply: an incident's (crash-N, outage-N,
 * recovered-N), an expiry warning (expiry-ISO) and a changed URL (url-UID). Each is claimed by
 * a guarded swap of its own record on the Deployment (the incident record, the warned-for
 * expiry, the told Service), and the same write marks it pending here, with a token of its
 * claimant: "KEY@TOKEN KEY@TOKEN". The mark goes once Slack has the reply or refused it.
 *
 * A mark that stays (its writer was killed, or gave up with Slack away) would otherwise be a reply
 * lost for good, since the record already says it was told. Whoever leads takes a mark over once
 * it has seen it for longer than any writer's attempt (SlackIO.maxAttemptMs), swapping in a token
 * of its own (so one recoverer wins), looks for the reply in the thread by its metadata, and posts
 * it only if it is not there.
 */
export type PendingMarks = Map<string, string>;

export function parsePending(v: string | undefined): PendingMarks {
  const marks: PendingMarks = new Map();
  for (const word of (v ?? '').split(' ')) {
    const at = word.lastIndexOf('@');
    if (at > 0) marks.set(word.slice(0, at), word.slice(at + 1));
  }
  return marks;
}

export function formatPending(marks: PendingMarks): string {
  return [...marks].map(([key, token]) => `${key}@${token}`).join(' ');
}

/** The annotation's value with `key` marked as claimed by `token` (replacing an earlier mark of it). */
export function withPending(v: string | undefined, key: string, token: string): string {
  return formatPending(new Map(parsePending(v)).set(key, token));
}

/** The annotation's value without `key`. */
export function withoutPending(v: string | undefined, key: string): string {
  const marks = parsePending(v);
  marks.delete(key);
  return formatPending(marks);
}

/** Whether the annotations still mark `key` as claimed by `token` (a guarded write's condition: the claimant's mark is untouched). */
export function markedBy(annotations: Record<string, string>, key: string, token: string): boolean {
  return parsePending(annotations[ANN_SLACK_PENDING]).get(key) === token;
}
