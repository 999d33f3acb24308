/**
 * Slack's buttons run the commands, as the slash command does: whatever a command checks (who
 * may tear down now; the policy rules that live inside the command layer) is checked for its
 * button too, with the same sentence. A rule is stood in for here by swapping a command's
 * module in the registry, which is where such a rule lives.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { AnyCommandModule } from '../../src/commands/command.js';
import { commandModule, registerCommand } from '../../src/commands/registry.js';
import { UsageError } from '../../src/k8s/errors.js';
import { ADMIN, ALICE, BOB, type BotHarness, isRoot, startBotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('bot-buttons');
});
afterAll(async () => {
  await h?.stop();
});


async function launchReady(name: string) {
  await h.slash(`up -n ${name} -c nginx:1.25 -p 80`, { user: ALICE });
  const root = await h.slack.waitFor('chat.postMessage', isRoot(name), `the root message of ${name}`);
  return h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), `the Ready reply of ${name}`);
}

/** What the person who clicked or typed was told (ephemeral). */
async function answerTo(sent: { tag: string }, what: string): Promise<string> {
  return String((await h.slack.waitFor('response_url', (c) => c.tag === sent.tag, what)).args.text);
}

/** A rule inside a command: it refuses everyone, admins too, before the command does anything. */
function refusing(name: 'down' | 'status', why: string): () => void {
  const module = commandModule(name) as AnyCommandModule;
  return registerCommand(
    {
      ...module,
      run: async () => {
        throw new UsageError(why, '');
      },
    },
    { replace: true },
  );
}

describe('the buttons run the commands', () => {
  test('a non-owner\'s Tear down is refused by the down command, in the same sentence as /tycho down', async () => {
    const ready = await launchReady('btn-owner');
    const click = await answerTo(await h.click({ user: BOB, message: ready, action: 'tycho_teardown', value: 'btn-owner' }), 'the refusal of the click');
    const typed = await answerTo(await h.slash('down -n btn-owner', { user: BOB }), 'the refusal of /tycho down');
    expect(click).toBe(`:no_entry: Only <@${ALICE}> or an admin can tear down "btn-owner".`);
    expect(typed).toBe(click);
    expect(await h.deploymentExists('btn-owner')).toBe(true);
  });

  test('a rule inside the down command refuses the Tear down button, even an admin\'s, and nothing is deleted', async () => {
    const ready = await launchReady('btn-rule');
    const why = 'Teardowns are paused here (policy: freeze).';
    const undo = refusing('down', why);
    try {
      const click = await answerTo(await h.click({ user: ADMIN, message: ready, action: 'tycho_teardown', value: 'btn-rule' }), 'the refusal of the click');
      const typed = await answerTo(await h.slash('down -n btn-rule', { user: ADMIN }), 'the refusal of /tycho down');
      expect(click).toBe(`:no_entry: ${why}`);
      expect(typed).toBe(click);
      expect(await h.deploymentExists('btn-rule')).toBe(true);
    } finally {
      undo();
    }
    // With the rule gone, the same button works: the command's checks passed, so the thread is marked and the system goes.
    expect((await h.click({ user: ALICE, message: ready, action: 'tycho_teardown', value: 'btn-rule' })).status).toBe(200);
    await h.slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === ready.args.thread_ts && String(c.args.text).startsWith(`Torn down by <@${ALICE}>`), 'the torn-down reply');
    expect(await h.deploymentExists('btn-rule')).toBe(false);
  });

  test('a rule inside the status command refuses the Status button', async () => {
    const ready = await launchReady('btn-status');
    const why = 'Status is hidden here (policy: hide).';
    const undo = refusing('status', why);
    try {
      const click = await answerTo(await h.click({ user: ALICE, message: ready, action: 'tycho_status', value: 'btn-status' }), 'the answer to Status');
      expect(click).toContain(why);
    } finally {
      undo();
    }
    const shown = await answerTo(await h.click({ user: ALICE, message: ready, action: 'tycho_status', value: 'btn-status' }), 'the status');
    expect(shown).toContain('btn-status');
    expect(shown).not.toContain(why);
  });
});
