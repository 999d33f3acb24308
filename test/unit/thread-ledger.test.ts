/**
 * The ledger's stored text. Closing a thread takes its entry with a JSON patch `test` of the
 * stored bytes as the API server's Go encoder writes them, so the text must read the same in
 * both encoders: the replicas test shows a real close; this shows the text keeps every entry.
 */
import fc from 'fast-check';
import { entryText, type ThreadEntry } from '../../src/k8s/thread-ledger.js';

test('an entry reads back whole, and its text has nothing Go would encode differently', () => {
  const entry = fc.record({ name: fc.string(), channel: fc.string(), ts: fc.string(), owner: fc.fullUnicodeString(), image: fc.fullUnicodeString() });
  fc.assert(
    fc.property(entry, (e: ThreadEntry) => {
      const text = entryText(e);
      expect(JSON.parse(text)).toEqual(e);
      expect(text).toMatch(/^[\x20-\x7e]*$/);
      expect(text).not.toMatch(/[<>&]/);
    }),
  );
  expect(entryText({ name: 'a', channel: 'C1', ts: '1.2', owner: '<@U0ALICE001> & co' })).toBe('{"name":"a","channel":"C1","ts":"1.2","owner":"\\u003c@U0ALICE001\\u003e \\u0026 co"}');
});
