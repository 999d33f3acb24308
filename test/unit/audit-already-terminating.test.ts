/**
 * A teardown of a system that is already being torn down (another process, or one before a
 * restart, began deleting it) is a refusal with its own code, already_terminating, and is
 * audited so: result refused, rule already_terminating. Not failed/internal, as if Tycho broke.
 */
import { expect, test } from '@jest/globals';
import type { AuditEntry, AuditTrail } from '../../src/audit.js';
import type { RunContext } from '../../src/commands/command.js';
import { AlreadyTerminating } from '../../src/k8s/errors.js';
import { underPolicy } from '../../src/policy/enforce.js';

function context(entries: AuditEntry[]): RunContext {
  const audit: AuditTrail = { uidOf: () => 'uid-1', record: (e) => void entries.push(e), settled: async () => {} };
  return {
    launcher: {} as RunContext['launcher'],
    caller: { owner: { id: 'slack:U0ALICE001', display: 'alice' }, origin: 'slack', isAdmin: false },
    prefix: '/tycho ',
    policy: null,
    via: 'slack-button',
    channel: 'C0TEAM0001',
    audit,
  };
}

test('a teardown of a system already terminating is audited as refused, code and rule already_terminating', async () => {
  const entries: AuditEntry[] = [];
  const refusal = new AlreadyTerminating('web');
  await expect(underPolicy({ kind: 'down', name: 'web' } as { kind: string }, context(entries), () => Promise.reject(refusal))).rejects.toBe(refusal);
  expect(entries).toEqual([
    { action: 'down', who: 'slack:U0ALICE001', via: 'slack-button', channel: 'C0TEAM0001', system: 'web', rule: 'already_terminating', result: 'refused', code: 'already_terminating', reason: refusal.message },
  ]);
  expect(refusal.message).toBe('"web" is already being torn down.');
});
