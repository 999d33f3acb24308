/**
 * A quota or limit refusal read from a Deployment's ReplicaFailure condition (no pod exists to
 * say it), as the live view caches the Deployment: what stage the system is in, and in whose words.
 */
import { expect, test } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { podFailureError } from '../../src/k8s/errors.js';
import { slimDeployment } from '../../src/k8s/view/slim.js';
import { systemState } from '../../src/k8s/view/system-model.js';

function deployment(message: string | undefined): V1Deployment {
  return {
    metadata: { name: 'web', uid: 'u1', managedFields: [{ manager: 'kube-controller-manager' }] },
    spec: { selector: {}, template: {} },
    status: {
      replicas: 0,
      conditions: [
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: 'Created new replica set "web-5d9c"', lastUpdateTime: new Date() },
        ...(message ? [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message, lastUpdateTime: new Date(), lastTransitionTime: new Date() }] : []),
      ],
    },
  };
}

const QUOTA = 'pods "web-5d9c-x7k2p" is forbidden: exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0';
const LIMIT = 'pods "web-5d9c-x7k2p" is forbidden: maximum cpu usage per Container is 500m, but limit is 2';

test('the view keeps a Deployment\'s ReplicaFailure condition only, without timestamps', () => {
  expect(slimDeployment(deployment(QUOTA)).status).toEqual({ conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: QUOTA }] });
  expect(slimDeployment(deployment(undefined)).status).toBeUndefined();
});

test.each([
  ['a ResourceQuota', QUOTA, 'exceeded quota: no-pods, requested: pods=1, used: pods=0, limited: pods=0'],
  ['a LimitRange', LIMIT, 'maximum cpu usage per Container is 500m, but limit is 2'],
])('a pod refused by %s fails the system in the quota\'s words', (_what, message, words) => {
  const s = systemState({ deployment: slimDeployment(deployment(message)), pods: [] });
  expect(s.stage).toBe('failed');
  expect(s.failure).toEqual({ kind: 'quota', reason: 'FailedCreate', detail: words });
  const e = podFailureError('web', 'nginx', s.failure!);
  expect([e.code, e.message]).toEqual(['quota_exceeded', `The namespace's quota or limits refused the pod of "web": ${words}.`]);
});

test('a passing FailedCreate (not a quota\'s) is no failure: the ReplicaSet controller retries it', () => {
  const s = systemState({ deployment: slimDeployment(deployment('pods "web-5d9c-x7k2p" is forbidden: unable to create new content in namespace x because it is being terminated')), pods: [] });
  expect(s.stage).toBe('created');
});

test('the quoted refusal is one line of at most 300 characters', () => {
  const s = systemState({ deployment: slimDeployment(deployment(`pods "p" is forbidden: exceeded quota: q,\n requested: ${'x'.repeat(1000)}`)), pods: [] });
  expect(s.failure!.detail).not.toContain('\n');
  expect(s.failure!.detail.length).toBeLessThanOrEqual(300);
});
