/** The pending marks on a Deployment (src/bot/pending-replies.ts): one per reply key, each with its claimant's token. */
import { parsePending, withoutPending, withPending } from '../../src/bot/pending-replies.js';

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
