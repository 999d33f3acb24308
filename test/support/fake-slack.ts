/**
 * Stands in for Slack's Web API at the network boundary: a local HTTP server that records
 * every call (method + arguments) and answers as Slack does (`ok`, `ts`, `channel`, …).
 * It is also the target of `response_url` posts, recorded as method "response_url", and of
 * file uploads to the URLs files.getUploadURLExternal hands out, recorded as "file.upload".
 * Point the bot at it with SLACK_API_URL=fake.apiUrl.
 *
 * It keeps the messages posted, so conversations.replies and conversations.history read them
 * back (with their message metadata when include_all_metadata is set, as Slack does), and a
 * test can make chosen calls fail as Slack and networks do (interject()).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  /**
   * When the request arrived and when it was answered, as places in one count of the fake's
   * events: two calls were in flight at once when one arrived before the other was answered.
   */
  arrived?: number;
  answered?: number;
}

/** A message as the fake keeps it, and as conversations.replies and .history hand it out. */
export interface FakeMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown;
  /** Slack message metadata as posted; handed out only when include_all_metadata is set. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/**
 * An answer other than Slack's success, for the next calls of a method (interject()):
 * - `ratelimited`: HTTP 429 with Retry-After; nothing is done (recorded as "<method>:ratelimited");
 * - `held`: the call is done (recorded, the message exists) but the answer is held back until
 *   releaseHeld(): a client that times out meanwhile does not know Slack took it;
 * - `server-error`: an HTTP 5xx, after doing the call (`done`, recorded as the method) or not
 *   (recorded as "<method>:failed").
 */
export type Interjection = { kind: 'ratelimited'; retryAfterSeconds: number } | { kind: 'held' } | { kind: 'server-error'; status: number; done: boolean };

