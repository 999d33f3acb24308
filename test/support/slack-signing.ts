/**
 * Requests built and signed exactly as Slack sends them to POST /slack/events (HTTP mode):
 * form-encoded bodies, `X-Slack-Request-Timestamp` and
 * `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body))`.
 */
import { createHmac } from 'node:crypto';
import { APP_ID, TEAM_ID } from './fake-slack.js';

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SlashCommandFields {
  text: string;
  user_id: string;
  channel_id: string;
  response_url: string;
  command?: string;
  user_name?: string;
  channel_name?: string;
  /** The workspace and app Slack says the command is for; default the ones fake-slack.ts installs. */
  team_id?: string;
  api_app_id?: string;
}

/** The form Slack posts for a slash command. */
export function slashCommandBody(f: SlashCommandFields): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: f.team_id ?? TEAM_ID,
    team_domain: 'tycho-test',
    channel_id: f.channel_id,
    channel_name: f.channel_name ?? 'team',
    user_id: f.user_id,
    user_name: f.user_name ?? f.user_id.toLowerCase(),
    command: f.command ?? '/tycho',
    text: f.text,
    api_app_id: f.api_app_id ?? APP_ID,
    is_enterprise_install: 'false',
    response_url: f.response_url,
    trigger_id: `${Date.now()}.123.abc`,
  }).toString();
}

export interface ButtonClick {
  user_id: string;
  channel_id: string;
  /** The message that holds the button, as Slack echoes it back. */
  message: { ts: string; text?: string; blocks?: unknown[]; thread_ts?: string };
  action_id: string;
  value: string;
  response_url: string;
  team_id?: string;
  api_app_id?: string;
}

/** The `payload=<json>` form Slack posts for a block_actions interaction (a button click). */
export function blockActionsBody(c: ButtonClick): string {
  const team = c.team_id ?? TEAM_ID;
  const payload = {
    type: 'block_actions',
    user: { id: c.user_id, username: c.user_id.toLowerCase(), name: c.user_id.toLowerCase(), team_id: team },
    api_app_id: c.api_app_id ?? APP_ID,
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: c.message.ts, channel_id: c.channel_id, is_ephemeral: false, ...(c.message.thread_ts ? { thread_ts: c.message.thread_ts } : {}) },
    trigger_id: `${Date.now()}.123.abc`,
    team: { id: team, domain: 'tycho-test' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: c.channel_id, name: 'team' },
    message: { type: 'message', bot_id: 'B0TYCHOBOT', ...c.message },
    state: { values: {} },
    response_url: c.response_url,
    actions: [
      { type: 'button', action_id: c.action_id, block_id: 'tycho_actions', value: c.value, text: { type: 'plain_text', text: c.action_id }, action_ts: `${Date.now() / 1000}` },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * An Events API delivery (e.g. app_home_opened): JSON, `type: event_callback`, signed like the
 * forms above. Slack sends it to the same request URL.
 */
export function eventCallbackBody(event: Record<string, unknown>, o: { team_id?: string; api_app_id?: string; event_id?: string } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: o.team_id ?? TEAM_ID,
    api_app_id: o.api_app_id ?? APP_ID,
    event: { event_ts: `${now}.000100`, ...event },
    type: 'event_callback',
    event_id: o.event_id ?? `Ev${now}${Math.floor(Math.random() * 1e6)}`,
    event_time: now,
    authorizations: [{ team_id: o.team_id ?? TEAM_ID, user_id: 'U0TYCHOBOT', is_bot: true, is_enterprise_install: false }],
  });
}

export interface HomeClick {
  user_id: string;
  action_id: string;
  value: string;
  team_id?: string;
}

/**
 * A button clicked in the App Home tab: a block_actions payload whose container is the view
 * (no channel, no message, and no response_url: Slack gives none for the Home tab).
 */
export function homeActionsBody(c: HomeClick): string {
  const team = c.team_id ?? TEAM_ID;
  const payload = {
    type: 'block_actions',
    user: { id: c.user_id, username: c.user_id.toLowerCase(), name: c.user_id.toLowerCase(), team_id: team },
    api_app_id: APP_ID,
    token: 'deprecated-verification-token',
    container: { type: 'view', view_id: 'V0HOME0001' },
    trigger_id: `${Date.now()}.123.abc`,
    team: { id: team, domain: 'tycho-test' },
    enterprise: null,
    is_enterprise_install: false,
    view: { id: 'V0HOME0001', team_id: team, type: 'home', blocks: [], private_metadata: '', callback_id: '', state: { values: {} }, hash: '1.1', app_id: APP_ID, bot_id: 'B0TYCHOBOT' },
    actions: [
      { type: 'button', action_id: c.action_id, block_id: 'tycho_actions', value: c.value, text: { type: 'plain_text', text: c.action_id }, action_ts: `${Date.now() / 1000}` },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface SendOptions {
  secret: string;
  /** application/x-www-form-urlencoded unless given (Events API deliveries are application/json). */
  contentType?: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  /** Overrides the computed signature (a forgery). */
  signature?: string;
  /** Sets X-Slack-Retry-Num, as Slack does on a redelivery. */
  retryNum?: number;
}

export interface SlackPostResult {
  status: number;
  text: string;
  /** The body as JSON, or undefined when it is empty or not JSON. */
  json: Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function postToSlackEndpoint(url: string, body: string, o: SendOptions): Promise<SlackPostResult> {
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': o.contentType ?? 'application/x-www-form-urlencoded',
      'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': o.signature ?? slackSignature(o.secret, timestamp, body),
      ...(o.retryNum !== undefined ? { 'X-Slack-Retry-Num': String(o.retryNum), 'X-Slack-Retry-Reason': 'http_timeout' } : {}),
    },
    body,
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}
