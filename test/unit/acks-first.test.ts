/**
 * Acks first (src/bot/acks-first.ts): a launch's work waits while the Slack endpoint has requests
 * to answer, until it has been quiet a moment, and never longer than MAX_WAIT_MS. Jest's fake
 * clock drives it, so nothing here depends on how fast the machine is.
 */
import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { AcksFirst, acksFirstLimiter, MAX_WAIT_MS, QUIET_MS } from '../../src/bot/acks-first.js';
import { limiter } from '../../src/concurrency.js';

/** A request reaching the Slack endpoint; answer() sends its response. */
function arrive(acks: AcksFirst): { answer: () => void } {
  const res = new EventEmitter();
  acks.counter({} as Request, res as unknown as Response, () => undefined);
  return { answer: () => res.emit('close') };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

/** Whether the launch has started once the clock has moved on by ms. */
async function startedAfter(ms: number, state: { done: boolean }): Promise<boolean> {
  await jest.advanceTimersByTimeAsync(ms);
  return state.done;
}

it('a launch starts only once every request in flight is answered and the endpoint has been quiet', async () => {
  const acks = new AcksFirst();
  const run = acksFirstLimiter(limiter(8), acks);
  const first = arrive(acks);
  const second = arrive(acks);
  const state = { done: false };
  const launch = run(async () => {
    state.done = true;
  });
  expect(await startedAfter(MAX_WAIT_MS / 4, state)).toBe(false);
  first.answer();
  expect(await startedAfter(QUIET_MS * 2, state)).toBe(false);
  second.answer();
  // A gap shorter than the quiet window, and a third request: still waiting.
  await jest.advanceTimersByTimeAsync(QUIET_MS / 2);
  const third = arrive(acks);
  third.answer();
  expect(await startedAfter(QUIET_MS / 2, state)).toBe(false);
  expect(await startedAfter(QUIET_MS, state)).toBe(true);
  await launch;
});

it('never waits longer than MAX_WAIT_MS, however busy the endpoint stays', async () => {
  const acks = new AcksFirst();
  arrive(acks); // never answered
  const state = { done: false };
  const launch = acksFirstLimiter(limiter(8), acks)(async () => {
    state.done = true;
  });
  expect(await startedAfter(MAX_WAIT_MS - 1, state)).toBe(false);
  expect(await startedAfter(1, state)).toBe(true);
  await launch;
});

it('with nothing to answer (Socket Mode, or a quiet endpoint), a launch starts at once', async () => {
  const state = { done: false };
  const launch = acksFirstLimiter(limiter(8), new AcksFirst())(async () => {
    state.done = true;
  });
  expect(await startedAfter(0, state)).toBe(true);
  await launch;
});

it('the news that a launch is queued waits for the acks too, gives its place as it is then, and is not sent once it has started', async () => {
  const acks = new AcksFirst();
  const run = acksFirstLimiter(limiter(1), acks);
  const told: [string, number][] = [];
  const gates: (() => void)[] = [];
  const work = (name: string) =>
    run(
      () => new Promise<void>((r) => gates.push(r)),
      (position) => told.push([name, position]),
    );
  // A burst: the first launch takes the one place, two more queue, while a request is still being answered.
  const busy = arrive(acks);
  const launches = [work('a'), work('b'), work('c')];
  await jest.advanceTimersByTimeAsync(MAX_WAIT_MS / 4);
  expect(told).toEqual([]);
  busy.answer();
  await jest.advanceTimersByTimeAsync(QUIET_MS * 2);
  // Quiet: the first launch started, and each queued one heard its place.
  expect(told).toEqual([
    ['b', 1],
    ['c', 2],
  ]);

  for (const end of gates.splice(0)) end();
  await jest.advanceTimersByTimeAsync(0);
  for (const end of gates.splice(0)) end();
  await jest.advanceTimersByTimeAsync(0);
  for (const end of gates.splice(0)) end();
  await Promise.all(launches);
});

it('a launch queued during an ack whose place comes before the endpoint falls quiet is not told it is queued', async () => {
  const acks = new AcksFirst();
  const run = acksFirstLimiter(limiter(1), acks);
  let endFirst!: () => void;
  const first = run(() => new Promise<void>((r) => (endFirst = r)));
  await jest.advanceTimersByTimeAsync(0);
  const told: number[] = [];
  const busy = arrive(acks);
  const state = { done: false };
  const second = run(
    async () => {
      state.done = true;
    },
    (position) => told.push(position),
  );
  // Its place comes while the ack is still being answered: it waits for the acks, no longer queued.
  endFirst();
  await first;
  busy.answer();
  expect(await startedAfter(QUIET_MS * 2, state)).toBe(true);
  expect(told).toEqual([]);
  await second;
});
