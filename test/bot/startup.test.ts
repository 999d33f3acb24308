/**
 * Starting the Slack front end: off without tokens, a refused token named at startup, Socket
 * Mode through a stand-in for Slack's WebSocket, and no token or secret in any log line.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConfigError, loadConfig, type Env } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startTycho, type RunningTycho } from '../../src/server/tycho.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { FakeSlack } from '../support/fake-slack.js';
import { postToSlackEndpoint, slashCommandBody } from '../support/slack-signing.js';

const BOT_TOKEN = `xoxb-${randomBytes(8).toString('hex')}-secretbot`;
const APP_TOKEN = `xapp-1-${randomBytes(8).toString('hex')}-secretapp`;
const SIGNING_SECRET = randomBytes(16).toString('hex');

let namespace: string;
let slack: FakeSlack;
let tycho: RunningTycho | undefined;
const lines: string[] = [];
const log: Logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });

beforeAll(async () => {
  namespace = await createTestNamespace('bot-startup');
  slack = await FakeSlack.start();
});
afterEach(async () => {
  await tycho?.stop();
  tycho = undefined;
});
afterAll(async () => {
  await slack?.stop();
});

const start = (env: Env) => startTycho(loadConfig({ PORT: '0', HOST: '127.0.0.1', TYCHO_NAMESPACE: namespace, TYCHO_LOCAL_CLUSTER: 'never', ...env }), log, { kubeConfig: kubeConfig() });

describe('configuration', () => {
  test('without Slack tokens the server starts, says plainly that Slack is off, and serves the health routes', async () => {
    tycho = await start({});
    expect(lines.some((l) => l.includes('Slack front end is off'))).toBe(true);
    expect((await fetch(`${tycho.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${tycho.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${tycho.url}/slack/events`, { method: 'POST', body: 'x=1' })).status).toBe(404);
  });

  test('a bot token that Slack refuses stops startup with a message naming SLACK_BOT_TOKEN', async () => {
    slack.authError = 'invalid_auth';
    try {
      const failed = start({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl });
      await expect(failed).rejects.toThrow(ConfigError);
      await expect(failed).rejects.toThrow(/SLACK_BOT_TOKEN was refused by Slack \(invalid_auth\)/);
    } finally {
      slack.authError = undefined;
    }
  });
});

describe('the installed workspace and app', () => {
  test('SLACK_TEAM_ID that the bot token contradicts stops startup, naming both', async () => {
    const failed = start({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, SLACK_TEAM_ID: 'T0SOMEWHERE' });
    await expect(failed).rejects.toThrow(ConfigError);
    await expect(failed).rejects.toThrow(/SLACK_TEAM_ID is T0SOMEWHERE, but SLACK_BOT_TOKEN belongs to T0TEST/);
  });

  test('when Slack does not name the app and SLACK_APP_ID is unset, the log says only the workspace is checked', async () => {
    const saved = slack.installation;
    slack.installation = { team_id: saved.team_id };
    try {
      tycho = await start({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl });
      expect(lines.some((l) => l.includes('requests are checked against the workspace only: set SLACK_APP_ID'))).toBe(true);
    } finally {
      slack.installation = saved;
    }
  });
});

describe('HTTP mode', () => {
  test('logs say where Slack is served, and a forged request is logged without any secret', async () => {
    tycho = await start({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl });
    expect(lines.some((l) => l.includes('HTTP mode at POST /slack/events'))).toBe(true);
    const body = slashCommandBody({ text: 'help', user_id: 'U0ALICE001', channel_id: 'C0TEAM0001', response_url: slack.responseUrl('h') });
    expect((await postToSlackEndpoint(`${tycho.url}/slack/events`, body, { secret: SIGNING_SECRET })).status).toBe(200);
    expect((await postToSlackEndpoint(`${tycho.url}/slack/events`, body, { secret: 'a'.repeat(32) })).status).toBe(401);
    // Bolt's own calls were authorised with the bot token; it must not leak into the logs (checked in afterAll).
    expect(slack.calls.some((c) => c.method === 'auth.test')).toBe(true);
  });
});

describe('Socket Mode', () => {
  let wss: WebSocketServer;
  const received: Record<string, unknown>[] = [];
  beforeAll(async () => {
    // Slack's side of Socket Mode: apps.connections.open hands out this URL; it says hello,
    // sends envelopes, and receives the acks.
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    slack.socketUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`;
    wss.on('connection', (ws: WebSocket) => {
      ws.on('message', (data) => received.push(JSON.parse(String(data)) as Record<string, unknown>));
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0TYCHO' } }));
    });
  });
  afterAll(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });

  const sendCommand = (envelope: string, text: string) => {
    const payload = Object.fromEntries(new URLSearchParams(slashCommandBody({ text, user_id: 'U0ALICE001', channel_id: 'C0TEAM0001', response_url: slack.responseUrl(envelope) })));
    for (const c of wss.clients) c.send(JSON.stringify({ envelope_id: envelope, type: 'slash_commands', accepts_response_payload: true, payload }));
  };
  const ackOf = async (envelope: string) => {
    for (;;) {
      const hit = received.find((m) => m.envelope_id === envelope);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('commands arrive over the WebSocket, are acked in the envelope, and the launch is posted through SLACK_API_URL', async () => {
    tycho = await start({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_APP_TOKEN: APP_TOKEN, SLACK_API_URL: slack.apiUrl });
    expect(lines.some((l) => l.includes('Slack front end is on (Socket Mode)'))).toBe(true);
    expect(slack.calls.some((c) => c.method === 'apps.connections.open')).toBe(true);
    // Socket Mode serves no Slack endpoint over HTTP.
    expect((await fetch(`${tycho.url}/slack/events`, { method: 'POST', body: 'x=1' })).status).toBe(404);

    // Bad input: the ack itself carries the ephemeral usage message.
    sendCommand('env-bad', 'up -n x');
    const bad = await ackOf('env-bad');
    expect(bad.payload).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(bad.payload)).toContain('Usage: /tycho up');

    sendCommand('env-up', 'up -n sock-one -c nginx -p 80');
    expect(await ackOf('env-up')).toMatchObject({ envelope_id: 'env-up' });
    const root = await slack.waitFor('chat.postMessage', (c) => String(c.args.text).includes('is launching `sock-one`') && c.args.channel === 'C0TEAM0001', 'the root message');
    await slack.waitFor('chat.postMessage', (c) => c.args.thread_ts === root.result.ts && String(c.args.text).startsWith('Ready:'), 'the Ready reply');

    sendCommand('env-down', 'down -n sock-one');
    await ackOf('env-down');
    const done = await slack.waitFor('response_url', (c) => c.tag === 'env-down', 'the teardown confirmation');
    expect(String(done.args.text)).toContain('Tore down `sock-one`');
  });
});

// Last in the file (jest runs a file's tests in order): checks what every test above logged.
test('no token or signing secret appears in any log line, in any mode', () => {
  const all = lines.join('\n');
  expect(lines.length).toBeGreaterThan(10);
  for (const secret of [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, 'secretbot', 'secretapp']) expect(all).not.toContain(secret);
});
