/**
 * Slack unreachable for longer than one post may take (the stand-in stopped, then started): nothing
 * the threads had to say is lost. Once Slack answers again the Ready reply, the root's state and
 * the closing reply each arrive, once, in order, and the team channel hears each once.
 */
import { afterAll, expect, test } from '@jest/globals';
import { createLogger } from '../../src/log.js';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { NOTIFY_CHANNEL, shownText, startBotHarness, TEAM_CHANNEL, type BotHarness } from './harness.js';

let h: BotHarness | undefined;
afterAll(async () => {
  await h?.stop();
});

/** One post's budget here: the outages below outlast a post (budget and its last call) and the claim's recovery. */
const BUDGET_MS = 5_000;

test('Slack down while a launch gets Ready, and again while it is torn down: each reply arrives once when Slack is back', async () => {
  const lines: { msg: string }[] = [];
  /** Run as the line is written (before the code after it): when it is armed, at the first line it takes. */
  let onLine: ((msg: string) => boolean) | undefined;
  const log = createLogger({
    level: 'info',
    write: (l) => {
      const line = JSON.parse(l) as { msg: string };
      lines.push(line);
      if (onLine?.(line.msg)) onLine = undefined;
    },
  });
  // A wait that times out says what was logged: a failure explains itself.
  const logged = (msg: string, after = 0) =>
    waitFor(() => lines.slice(after).some((l) => l.msg === msg), { what: `the log line "${msg}"`, timeoutMs: 60_000 }).catch((e: Error) => {
      throw new Error(`${e.message}; logged:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
    });
  h = await startBotHarness('slack-outage', { log, slackBudgetMs: BUDGET_MS });
  const hh = h;
  const name = 'through-outage';
  expect((await hh.slash(`up -n ${name} -c example/slow-start:1 -p 80`)).status).toBe(200);
  const root = await hh.slack.waitFor('chat.postMessage', (c) => c.args.channel === TEAM_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`\`${name}\``), 'the root message');
  const inThread = (c: SlackCall) => c.args.thread_ts === root.result.ts;

  // Down before the pod is Ready (it takes ~3 s to start): the Ready reply cannot go, for longer
  // than a post tries and than its claim's recovery waits.
  await hh.slack.outage();
  await logged('the Ready reply is not posted yet; it stays claimed and will be tried again');
  // Slack is back the moment the recovery starts, but its look for an earlier try is answered
  // with a 503: the reply waits for a later recovery, and this reconcile paints the root Ready
  // first. So the root and the reply say Ready while the Ready's notice to the team channel is
  // still to come (the flake this test had: down again then, it waited for the teardown's paint).
  let back: Promise<void> | undefined;
  onLine = (msg) => {
    if (msg !== 'recovering a Ready reply whose claim outlived its writer') return false;
    hh.slack.interject('conversations.replies', { kind: 'server-error', status: 503, done: false }, { times: 1 });
    back = hh.slack.back();
    return true;
  };
  await logged('recovering a Ready reply whose claim outlived its writer');
  await back;
  const ready = await hh.slack.waitFor('chat.postMessage', (c) => inThread(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply, once Slack is back');
  await hh.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && /is ready/.test(shownText(c)), 'the root saying Ready');
  // The Ready's last word is its notice in the team channel, and that may come well after the reply
  // and the root: it follows the launching notice, which may still be in a pause between its tries
  // from the first outage, and the root may have been painted before the reply by a reconcile of
  // its own. A system's Slack work goes one piece at a time, in order: down while that notice is on
  // its way, the teardown's paint is not tried (nor given up) until Slack is back. Only once it is
  // in is the teardown the next thing this thread has to say.
  await hh.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes(`\`${name}\``) && /is ready/.test(String(c.args.text)), 'the team channel told it is ready');

  // Down again, and the system torn down meanwhile (from the CLI's identity): the closing reply
  // waits for Slack, and names who tore it down.
  await hh.slack.outage();
  const closing = lines.length;
  await hh.tycho.launcher.down(name, 'cli:bob');
  await waitFor(async () => !(await hh.deploymentExists(name)), { what: `${name} to be gone` });
  await logged('gave up on chat.update for now', closing);
  await hh.slack.back();
  await hh.slack.waitFor('chat.postMessage', (c) => inThread(c) && String(c.args.text).startsWith('Torn down by bob'), 'the closing reply, once Slack is back');
  await hh.slack.waitFor('chat.update', (c) => c.args.ts === root.result.ts && /torn down/i.test(shownText(c)), 'the root saying it was torn down');
  await hh.slack.waitFor('chat.postMessage', (c) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes('torn down'), 'the team channel told of the teardown');

  // Each once, in order; no doubles from the tries before Slack came back.
  expect(hh.slack.messages.filter((m) => m.thread_ts === root.result.ts).map((m) => m.text?.split(/[:\s]/)[0])).toEqual(['Ready', 'Torn']);
  expect(hh.slack.messages.filter((m) => m.thread_ts === root.result.ts)[0]!.ts).toBe(ready.result.ts);
  expect(hh.slack.messages.find((m) => m.ts === root.result.ts)?.text).toMatch(/torn down/i);
  const notices = hh.slack.messages.filter((m) => m.channel === NOTIFY_CHANNEL && String(m.text).includes(`\`${name}\``)).map((m) => (/is ready/.test(String(m.text)) ? 'ready' : /torn down/.test(String(m.text)) ? 'torn down' : /launching/.test(String(m.text)) ? 'launching' : String(m.text)));
  expect(notices).toEqual(['launching', 'ready', 'torn down']);
}, 180_000);
