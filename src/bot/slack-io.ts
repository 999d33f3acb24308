/**
 * Posting to Slack from the middle of a Kubernetes flow. A Slack hiccup must never abort a
 * launch or a teardown half-way, so these log a failed call and carry on. (The WebClient
 * itself already waits out rate limits and retries transient errors.)
 */
import type { Message, Notice, RootFacts } from './blocks.js';
import { noticeMessage } from './blocks.js';
import type { BotContext, ThreadRef, WebClient } from './context.js';
import type { Logger } from '../log.js';

/** Slack's error code ("not_in_channel") or the failure's message; never a token. */
export function slackError(e: unknown): string {
  const data = (e as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : e instanceof Error ? e.message : String(e);
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
      const res = await this.client.chat.postMessage({
        channel,
        text: m.text,
        blocks: m.blocks,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(metadata ? { metadata } : {}),
        // App URLs are often internal addresses; a preview would only say "can't reach".
        unfurl_links: false,
        unfurl_media: false,
      });
      return res.ts;
    } catch (e) {
      this.log.warn('Slack refused chat.postMessage', { channel, error: slackError(e) });
      return undefined;
    }
  }

  async update(ref: ThreadRef, m: Message): Promise<boolean> {
    try {
      await this.client.chat.update({ channel: ref.channel, ts: ref.ts, text: m.text, blocks: m.blocks });
      return true;
    } catch (e) {
      this.log.warn('Slack refused chat.update', { channel: ref.channel, error: slackError(e) });
      return false;
    }
  }

  /** chat.getPermalink needs no scope and knows the workspace's own domain. */
  async permalink(ref: ThreadRef): Promise<string | undefined> {
    try {
      return (await this.client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts })).permalink;
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
