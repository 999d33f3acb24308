/** Local clusters on one machine claim NodePort ranges of their own; a lock left by a dead process is taken over. */
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimNodePortRange } from '../../src/local/node-port-range.js';

it('two clusters get different ranges; a released range is claimed again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodeports-'));
  const a = claimNodePortRange(undefined, dir);
  const b = claimNodePortRange(undefined, dir);
  expect(a.range).toBe('30000-32767');
  expect(b.range).not.toBe(a.range);
  a.release();
  expect(claimNodePortRange(undefined, dir).range).toBe('30000-32767');
});

it('a lock held by a process that is gone is taken over', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodeports-'));
  // A pid no process has: above Linux's pid_max limit.
  writeFileSync(join(dir, 'tycho-local-nodeports-0.lock'), '4194305');
  expect(claimNodePortRange(undefined, dir).range).toBe('30000-32767');
});

it('when every range is held, the default one is shared, and the log says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodeports-'));
  const lines: string[] = [];
  for (let i = 0; i < 7; i++) claimNodePortRange(undefined, dir);
  expect(readdirSync(dir)).toHaveLength(7);
  expect(claimNodePortRange((l) => lines.push(l), dir).range).toBe('30000-32767');
  expect(lines).toEqual([expect.stringContaining('every NodePort range for local clusters is in use')]);
});
