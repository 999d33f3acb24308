/**
 * The real server path, logging at debug level into a captured stream: a secret passed with
 * `-e API_KEY=…` or `--command "… --token=…"` (from Slack and from the REST API, on success
 * and on failure) appears in no log line. The lines that do mention the requests (a refused
 * REST call, a rejected body) are checked to be there, so the stream really was captured.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { OWNER_HEADER } from '../../src/api/wire.js';
import { createLogger } from '../../src/log.js';
import { call } from '../api/helpers.js';
import type { SlackCall } from '../support/fake-slack.js';
import { NOTIFY_CHANNEL, startBotHarness, type BotHarness } from './harness.js';

const SECRET = 'abc123';
const lines: string[] = [];
let h: BotHarness;

beforeAll(async () => {
  h = await startBotHarness('bot-log-secrets', { log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) });
});
afterAll(async () => {
  await h?.stop();
});

const rootOf = (name: string) => (c: SlackCall) => !c.args.thread_ts && c.args.channel !== NOTIFY_CHANNEL && String(c.args.text).includes(`\`${name}\``);
const inThread = (root: SlackCall) => (c: SlackCall) => c.args.thread_ts === root.result.ts;

test(`-e API_KEY=${SECRET} is in no log line, whatever happens to the launch`, async () => {
  // Slack: a launch that becomes ready, its status, its teardown.
  await h.slash(`up -n keyed-app -c nginx -p 80 -e API_KEY=${SECRET} --command "serve --token=${SECRET}"`);
  const root = await h.slack.waitFor('chat.postMessage', rootOf('keyed-app'), 'the root message');
  await h.slack.waitFor('chat.postMessage', (c) => inThread(root)(c) && String(c.args.text).startsWith('Ready:'), 'the Ready reply');
  const status = await h.slash('status -n keyed-app');
  await h.slack.waitFor('response_url', (c) => c.tag === status.tag, 'the status answer');

  // Slack: a launch that fails (the container crashes), and one whose name is taken.
  await h.slash(`up -n keyed-crash -c example/crashloop:1 -p 80 -e API_KEY=${SECRET}`);
  const crashRoot = await h.slack.waitFor('chat.postMessage', rootOf('keyed-crash'), 'the crash root');
  await h.slack.waitFor('chat.postMessage', (c) => inThread(crashRoot)(c) && String(c.args.text).includes('keeps exiting'), 'the crash reply');
  await h.slash(`up -n keyed-app -c nginx -p 80 -e API_KEY=${SECRET}`, { user: 'U0BOB00001' });
  await h.slack.waitFor('chat.postMessage', (c) => String(c.args.text).includes('already in use'), 'the name clash');

  // REST: a clash (logged as a failed request) and a bad body (logged as rejected).
  const clash = await call(h.tycho.url, '/system/start', { name: 'keyed-app', containers: [{ image: 'nginx', env: [`API_KEY=${SECRET}`], ports: [{ containerPort: 80 }] }] }, { headers: { [OWNER_HEADER]: 'carol' } });
  expect(clash.status).toBe(409);
  const bad = await call(h.tycho.url, '/system/start', { name: 'keyed-bad', containers: [{ image: 'nginx', env: [`API_KEY=${SECRET}`], ports: [{ containerPort: 'x' }] }] });
  expect(bad.status).toBe(400);

  const down = await h.slash('down keyed-app', { tag: 'keyed-down' });
  await h.slack.waitFor('response_url', (c) => c.tag === down.tag, 'the teardown');

  expect(lines.some((l) => l.includes('"api request failed"') && l.includes('keyed-app'))).toBe(true);
  expect(lines.some((l) => l.includes('"api request rejected"'))).toBe(true);
  expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);

});
