/**
 * The ack baseline: a minimal Bolt app with the same receiver Tycho uses in HTTP mode (Bolt's
 * ExpressReceiver on an express app, the same signing secret check, no auth.test per request)
 * whose slash command does nothing but ack. Run as `node dist/bench/bare-bolt-app.js` with
 * SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL; logs the "listening" line Tycho logs.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { App, ExpressReceiver, LogLevel } from '@slack/bolt';
import express from 'express';
import { BENCH_BOT } from './slack-sink.js';

const http = express();
const receiver = new ExpressReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '', endpoints: '/slack/events', app: http, logLevel: LogLevel.ERROR });
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  botId: BENCH_BOT.botId,
  botUserId: BENCH_BOT.userId,
  tokenVerificationEnabled: false,
  receiver,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});
app.command(/^\//, async ({ ack }) => {
  await ack();
});
const server = http.listen(0, '127.0.0.1');
await once(server, 'listening');
process.stderr.write(`${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
