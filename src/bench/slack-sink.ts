/**
 * Stands in for Slack's Web API during the benchmark: answers as Slack does and notes, for
 * every system, when its thread was opened, when the URL was posted in it, and whether it ended
 * in failure or a teardown, with the time each call arrived. A thread is tied to a system by its
 * root message, which names the system in backticks.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { epochMs } from './clock.js';

export const BENCH_BOT = { userId: 'U0BENCHBOT', botId: 'B0BENCHBOT' };

export interface Thread {
  name: string;
  channel: string;
  rootTs: string;
  rootAt: number;
  /** The first reply in the thread that carries a URL (the Ready reply). */
  urlAt?: number;
  url?: string;
  urlReplies: number;
  /** The root turned to "failed", and what it says (the first block's text: title and reason). */
  failedAt?: number;
  failedText?: string;
  failures: number;
  tornDownAt?: number;
}

const URL_RE = /https?:\/\/[^\s>|]+/;
const NAME_RE = /`([a-z][a-z0-9-]*)`/;

function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (String(req.headers['content-type']).includes('json')) {
        try {
          resolve(JSON.parse(body || '{}') as Record<string, string>);
        } catch {
          resolve({});
        }
      } else resolve(Object.fromEntries(new URLSearchParams(body)));
    });
  });
}

/** The Web API client sends `blocks` as a JSON string in the form. */
function firstBlockText(blocks: string | undefined): string | undefined {
  try {
    const b = JSON.parse(blocks ?? '') as { text?: { text?: string } }[];
    return b[0]?.text?.text;
  } catch {
    return undefined;
  }
}

export class SlackSink {
  /** By system name. A second root for the same name is counted, not kept. */
  readonly threads = new Map<string, Thread>();
  readonly rootsByName = new Map<string, number>();
  calls = 0;
  /** Calls by Web API method (chat.postMessage, chat.update, …), for what a measurement cost Slack. */
  readonly byMethod = new Map<string, number>();
  private readonly byTs = new Map<string, Thread>();
  private counter = 0;
  private waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<SlackSink> {
    const server = createServer();
    // Hundreds of launches post at once; keep the listen queue out of the measurement.
    server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 });
    await once(server, 'listening');
    const sink = new SlackSink(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      void readForm(req).then((args) => {
        const at = epochMs();
        const method = new URL(req.url ?? '/', sink.origin).pathname.replace(/^\/api\//, '');
        const answer = sink.record(method, args, at);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer));
        for (const w of [...sink.waiters]) w();
      });
    });
    return sink;
  }

  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  /** Where slash-command responses (response_url) go. */
  get responseUrl(): string {
    return `${this.origin}/response`;
  }

  private record(method: string, a: Record<string, string>, at: number): Record<string, unknown> {
    this.calls += 1;
    this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
    const channel = a.channel ?? '';
    const text = a.text ?? '';
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://tycho-bench.slack.com/', team_id: 'T0BENCH', user_id: BENCH_BOT.userId, bot_id: BENCH_BOT.botId };
      case 'chat.postMessage': {
        this.counter += 1;
        const ts = `${Math.floor(at / 1000)}.${String(this.counter).padStart(6, '0')}`;
        if (a.thread_ts) this.reply(this.byTs.get(a.thread_ts), text, at);
        else this.root(channel, ts, text, at);
        return { ok: true, channel, ts, message: { ts, text } };
      }
      case 'chat.update': {
        const t = this.byTs.get(a.ts ?? '');
        if (t && / failed: /.test(text)) {
          t.failures += 1;
          t.failedAt ??= at;
          t.failedText ??= firstBlockText(a.blocks) ?? text;
        }
        if (t && /was torn down/.test(text)) t.tornDownAt ??= at;
        return { ok: true, channel, ts: a.ts, text };
      }
      case 'chat.getPermalink':
        return { ok: true, channel, permalink: `https://tycho-bench.slack.com/archives/${channel}/p${String(a.message_ts).replace('.', '')}` };
      default:
        return { ok: true };
    }
  }

  private root(channel: string, ts: string, text: string, at: number): void {
    const name = NAME_RE.exec(text)?.[1];
    if (!name) return;
    this.rootsByName.set(name, (this.rootsByName.get(name) ?? 0) + 1);
    if (this.threads.has(name)) return;
    const t: Thread = { name, channel, rootTs: ts, rootAt: at, urlReplies: 0, failures: 0 };
    this.threads.set(name, t);
    this.byTs.set(ts, t);
  }

  private reply(t: Thread | undefined, text: string, at: number): void {
    const url = URL_RE.exec(text)?.[0];
    if (!t || !url) return;
    t.urlReplies += 1;
    t.urlAt ??= at;
    t.url ??= url;
  }

  /** Resolves when check() holds for the recorded calls; `what` names it in the timeout error. */
  waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const probe = () => {
        if (!check()) return;
        this.waiters.delete(probe);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(probe);
        reject(new Error(`Slack never saw ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiters.add(probe);
      probe();
    });
  }

  /** The launch of `name` has ended in Slack: its URL was posted, or its root says it failed. */
  finished(name: string): boolean {
    const t = this.threads.get(name);
    return !!t && (t.urlAt !== undefined || t.failedAt !== undefined);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
