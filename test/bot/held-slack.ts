/**
 * An HTTP proxy in front of the fake Slack that passes every Web API call through at once but,
 * while armed, holds back Slack's answer to the matching calls until the test releases them:
 * Slack has the message (people see it and can click it) while Tycho still waits for its ts.
 * That opens a race window exactly where a test wants one, without timers.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from '../support/fake-slack.js';

/** The Web API method ("chat.postMessage") and its form fields (`text`, `thread_ts`, …). */
export type HoldWhen = (method: string, args: URLSearchParams) => boolean;


export class HeldSlack {
  /** Set to hold the answers to matching calls; unset to let everything through. */
  holdWhen?: HoldWhen;
  /** Matching calls that reached Slack and whose answers are being held now. */
  held = 0;
  private readonly waiting: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    private readonly target: string,
    readonly origin: string,
  ) {}

  /** `target`: the fake Slack's origin ("http://127.0.0.1:1234"). */
  static async start(target: string): Promise<HeldSlack> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new HeldSlack(server, target, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => void proxy.forward(req, res));
    return proxy;
  }

  /** Base URL of the Web API through this proxy, for SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'authorization']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    // Slack gets the call now: the fake records it, so the test sees (and can click) the message.
    const answer = await fetch(new URL(req.url ?? '/', this.target), { method: req.method ?? 'POST', headers, ...(body ? { body } : {}) });
    const text = await answer.text();
    const method = new URL(req.url ?? '/', this.origin).pathname.replace(/^\/api\//, '');
    if (this.holdWhen?.(method, new URLSearchParams(body))) {
      this.held += 1;
      await new Promise<void>((r) => this.waiting.push(r));
    }
    res.writeHead(answer.status, { 'Content-Type': answer.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  }

  /** Lets the held answers go to Tycho and stops holding. */
  release(): void {
    this.holdWhen = undefined;
    this.held = 0;
    for (const r of this.waiting.splice(0)) r();
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
