/**
 * Posting to Slack from the middle of a Kubernetes flow. A Slack hiccup must never abort a
 * launch or a teardown half-way, so these log a failed call and carry on. (The WebClient
 * itself retries transient errors.)
 *
 * Rate limits are handled here, not by the WebClient: on a 429 it would pause its whole queue,
 * so one busy channel would hold up every other channel and every chat.update, and under a
 * sustained burst a message could run out of retries and be lost. The client is built with
 * `rejectRateLimitedCalls` (app.ts), and here:
 * - posts to one channel go one at a time (Slack allows about one per second per channel), so
 *   a refusal stops that channel only, once, rather than every waiting post at once;
 * - a refused call waits the Retry-After Slack gave and is tried again, for as long as
 *   RATE_LIMIT_PATIENCE_MS: a message waits, it is not dropped.
 */
import type { Message, Notice, RootFacts } from './blocks.js';
import { noticeMessage } from './blocks.js';
import type { BotContext, ThreadRef, WebClient } from './context.js';
import type { Logger } from '../log.js';
import { KeyedQueue } from '../concurrency.js';

/** Slack's error code ("not_in_channel") or the failure's message; never a token. */
export function slackError(e: unknown): string {
  const data = (e as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : e instanceof Error ? e.message : String(e);
}

/** How long a call refused for rate limits keeps being tried again. */
const RATE_LIMIT_PATIENCE_MS = 15 * 60_000;

/** Seconds Slack said to wait, when the call was refused for rate limits. */
function retryAfterOf(e: unknown): number | undefined {
  const r = e as { code?: unknown; retryAfter?: unknown } | null;
  return r?.code === 'slack_webapi_rate_limited_error' && typeof r.retryAfter === 'number' ? r.retryAfter : undefined;
}

async function honouringRetryAfter<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + RATE_LIMIT_PATIENCE_MS;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      const seconds = retryAfterOf(e);
      if (seconds === undefined || Date.now() + seconds * 1000 > deadline) throw e;
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
  }
}

/**
 * Each channel's posts, per bot token: Bolt hands each request a WebClient of its own, so the
 * clients of one token (one bot, one set of Slack limits) must share them. A post cannot hang its
 * channel for ever: the client has a timeout (app.ts).
 */
const lanes = new Map<string, KeyedQueue<string>>();

function inChannelLane<T>(client: WebClient, channel: string, work: () => Promise<T>): Promise<T> {
  const bot = client.token ?? '';
  let byChannel = lanes.get(bot);
  if (!byChannel) lanes.set(bot, (byChannel = new KeyedQueue()));
  return byChannel.run(channel, work);
}

export class SlackIO {
  constructor(
    readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  /** Returns the new message's ts, or undefined if Slack refused. */
  /** `metadata`: Slack message metadata, so a message says which system and which key it is. */
  async post(channel: string, m: Message, threadTs?: string, metadata?: { event_type: string; event_payload: Record<string, string> }): Promise<string | undefined> {
    try {
      const res = await inChannelLane(this.client, channel, () =>
        honouringRetryAfter(() =>
          this.client.chat.postMessage({
            channel,
            text: m.text,
            blocks: m.blocks,
            ...(threadTs ? { thread_ts: threadTs } : {}),
            ...(metadata ? { metadata } : {}),
            // App URLs are often internal addresses; a preview would only say "can't reach".
            unfurl_links: false,
            unfurl_media: false,
          }),
        ),
      );
      return res.ts;
    } catch (e) {
      this.log.warn('Slack refused chat.postMessage', { channel, error: slackError(e) });
      return undefined;
    }
  }

  async update(ref: ThreadRef, m: Message): Promise<boolean> {
    try {
      await honouringRetryAfter(() => this.client.chat.update({ channel: ref.channel, ts: ref.ts, text: m.text, blocks: m.blocks }));
      return true;
    } catch (e) {
      this.log.warn('Slack refused chat.update', { channel: ref.channel, error: slackError(e) });
      return false;
    }
  }

  /** chat.getPermalink needs no scope and knows the workspace's own domain. */
  async permalink(ref: ThreadRef): Promise<string | undefined> {
    try {
      return (await honouringRetryAfter(() => this.client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts }))).permalink;
    } catch (e) {
      this.log.warn('Slack refused chat.getPermalink', { channel: ref.channel, error: slackError(e) });
      return undefined;
    }
  }

  /**
   * Tells the team channel, with a link to the thread. Skipped when the thread is in that
   * channel already: its members see the root message change.
   */
  async notify(ctx: Pick<BotContext, 'notifyChannel'>, facts: RootFacts, notice: Notice, thread?: ThreadRef): Promise<void> {
    if (!ctx.notifyChannel || thread?.channel === ctx.notifyChannel) return;
    const link = thread ? await this.permalink(thread) : undefined;
    await this.post(ctx.notifyChannel, noticeMessage(facts, notice, link));
  }
}
