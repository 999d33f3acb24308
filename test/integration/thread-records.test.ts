/**
 * A thread's record decides who has its last word. A record closed before a reconciler got to
 * record it (a launch undone while its view was cut off) stays closed, and the late reconciler
 * learns so from its open, so it does not paint a stale "launching" over the failure.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { ThreadRecords } from '../../src/k8s/thread-records.js';
import { kubeConfig } from '../support/cluster.js';

const namespace = `tycho-records-${process.pid}`;
const core = kubeConfig().makeApiClient(CoreV1Api);
beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});
afterAll(async () => {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
});

const entry = (name: string) => ({ name, channel: 'C1', ts: '1700000000.000001', image: 'nginx', owner: '<@U1>', ownerId: 'slack:U1' });

test('open says whether the thread is still open: a second open finds it open, an open after its closing finds it closed', async () => {
  const records = new ThreadRecords(kubeConfig(), namespace);
  expect(await records.open('uid-a', entry('a'))).toBe('open');
  expect(await records.open('uid-a', entry('a'))).toBe('open');
  expect(await records.take('uid-a', entry('a'))).toBe(true);
  expect(await records.open('uid-a', entry('a'))).toBe('closed');
  expect(await records.take('uid-a', entry('a'))).toBe(false);
  // Closed by its front end before anyone recorded it open (an undone launch), then found.
  expect(await records.take('uid-b', entry('b'))).toBe(true);
  expect(await records.open('uid-b', entry('b'))).toBe('closed');
  expect((await records.all()).map((r) => [r.entry.name, r.open]).sort()).toEqual([
    ['a', false],
    ['b', false],
  ]);
});