interface InterjectionRule {
  method: string;
  answer: Interjection;
  when: (args: Record<string, any>) => boolean; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Calls left to answer so; Infinity for all. */
  left: number;
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
  /** How long each call takes to be answered, as over a network (0: at once): calls sent together are then in flight together. */
  latencyMs = 0;
  /** Every message posted (and not refused), in the order posted. */
  readonly messages: FakeMessage[] = [];
  /**
   * Most messages one page of conversations.replies or .history holds, whatever `limit` asks
   * (Slack may return fewer than asked): set low to make a reader follow next_cursor.
   */
  pageLimit = 1000;
  /**
   * Files handed an upload URL (files.getUploadURLExternal), by file id, with the bytes POSTed to
   * it (recorded as method "file.upload"); files.completeUploadExternal shares only uploaded ones.
   */
  readonly uploads = new Map<string, { filename: string; length: number; content?: string }>();
  private readonly rules: InterjectionRule[] = [];
  private readonly held = new Set<() => void>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private counter = 0;
  /** Requests arrived and answers sent, counted together (SlackCall.arrived, .answered). */
  private events = 0;
  private readonly waiters = new Set<() => void>();
  private down = false;

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
      // Arrived when its headers did, before its body is read: as a client's call is in flight.
      const arrived = ++fake.events;
      void readBody(req)
        .then(async (body) => {
          if (fake.latencyMs > 0) await new Promise((r) => setTimeout(r, fake.latencyMs));
          return body;
        })
        .then((body) => fake.handle(req, res, body, arrived));
    });
    return fake;
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string, arrived: number): void {
    const url = new URL(req.url ?? '/', this.origin);
    const args = parseArgs(body, String(req.headers['content-type'] ?? ''));
    // Recorded first, then answered, then the waiters told: a test that sees a call can count on it.
    const answer = (call: SlackCall, status = 200, headers: Record<string, string> = {}, body = call.result) => {
      this.calls.push(Object.assign(call, { arrived, answered: ++this.events }));
      // A client that gave up (its timeout) has closed the socket: the answer goes nowhere.
      if (!res.destroyed) {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      }
      for (const w of [...this.waiters]) w();
    };
    // Slack's file upload service: the bytes of a file files.getUploadURLExternal handed a URL for.
    if (url.pathname.startsWith('/upload/')) {
      const fileId = decodeURIComponent(url.pathname.slice('/upload/'.length));
      const known = this.uploads.get(fileId);
      if (known) known.content = body;
      answer({ method: 'file.upload', args: { file_id: fileId, content: body, content_type: String(req.headers['content-type'] ?? '') }, result: { ok: !!known } }, known ? 200 : 404);
      return;
    }
    if (url.pathname.startsWith('/response/')) {
      answer({ method: 'response_url', args, result: { ok: true }, tag: decodeURIComponent(url.pathname.slice('/response/'.length)) });
      return;
    }
    const method = url.pathname.replace(/^\/api\//, '');
    const interjected = this.interjection(method, args);
    const wait = interjected?.kind === 'ratelimited' ? interjected.retryAfterSeconds : method === 'chat.postMessage' ? this.overLimit(String(args.channel ?? '')) : 0;
    if (wait > 0) {
      answer({ method: `${method}:ratelimited`, args, result: { ok: false, error: 'ratelimited' } }, 429, { 'Retry-After': String(wait) });
      return;
    }
    if (interjected?.kind === 'server-error') {
      // Done or not, the client hears only that the server failed.
      const failed = { ok: false, error: 'fatal_error' };
      if (interjected.done) answer({ method, args, result: this.answer(method, args) }, interjected.status, {}, failed);
      else answer({ method: `${method}:failed`, args, result: failed }, interjected.status);
      return;
    }
    const call: SlackCall = { method, args, result: this.answer(method, args) };
    if (interjected?.kind !== 'held') return answer(call);
    // Done and recorded now; the answer waits for releaseHeld() (answered then).
    this.calls.push(Object.assign(call, { arrived }));
    for (const w of [...this.waiters]) w();
    const release = () => {
      this.held.delete(release);
      call.answered = ++this.events;
      if (res.destroyed) return;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(call.result));
    };
    this.held.add(release);
  }

  /**
   * The next `times` calls of `method` (all of them if unset) that `when` accepts are answered
   * with `answer` instead of as Slack would.
   */
  interject(method: string, answer: Interjection, opts: { times?: number; when?: (args: Record<string, any>) => boolean } = {}): void { // eslint-disable-line @typescript-eslint/no-explicit-any
    this.rules.push({ method, answer, when: opts.when ?? (() => true), left: opts.times ?? Infinity });
  }

  private interjection(method: string, args: Record<string, unknown>): Interjection | undefined {
    const rule = this.rules.find((r) => r.method === method && r.left > 0 && r.when(args));
    if (!rule) return undefined;
    rule.left -= 1;
    return rule.answer;
  }

  /** Sends the answers held back so far (to whoever still listens). */
  releaseHeld(): void {
    for (const release of [...this.held]) release();
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
    // As Slack: a block_id is unique within a message or view; a repeated one refuses it.
    const blocks = method === 'views.publish' ? (args.view as { blocks?: unknown } | undefined)?.blocks : args.blocks;
    if (hasRepeatedBlockId(blocks)) return { ok: false, error: 'invalid_blocks' };
    switch (method) {
      case 'auth.test':
        if (this.authError) return { ok: false, error: this.authError };
        return { ok: true, url: TEAM_URL, team: 'Tycho Test', user: 'tycho', user_id: BOT_USER_ID, bot_id: BOT_ID, ...this.installation };
      case 'chat.postMessage': {
        if (this.refuseChannels.has(channel)) return { ok: false, error: 'not_in_channel' };
        // As Slack: a message to a user ID goes to the bot's direct message with them (a D… channel).
        if (/^[UW]/.test(channel)) return this.answer(method, { ...args, channel: dmOf(channel) });
        const ts = this.nextTs();
        const kept: FakeMessage = { channel, ts, text: args.text as string, ...(args.blocks ? { blocks: args.blocks } : {}), ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}), ...(args.metadata ? { metadata: args.metadata as FakeMessage['metadata'] } : {}) };
        this.messages.push(kept);
        return { ok: true, channel, ts, message: { type: 'message', text: args.text, ts, bot_id: BOT_ID, ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}) } };
      }
      case 'chat.update': {
        const kept = this.messages.find((m) => m.channel === channel && m.ts === args.ts);
        if (kept) Object.assign(kept, { text: args.text, ...(args.blocks ? { blocks: args.blocks } : {}) });
        return { ok: true, channel, ts: args.ts, text: args.text };
      }
      case 'conversations.replies':
        return this.replies(channel, String(args.ts ?? ''), args);
      case 'conversations.history':
        return this.history(channel, args);
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.getPermalink':
        return { ok: true, channel, permalink: `${TEAM_URL}archives/${channel}/p${String(args.message_ts).replace('.', '')}` };
      case 'files.getUploadURLExternal': {
        if (!args.filename || !Number(args.length)) return { ok: false, error: 'missing_argument' };
        const id = `F${String(++this.counter).padStart(8, '0')}`;
        this.uploads.set(id, { filename: String(args.filename), length: Number(args.length) });
        return { ok: true, upload_url: `${this.origin}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = (args.files ?? []) as { id: string; title?: string }[];
        if (!files.length || files.some((f) => this.uploads.get(f.id)?.content === undefined)) return { ok: false, error: 'file_not_found' };
        if (args.channel_id && this.refuseChannels.has(String(args.channel_id))) return { ok: false, error: 'not_in_channel' };
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? this.uploads.get(f.id)!.filename, name: this.uploads.get(f.id)!.filename })) };
      }
      case 'views.publish': {
        // As Slack: the published view back, with an id; a view over 100 blocks is refused.
        const view = (args.view ?? {}) as { type?: string; blocks?: unknown[] };
        if (!args.user_id || view.type !== 'home') return { ok: false, error: 'invalid_arguments' };
        if ((view.blocks ?? []).length > 100) return { ok: false, error: 'invalid_blocks' };
        return { ok: true, view: { id: `V${String(++this.counter).padStart(8, '0')}`, ...view } };
      }
      case 'apps.connections.open':
        return this.socketUrl ? { ok: true, url: this.socketUrl } : { ok: false, error: 'invalid_auth' };
      default:
        return { ok: true };
    }
  }

  /**
   * A thread, oldest first: the parent and its replies. As Slack: `ts` may name any message of
   * the thread; an unknown one is thread_not_found.
   */
  private replies(channel: string, ts: string, args: Record<string, unknown>): Record<string, unknown> {
    const named = this.messages.find((m) => m.channel === channel && m.ts === ts);
    if (!named) return { ok: false, error: 'thread_not_found' };
    const parent = named.thread_ts ?? named.ts;
    const thread = this.messages.filter((m) => m.channel === channel && (m.ts === parent || m.thread_ts === parent)).sort((a, b) => compareTs(a.ts, b.ts));
    return this.page(thread, args);
  }

  /** A channel's messages outside threads (and threads' parents), newest first, within oldest/latest. */
  private history(channel: string, args: Record<string, unknown>): Record<string, unknown> {
    if (this.refuseChannels.has(channel)) return { ok: false, error: 'not_in_channel' };
    const inclusive = args.inclusive === 'true' || args.inclusive === true;
    const after = (ts: string, bound: unknown) => bound === undefined || (inclusive ? compareTs(ts, String(bound)) >= 0 : compareTs(ts, String(bound)) > 0);
    const before = (ts: string, bound: unknown) => bound === undefined || (inclusive ? compareTs(ts, String(bound)) <= 0 : compareTs(ts, String(bound)) < 0);
    const top = this.messages.filter((m) => m.channel === channel && (!m.thread_ts || m.thread_ts === m.ts) && after(m.ts, args.oldest) && before(m.ts, args.latest)).sort((a, b) => compareTs(b.ts, a.ts));
    return this.page(top, args);
  }

  /** One page of messages, as Slack pages them: `limit`, a cursor, has_more and next_cursor. */
  private page(all: FakeMessage[], args: Record<string, unknown>): Record<string, unknown> {
    const start = args.cursor ? Number(Buffer.from(String(args.cursor), 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
    if (!Number.isInteger(start) || start < 0) return { ok: false, error: 'invalid_cursor' };
    const size = Math.min(Number(args.limit ?? 1000) || 1000, this.pageLimit);
    const withMetadata = args.include_all_metadata === 'true' || args.include_all_metadata === true || args.include_all_metadata === '1';
    const messages = all.slice(start, start + size).map(({ channel: _channel, metadata, ...m }) => ({
      type: 'message',
      bot_id: BOT_ID,
      app_id: APP_ID,
      ...m,
      ...(withMetadata && metadata ? { metadata } : {}),
    }));
    const more = start + size < all.length;
    return { ok: true, messages, has_more: more, response_metadata: { next_cursor: more ? Buffer.from(`offset:${start + size}`).toString('base64') : '' } };
  }

  /** Every Home tab published for this user (views.publish), oldest first. */
  homesOf(user: string): SlackCall[] {
    return this.find('views.publish', (c) => c.args.user_id === user && c.result.ok === true);
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

  /**
   * Slack unreachable, as when the stand-in is stopped: the port stops listening (new connections
   * are refused) and the connections open now are closed. back() listens on the same port again.
   */
  async outage(): Promise<void> {
    this.down = true;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  async back(): Promise<void> {
    if (!this.down) return;
    this.down = false;
    this.server.listen(Number(new URL(this.origin).port), '127.0.0.1');
    await once(this.server, 'listening');
  }

  async stop(): Promise<void> {
    if (this.down) return;
    this.held.clear();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** The direct message channel between the bot and this user, as the fake names it. */
export function dmOf(user: string): string {
  return `D${user.slice(1)}`;
}

/** Slack's ts ("1700000000.000123") in time order. */
function compareTs(a: string, b: string): number {
  const [as = '0', af = ''] = a.split('.');
  const [bs = '0', bf = ''] = b.split('.');
  return Number(as) - Number(bs) || Number(af.padEnd(6, '0')) - Number(bf.padEnd(6, '0'));
}

/** Whether two blocks of a message (an array, or its JSON as a form sends it) share a block_id. */
function hasRepeatedBlockId(blocks: unknown): boolean {
  let list: unknown = blocks;
  if (typeof blocks === 'string') {
    try {
      list = JSON.parse(blocks);
    } catch {
      return false;
    }
  }
  if (!Array.isArray(list)) return false;
  const ids = list.map((b) => (b as { block_id?: unknown })?.block_id).filter((id) => id !== undefined);
  return new Set(ids).size !== ids.length;
}
