/**
 * Stands in for Slack's Web API at the network boundary: a local HTTP server that records
 * every call (method + arguments) and answers as Slack does (`ok`, `ts`, `channel`, …).
 * It is also the target of `response_url` posts, recorded as method "response_url".
 * Point the bot at it with SLACK_API_URL=fake.apiUrl.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  /** "chat.postMessage", "chat.update", … or "response_url". */
  method: string;
  /** Form fields (JSON-valued ones such as `blocks` parsed) or the JSON body. */
  args: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** What the fake answered (e.g. the new message's `ts`). */
  result: Record<string, unknown>;
  /** For response_url posts: the tag given to responseUrl(). */
  tag?: string;
}

export const TEAM_URL = 'https://tycho-test.slack.com/';
export const BOT_USER_ID = 'U0TYCHOBOT';
export const BOT_ID = 'B0TYCHOBOT';
/** The workspace and app the bot token belongs to; slack-signing.ts sends requests from them by default. */
export const TEAM_ID = 'T0TEST';
export const APP_ID = 'A0TYCHO';

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The Web API client sends forms whose object-valued fields (blocks) are JSON strings. */
function parseArgs(body: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) return body ? (JSON.parse(body) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
  }
  return out;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  /** Channels where chat.postMessage answers not_in_channel, as Slack does for a bot that wasn't invited. */
  readonly refuseChannels = new Set<string>();
  /** When set, auth.test answers with this error (e.g. "invalid_auth"), as Slack does for a bad token. */
  authError?: string;
  /**
   * What auth.test says about the token beyond the bot's own IDs. Slack's client types declare
   * `app_id` as optional, so tests also run without it.
   */
  installation: { team_id: string; app_id?: string; enterprise_id?: string; is_enterprise_install?: boolean } = { team_id: TEAM_ID, app_id: APP_ID };
  /** What apps.connections.open hands out (Socket Mode tests). */
  socketUrl?: string;
  /**
   * When set, chat.postMessage is limited per channel as Slack limits it (about one message per
   * second per channel, short bursts allowed): a token bucket of `burst` messages refilled at
   * `perSecond`. Over it, the answer is HTTP 429 with Retry-After, and the message is not posted
   * (the call is recorded as "chat.postMessage:ratelimited").
   */
  postRateLimit?: { perSecond: number; burst: number };
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private counter = 0;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<FakeSlack> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const fake = new FakeSlack(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      void readBody(req).then((body) => {
        const url = new URL(req.url ?? '/', fake.origin);
        const args = parseArgs(body, String(req.headers['content-type'] ?? ''));
        let call: SlackCall;
        if (url.pathname.startsWith('/response/')) {
          call = { method: 'response_url', args, result: { ok: true }, tag: decodeURIComponent(url.pathname.slice('/response/'.length)) };
        } else {
          const method = url.pathname.replace(/^\/api\//, '');
          const wait = method === 'chat.postMessage' ? fake.overLimit(String(args.channel ?? '')) : 0;
          if (wait > 0) {
            const result = { ok: false, error: 'ratelimited' };
            fake.calls.push({ method: `${method}:ratelimited`, args, result });
            res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': String(wait) });
            res.end(JSON.stringify(result));
            return;
          }
          call = { method, args, result: fake.answer(method, args) };
        }
        fake.calls.push(call);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(call.result));
        for (const w of [...fake.waiters]) w();
      });
    });
    return fake;
  }

  /** Base URL of the Web API, for SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  /** A response_url whose posts are recorded with this tag. */
  responseUrl(tag: string): string {
    return `${this.origin}/response/${encodeURIComponent(tag)}`;
  }

  /** 0 if a message may be posted in the channel now (and takes its token), else whole seconds to wait. */
  private overLimit(channel: string): number {
    const limit = this.postRateLimit;
    if (!limit) return 0;
    const now = Date.now();
    const b = this.buckets.get(channel) ?? { tokens: limit.burst, at: now };
    b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.perSecond);
    b.at = now;
    this.buckets.set(channel, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond));
  }

  private nextTs(): string {
    this.counter += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.counter).padStart(6, '0')}`;
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const channel = String(args.channel ?? '');
    switch (method) {
      case 'auth.test':
        if (this.authError) return { ok: false, error: this.authError };
        return { ok: true, url: TEAM_URL, team: 'Tycho Test', user: 'tycho', user_id: BOT_USER_ID, bot_id: BOT_ID, ...this.installation };
      case 'chat.postMessage': {
        if (this.refuseChannels.has(channel)) return { ok: false, error: 'not_in_channel' };
        const ts = this.nextTs();
        return { ok: true, channel, ts, message: { type: 'message', text: args.text, ts, bot_id: BOT_ID, ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}) } };
      }
      case 'chat.update':
        return { ok: true, channel, ts: args.ts, text: args.text };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.getPermalink':
        return { ok: true, channel, permalink: `${TEAM_URL}archives/${channel}/p${String(args.message_ts).replace('.', '')}` };
      case 'apps.connections.open':
        return this.socketUrl ? { ok: true, url: this.socketUrl } : { ok: false, error: 'invalid_auth' };
      default:
        return { ok: true };
    }
  }

  /** Calls of one method, optionally filtered. */
  find(method: string, pred: (c: SlackCall) => boolean = () => true): SlackCall[] {
    return this.calls.filter((c) => c.method === method && pred(c));
  }

  /**
   * Resolves with the first recorded call (past or future) that matches. The bound only turns
   * a hang into a readable failure; it is not a timing assertion.
   */
  waitFor(method: string, pred: (c: SlackCall) => boolean, what: string, timeoutMs = 45_000): Promise<SlackCall> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.calls.find((c) => c.method === method && pred(c));
        if (!hit) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.calls.map((c) => `${c.method} ${JSON.stringify(c.args.text ?? '')}`).join('\n  ');
        reject(new Error(`Fake Slack never saw ${method}: ${what}. Calls so far:\n  ${seen}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
