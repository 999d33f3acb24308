/**
 * What an Extend click that worked makes of the clicked message (blocks.ts afterExtendClick):
 * a warning loses its button and says who extended it until when (and that the maximum cut it
 * short); a digest changes only that system's line and buttons; a message without this
 * system's Extend is left alone.
 */
import { expect, test } from '@jest/globals';
import { afterExtendClick, expiryWarningReply } from '../../src/bot/blocks.js';
import { digestMessage } from '../../src/bot/digest.js';
import type { SystemInfo } from '../../src/k8s/spec.js';

const alice = { id: 'slack:U0ALICE001', display: '<@U0ALICE001>' };
const NEW = '2031-03-04T18:00:00.000Z';
const buttons = (m: { blocks: unknown[] }) => m.blocks.flatMap((b) => ((b as { elements?: { action_id?: string; value?: string }[] }).elements ?? []).filter((e) => e.action_id).map((e) => `${e.action_id}:${e.value}`));

test('a warning: who extended it and the new expiry, capped by the maximum, and no button', () => {
  const warning = expiryWarningReply('web', alice, new Date('2031-03-04T10:00:00Z'), '2h', '/tycho ');
  const m = afterExtendClick(warning, 'web', alice, NEW, true)!;
  const shown = JSON.stringify(m);
  expect(shown).toContain('<@U0ALICE001> extended `web`: it now expires <!date^');
  expect(shown).toContain(`|${NEW}>, the most the operator allows (TYCHO_MAX_TTL).`);
  expect(shown).not.toContain('2031-03-04T10:00:00');
  expect(buttons(m)).toEqual([]);
});

test("a digest: only that system's line and Extend change; a system without an expiry gets one", () => {
  const sys = (name: string, expires: string | null) => ({ name, expires, state: 'ready', stage: 'ready', url: null, owner: 'alice', ownerId: 'slack:U0ALICE001' }) as unknown as SystemInfo;
  const digest = digestMessage('2031-03-04', [sys('a', '2031-03-04T10:00:00.000Z'), sys('b', '2031-03-04T11:00:00.000Z'), sys('c', null)], '/tycho ');
  const m = afterExtendClick(digest, 'a', alice, NEW, false)!;
  expect(buttons(m)).toEqual(['tycho_teardown:a', 'tycho_teardown:b', 'tycho_extend:b@2031-03-04T11:00:00.000Z', 'tycho_teardown:c', 'tycho_extend:c']);
  const lines = m.blocks.filter((b) => b.type === 'section').map((b) => JSON.stringify(b));
  expect(lines[1]).toContain(`expires <!date^${Date.parse(NEW) / 1000}^{date_short_pretty} at {time}|${NEW}> (extended by <@U0ALICE001>)`);
  expect(lines[1]).not.toContain('10:00:00');
  expect(lines[2]).toContain('2031-03-04T11:00:00.000Z');
  expect(JSON.stringify(afterExtendClick(digest, 'c', alice, NEW, false)!.blocks[5])).toContain(`· expires <!date^`);
});

test('a message without this system’s Extend button is left as it is', () => {
  const other = expiryWarningReply('web', alice, new Date('2031-03-04T10:00:00Z'), '2h', '/tycho ');
  expect(afterExtendClick(other, 'api', alice, NEW, false)).toBeUndefined();
  expect(afterExtendClick({ text: 'x' }, 'web', alice, NEW, false)).toBeUndefined();
});
