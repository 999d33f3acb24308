/**
 * The CLI in direct mode audits its mutating actions as the server does (src/audit.ts): one
 * structured audit line per action on stderr, and the action as a Kubernetes Event on the
 * system's Deployment, who being cli:TYCHO_OWNER. The line is the server's log line, so one
 * pipeline can collect both; it is written at TYCHO_LOG_LEVEL=info (a person at a terminal, at
 * the CLI's default level `warn`, sees only the progress words and the result).
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { tycho } from './run-cli.js';

let ns: string;
beforeAll(async () => {
  ns = await createTestNamespace('cli-audit');
});

const cli = (args: string[], level = 'info') => tycho(args, { KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: ns, TYCHO_OWNER: 'carol', TYCHO_LOG_LEVEL: level });

/** The audit entries among what the CLI wrote on stderr (its other lines are words for a person). */
function auditLines(stderr: string): unknown[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; audit?: unknown })
    .filter((l) => l.msg === 'audit')
    .map((l) => l.audit);
}

/** Events are listed by their generated names: put them in the order of the actions. */
const ORDER = ['Launched', 'Extended', 'TornDown'];

async function eventsOn(name: string): Promise<{ type?: string; reason?: string; message?: string }[]> {
  const list = await kubeConfig().makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.kind=Deployment,involvedObject.name=${name}` });
  return list.items
    .filter((e) => e.source?.component === 'tycho' || e.reportingComponent === 'tycho')
    .map((e) => ({ type: e.type, reason: e.reason, message: e.message }))
    .sort((a, b) => ORDER.indexOf(a.reason ?? '') - ORDER.indexOf(b.reason ?? ''));
}

it('up, extend and down each write one audit line and one Event on the Deployment, as the server does', async () => {
  const up = await cli(['up', '-n', 'audited', '-c', 'nginx', '-p', '80']);
  expect(up.code).toBe(0);
  expect(auditLines(up.stderr)).toEqual([{ action: 'up', who: 'cli:carol', via: 'cli', system: 'audited', image: 'nginx', rule: 'policy', result: 'done' }]);

  const extend = await cli(['extend', '-n', 'audited', '--ttl', '1h']);
  expect(extend.code).toBe(0);
  expect(auditLines(extend.stderr)).toEqual([{ action: 'extend', who: 'cli:carol', via: 'cli', system: 'audited', rule: 'trusted client', result: 'done' }]);

  const down = await cli(['down', '-n', 'audited']);
  expect(down.code).toBe(0);
  expect(auditLines(down.stderr)).toEqual([{ action: 'down', who: 'cli:carol', via: 'cli', system: 'audited', rule: 'trusted client', result: 'done' }]);

  // Written before each command returned: the CLI waits for its Event before it exits.
  expect(await eventsOn('audited')).toEqual([
    { type: 'Normal', reason: 'Launched', message: 'up by cli:carol via cli: done; rule: policy' },
    { type: 'Normal', reason: 'Extended', message: 'extend by cli:carol via cli: done; rule: trusted client' },
    { type: 'Normal', reason: 'TornDown', message: 'down by cli:carol via cli: done; rule: trusted client' },
  ]);
});

it("at the CLI's default level a person sees the progress and the result, not the JSON line; the Event is still written", async () => {
  const up = await cli(['up', '-n', 'quiet', '-c', 'nginx', '-p', '80'], '');
  expect(up.code).toBe(0);
  expect(up.stderr.split('\n').filter((l) => l.startsWith('{'))).toEqual([]);
  expect(up.stderr.trim().split('\n').pop()).toBe('… ready');
  expect(await eventsOn('quiet')).toEqual([{ type: 'Normal', reason: 'Launched', message: 'up by cli:carol via cli: done; rule: policy' }]);
});

it('a command that changes nothing (status, list) writes no audit line and no Event', async () => {
  const status = await cli(['list']);
  expect(status.code).toBe(0);
  expect(auditLines(status.stderr)).toEqual([]);
});
