/**
 * Sends `/tycho …` to a Slack HTTP endpoint exactly as Slack does: the form it posts, signed
 * with the app's signing secret (v0 HMAC-SHA256 over "v0:timestamp:body"). Returns how long the
 * ack took to arrive.
 */
import { createHmac } from 'node:crypto';
import { epochMs } from './clock.js';

export interface SlashCommand {
  /** Base URL of the app; the command goes to POST /slack/events. */
  url: string;
  secret: string;
  text: string;
  userId: string;
  channelId: string;
  responseUrl: string;
}

export interface Ack {
  status: number;
  /** When the request was sent (epoch ms) and how long until the answer's headers arrived. */
  sentAt: number;
  ms: number;
}

export async function sendSlashCommand(c: SlashCommand): Promise<Ack> {
  const body = new URLSearchParams({
    token: 'unused-verification-token',
    team_id: 'T0BENCH',
    team_domain: 'tycho-bench',
    channel_id: c.channelId,
    channel_name: 'bench',
    user_id: c.userId,
    user_name: c.userId.toLowerCase(),
    command: '/tycho',
    text: c.text,
    api_app_id: 'A0BENCH',
    is_enterprise_install: 'false',
    response_url: c.responseUrl,
    trigger_id: `${Date.now()}.1.bench`,
  }).toString();
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', c.secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  const sentAt = epochMs();
  const res = await fetch(`${c.url}/slack/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': signature },
    body,
  });
  const ms = epochMs() - sentAt;
  await res.arrayBuffer();
  return { status: res.status, sentAt, ms };
}
