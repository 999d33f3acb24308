/**
 * What counts as a crash (k8s/crash.ts) and how the incident record reads and writes
 * (bot/incident.ts). A crash: a container restarted after a non-zero exit or an OOMKill. Not a
 * crash: a pod replaced on purpose (restartCount 0), a run that exited 0, a pod being deleted.
 */
import { describe, expect, test } from '@jest/globals';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { lastCrash } from '../../src/k8s/crash.js';
import { formatIncident, parseIncident } from '../../src/bot/incident.js';

function pod(uid: string, created: string, status: Partial<V1ContainerStatus>, deleting = false): V1Pod {
  return {
    metadata: { uid, name: `p-${uid}`, creationTimestamp: new Date(created), ...(deleting ? { deletionTimestamp: new Date(created) } : {}) },
    status: { containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: true, restartCount: 0, ...status }] },
  };
}
const ended = (exitCode: number, reason?: string) => ({ lastState: { terminated: { exitCode, ...(reason ? { reason } : {}) } } });

describe('lastCrash', () => {
  test('a restart after a non-zero exit, or an OOMKill, is a crash, keyed by pod and restart count', () => {
    expect(lastCrash([pod('a', '2026-01-01T00:00:00Z', { restartCount: 1, ...ended(1, 'Error') })])).toMatchObject({ key: 'a.1', reason: 'Error', exitCode: 1 });
    expect(lastCrash([pod('a', '2026-01-01T00:00:00Z', { restartCount: 3, ...ended(137, 'OOMKilled') })])).toMatchObject({ key: 'a.3', reason: 'OOMKilled', exitCode: 137 });
  });
  test('a new pod (restartCount 0), a run that exited 0, a pod being deleted: no crash', () => {
    expect(lastCrash([pod('a', '2026-01-01T00:00:00Z', {})])).toBeUndefined();
    expect(lastCrash([pod('a', '2026-01-01T00:00:00Z', { restartCount: 1, ...ended(0, 'Completed') })])).toBeUndefined();
    expect(lastCrash([pod('a', '2026-01-01T00:00:00Z', { restartCount: 1, ...ended(1, 'Error') }, true)])).toBeUndefined();
  });
  test('the newest pod that crashed wins', () => {
    const older = pod('old', '2026-01-01T00:00:00Z', { restartCount: 2, ...ended(1, 'Error') });
    const newer = pod('new', '2026-01-01T00:01:00Z', { restartCount: 1, ...ended(2, 'Error') });
    expect(lastCrash([older, newer])?.key).toBe('new.1');
  });
});

describe('the incident record', () => {
  test('reads what it writes, and the older form (no kind, no crash key)', () => {
    const i = { n: 2, open: true, kind: 'crash' as const, crashKey: 'a.3' };
    expect(formatIncident(i)).toBe('open 2 crash a.3');
    expect(parseIncident(formatIncident(i))).toEqual(i);
    expect(parseIncident('over 3')).toEqual({ n: 3, open: false, kind: 'outage' });
    expect(parseIncident(undefined)).toEqual({ n: 0, open: false, kind: 'outage' });
  });
});
