/** The pending marks on a Deployment (src/bot/pending-replies.ts): one per reply key, each with its claimant's token. */
import { markedBy, parsePending, withoutPending, withPending } from '../../src/bot/pending-replies.js';
import { ANN_SLACK_PENDING } from '../../src/k8s/labels.js';

test('a mark per reply, replaced by a takeover and removed once settled; the others kept', () => {
  let v = withPending(undefined, 'crash-1', 'aaaa1111');
  v = withPending(v, 'expiry-2026-12-06T05:00:00.000Z', 'bbbb2222');
  expect(v).toBe('crash-1@aaaa1111 expiry-2026-12-06T05:00:00.000Z@bbbb2222');
  // Taken over: same key, the recoverer's token.
  v = withPending(v, 'crash-1', 'cccc3333');
  expect([...parsePending(v)]).toEqual([
    ['crash-1', 'cccc3333'],
    ['expiry-2026-12-06T05:00:00.000Z', 'bbbb2222'],
  ]);
  v = withoutPending(v, 'crash-1');
  expect(v).toBe('expiry-2026-12-06T05:00:00.000Z@bbbb2222');
  expect(withoutPending(v, 'expiry-2026-12-06T05:00:00.000Z')).toBe('');
  // Nothing set, or nothing readable: no marks.
  expect(parsePending('')).toEqual(new Map());
  expect(parsePending('  garbage @x')).toEqual(new Map());
});

test("a settle or takeover writes only while the claimant's mark is still there: markedBy", () => {
  const annotations = { [ANN_SLACK_PENDING]: 'crash-1@aaaa1111 url-svc@bbbb2222' };
  expect(markedBy(annotations, 'crash-1', 'aaaa1111')).toBe(true);
  // Taken over by another (its token), settled (gone), or never marked: not this claimant's.
  expect(markedBy(annotations, 'crash-1', 'cccc3333')).toBe(false);
  expect(markedBy(annotations, 'outage-1', 'aaaa1111')).toBe(false);
  expect(markedBy({}, 'crash-1', 'aaaa1111')).toBe(false);
});
