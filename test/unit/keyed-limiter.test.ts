/**
 * KeyedLimiter (src/concurrency.ts): at most `max` pieces of work per key at once, the rest in
 * order; keys side by side; nothing kept for a key once its work is done (one per Slack channel
 * ever posted to must not pile up).
 */
import { KeyedLimiter } from '../../src/concurrency.js';

/** Work that runs until the test ends it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

/** Lets every promise chain that can move, move (one turn of the event loop; no time passes). */
const settled = () => new Promise((r) => setImmediate(r));

test('at most max per key at once, the rest in order; other keys are not held up; nothing kept afterwards', async () => {
  const l = new KeyedLimiter<string>(2);
  const started: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  const work = (key: string, name: string) =>
    l.run(key, async () => {
      started.push(name);
      const g = gate();
      gates.set(name, g);
      await g.opened;
      return name;
    });
  const a = ['a1', 'a2', 'a3', 'a4'].map((n) => work('a', n));
  const b = work('b', 'b1');
  await settled();
  expect(started).toEqual(['a1', 'a2', 'b1']);
  gates.get('a2')!.open();
  await a[1];
  await settled();
  expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
  for (const n of ['a1', 'b1', 'a3']) gates.get(n)!.open();
  await Promise.all([a[0], a[2], b]);
  await settled();
  expect(started).toEqual(['a1', 'a2', 'b1', 'a3', 'a4']);
  gates.get('a4')!.open();
  expect(await Promise.all(a)).toEqual(['a1', 'a2', 'a3', 'a4']);
  expect(l.size).toBe(0);
});

test('a failed piece of work frees its place and fails only its own promise', async () => {
  const l = new KeyedLimiter<string>(1);
  const failed = l.run('k', async () => {
    throw new Error('no');
  });
  const next = l.run('k', async () => 'ran');
  await expect(failed).rejects.toThrow('no');
  expect(await next).toBe('ran');
  expect(l.size).toBe(0);
});
