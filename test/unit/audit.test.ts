/** The audit trail (src/audit.ts): one line per record, and an Event only where a Deployment is known. */
import { createAuditTrail, type AuditEntry } from '../../src/audit.js';
import type { DeploymentEvent, DeploymentEvents } from '../../src/k8s/events.js';
import { createLogger } from '../../src/log.js';

function trail(o: { uids?: Record<string, string>; later?: Record<string, string> } = {}) {
  const lines: string[] = [];
  const events: [{ name: string; uid: string }, DeploymentEvent][] = [];
  let recorded!: () => void;
  const done = new Promise<void>((r) => (recorded = r));
  const sink = { record: async (d: { name: string; uid: string }, e: DeploymentEvent) => (events.push([d, e]), recorded()) } as unknown as DeploymentEvents;
  const t = createAuditTrail({
    log: createLogger({ write: (l) => lines.push(l) }),
    events: sink,
    uidOf: (n) => o.uids?.[n],
    awaitUid: async (n) => o.later?.[n],
  });
  return { t, lines, events, done };
}

const up: AuditEntry = { action: 'up', who: 'slack:U0ALICE001', via: 'slack', channel: 'C0TEAM0001', system: 'web', image: 'nginx', rule: 'policy', result: 'done' };

test('a launch: one line, and once its Deployment is in the view, a Normal Event on it', async () => {
  const { t, lines, events, done } = trail({ later: { web: 'uid-1' } });
  t.record(up);
  await done;
  expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([expect.objectContaining({ msg: 'audit', audit: up })]);
  expect(events).toEqual([[{ name: 'web', uid: 'uid-1' }, { type: 'Normal', reason: 'Launched', message: 'up by slack:U0ALICE001 via slack in C0TEAM0001: done; rule: policy' }]]);
});

test('a refused teardown: the Event goes on the Deployment whose uid was taken before, as a Warning naming the rule', async () => {
  const { t, events, done } = trail();
  t.record({ action: 'down', who: 'api:portal', via: 'rest', system: 'web', rule: 'owner', result: 'refused', code: 'not_owner', reason: 'Only alice or an admin can tear down "web".' }, 'uid-2');
  await done;
  expect(events).toEqual([
    [{ name: 'web', uid: 'uid-2' }, { type: 'Warning', reason: 'Refused', message: 'down by api:portal via rest: refused (not_owner); rule: owner. Only alice or an admin can tear down "web".' }],
  ]);
});

test('a refused launch of a name nobody has: the line only, no Event, nothing waited for', async () => {
  const { t, lines, events } = trail({ later: { web: 'never-asked' } });
  t.record({ ...up, rule: 'images.allow', result: 'refused', code: 'policy' });
  // Every promise the record started has settled by the next turn of the event loop.
  await new Promise((r) => setImmediate(r));
  expect(lines).toHaveLength(1);
  expect(events).toEqual([]);
});
