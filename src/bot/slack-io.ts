/**
 * Posting to Slack from the middle of a Kubernetes flow. A Slack hiccup must never abort a
 * launch or a teardown half-way, so these log a failed call and carry on.
 *
 * Every call is bounded: its tries, Retry-After waits and checks together take at most
 * SLACK_POST_BUDGET_MS, well within the 30 s a pod gets between SIGTERM and the kill. A writer
 * that is killed has therefore stopped talking to Slack MAX_POST_ATTEMPT_MS after it started, and
 * whatever it claimed may be taken over after that. The Web API client does not retry on its own
 * (slackClientOptions); this module does, knowing what is safe to send again:
 * - a call Slack refused for rate limits, or that never reached Slack, is sent again;
 * - a post that may have reached Slack (a timeout, a reset connection, a 5xx) is sent again only
 *   once Slack has been asked whether it has it: each post carries message metadata (the
 *   caller's, or an id of its own) and is looked for in its thread (conversations.replies) or
 *   its channel (conversations.history). If Slack cannot be asked, it is not sent again: a reply
 *   lost beats a reply doubled;
 * - chat.update and chat.getPermalink are the same however often they are sent.
 *
 * Rate limits are handled here, not by the WebClient: on a 429 it would pause its whole queue,
 * so one busy channel would hold up every other channel and every chat.update. The client is
 * built with `rejectRateLimitedCalls`, and here:
 * - messages to one channel keep Slack's pace (about one a second per channel, slack-pace.ts):
 *   posts and updates of a channel go one at a time, in the order asked, each at least the
 *   channel's interval after the one before, so a burst is delayed, not refused; other channels
 *   go on meanwhile. Unpaced (an interval of 0, for a Slack without the limit) up to
 *   POSTS_IN_FLIGHT_PER_CHANNEL posts go at once, and updates as they come;
 * - a channel Slack has paused is waited out before a post's turn begins (before its claim);
 * - a refused call waits the Retry-After Slack gave, if that leaves time for the call within the
 *   budget; if not, it gives up at once rather than wait, and the channel's next posts do not
 *   call Slack before the Retry-After is over.
 *
 * Notices to the team channel (notify) arriving within a few seconds of each other are posted as
 * one message listing each (NOTICE_BATCH_MS): a burst of launches is a few messages there, not
 * two per launch. A stop (stopDelivery) posts what has gathered at once.
 */
import { randomUUID } from 'node:crypto';
import type { webApi } from '@slack/bolt';
import type { Message, Notice, RootFacts } from './blocks.js';
import { noticeMessage, noticesMessage } from './blocks.js';
import type { BotContext, ThreadRef, WebClient } from './context.js';
import type { Logger } from '../log.js';
import { backoffMs, KeyedLimiter, KeyedQueue } from '../concurrency.js';
import { NOTICE_BATCH_MS, SLACK_CHANNEL_INTERVAL_MS } from './slack-pace.js';

/** Slack's error code ("not_in_channel") or the failure's message; never a token. */
export function slackError(e: unknown): string {
  const data = (e as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : e instanceof Error ? e.message : String(e);
}

/** How long one Web API call may go unanswered before the client gives up on it. */
export const SLACK_CALL_TIMEOUT_MS = 5_000;
/**
 * All the time one post (or update, or look-up) may take: its tries, the Retry-After waits and
 * the look for an earlier try's message. Well within a pod's 30 s termination grace.
 */
export const SLACK_POST_BUDGET_MS = 20_000;
/**
 * The longest a post can still reach Slack after its turn came (after its `claim`, when it has
 * one): no call starts unless it can end, answered or timed out, within the budget; one call's
 * time more covers Slack finishing a call it received just before the caller stopped waiting.
 * A claim older than this, taken at its post's turn, has no writer left that could post it.
 */
export const MAX_POST_ATTEMPT_MS = SLACK_POST_BUDGET_MS + SLACK_CALL_TIMEOUT_MS;

/**
 * The Web API client's options: no retries of its own (this module retries, knowing what is
 * safe to send twice), a refusal for rate limits handed back at once, and a timeout.
 */
export function slackClientOptions(apiUrl?: string): webApi.WebClientOptions {
  return { ...(apiUrl ? { slackApiUrl: apiUrl } : {}), rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, timeout: SLACK_CALL_TIMEOUT_MS };
}

/** Slack message metadata: says which message a message is, for whoever reads the channel later. */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, string>;
}

/** The event type of a system's replies (Ready, Failed, torn down): `uid` and `key` say which. */
export const SYSTEM_MESSAGE_EVENT = 'tycho_system_message';

export function systemMessage(uid: string, key: string): MessageMetadata {
  return { event_type: SYSTEM_MESSAGE_EVENT, event_payload: { uid, key } };
}

/** What a post without metadata of its own carries, so that an earlier try of it can be found. */
const POST_EVENT = 'tycho_post';

/** What became of a post. */
export type PostOutcome =
  /** In Slack: posted now, or `found` from an earlier try of this same post. */
  | { kind: 'posted'; ts: string; found: boolean }
  /** Slack answered no (not_in_channel, channel_not_found, …): nothing was posted, and trying again will not help. */
  | { kind: 'refused'; error: string }
  /** Given up within the budget (rate limited past it, Slack unreachable): certainly not posted; may be tried again later. */
  | { kind: 'not-posted'; error: string }
  /** Given up after a try that may have reached Slack, which could not be checked: look (findPosted) before posting it again. */
  | { kind: 'unknown'; error: string }
  /** The post's `claim` said no: nothing was sent. */
  | { kind: 'not-claimed' };

/** What became of an update of a message. */
export type UpdateOutcome = 'updated' | 'refused' | 'not-updated';

/** Whether a thread holds a message. */
export type Lookup = { kind: 'posted'; ts: string } | { kind: 'absent' } | { kind: 'unknown'; error: string } | { kind: 'refused'; error: string };

export interface PostOptions {
  /** The thread (its root message's ts) to reply in. */
  threadTs?: string;
  /** The message's metadata (systemMessage()); it is also how an earlier try of the post is recognised. */
  metadata?: MessageMetadata;
  /**
   * Taken when this post's turn in its channel comes, before anything is sent; false: nothing is
   * sent (outcome `not-claimed`). A claim taken here is at most MAX_POST_ATTEMPT_MS old when its
   * post is over, however long the channel's earlier posts took. It throws: so does the post.
   */
  claim?: () => Promise<boolean>;
  /** An earlier try of this post may have reached Slack: look for it before posting (SlackIO.post). */
  lookFirst?: boolean;
  /** Where the look starts in a channel (not a thread): the first try's moment, on Slack's clock. */
  since?: number;
}

/** Time as SlackIO waits it: a test passes a clock of its own, so no test waits a real Retry-After. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

// Unreferenced: a process that stops is not kept alive by a pause before Slack is tried again.
const realClock: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms).unref()) };

export interface SlackIOOptions extends Partial<SlackPace> {
  /** SLACK_POST_BUDGET_MS unless a test says otherwise. */
  budgetMs?: number;
  /** The client's timeout: SLACK_CALL_TIMEOUT_MS, as slackClientOptions gives it. */
  callTimeoutMs?: number;
  clock?: Clock;
}

/** How fast one bot talks to a channel (config.ts: TYCHO_SLACK_CHANNEL_INTERVAL_MS, TYCHO_NOTICE_BATCH_MS). */
export interface SlackPace {
  /** The least time between two messages (posts, updates) to one channel; 0: not paced. */
  channelIntervalMs: number;
  /** Notices to the team channel within this of the first are one message; 0: each alone. */
  noticeBatchMs: number;
}

/**
 * Each bot's pace, as the process was configured: every SlackIO of the bot keeps it, wherever it
 * is made (a listener's, the reconciler's), as they share its channels' lanes.
 */
const paceByBot = new Map<string, SlackPace>();

/** The pace of this bot's messages in this process (startTycho, from the configuration). */
export function setSlackPace(client: WebClient, pace: SlackPace): void {
  paceByBot.set(laneKey(client), pace);
}

/** Most notices in one message: a section each, well within Slack's 50 blocks and its text limits. */
export const NOTICES_PER_MESSAGE = 20;

/**
 * How long post() and update() keep trying a Slack that does not answer (unreachable, 5xx, rate
 * limited past a post's budget): one attempt at a time, each within the budget, with pauses
 * between that grow to PATIENT_PAUSE_MAX_MS. What a thread has to say is said when Slack is back,
 * in order, once. A process that stops, stops trying (stopDelivery).
 */
export const SLACK_PATIENCE_MS = 60 * 60_000;
const PATIENT_PAUSE_FIRST_MS = 1_000;
const PATIENT_PAUSE_MAX_MS = 30_000;

/** The first pause before a call that failed is sent again; it doubles with each try. */
const FIRST_BACKOFF_MS = 500;
/** Posts are looked for from this long before their first try: Slack's clock and ours differ. */
const CLOCK_SKEW_MS = 5 * 60_000;
/** Messages per page when looking for a post. */
const PAGE_SIZE = 200;

/** How a failed call failed, as far as sending it again goes. */
export type Failure =
  | { kind: 'rate-limited'; retryAfterMs: number }
  /** It never reached Slack: sending it again is safe. */
  | { kind: 'not-sent' }
  /** It may have reached Slack and been done. */
  | { kind: 'maybe-sent' }
  /** Slack's own answer: sending it again gets the same. */
  | { kind: 'refused' };

/** A connection that was never made carried no request. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Slack's errors that say it failed on its side, perhaps after doing part of the call. */
const SLACK_SIDE_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable']);

/**
 * Who hears of each Slack call that failed, by what it came to (`rate-limited`: a Retry-After to
 * wait out), and how long Slack asked to wait: the metrics (src/server/metrics.ts).
 */
export const slackFailureObservers = new Set<(kind: Failure['kind'], retryAfterMs: number) => void>();

/** failureOf, told to the observers: for the one place each failed call is handled. */
function failedCall(e: unknown): Failure {
  const failure = failureOf(e);
  for (const observe of slackFailureObservers) observe(failure.kind, failure.kind === 'rate-limited' ? failure.retryAfterMs : 0);
  return failure;
}

function failureOf(e: unknown): Failure {
  const err = e as { code?: unknown; retryAfter?: unknown; statusCode?: unknown; original?: { code?: unknown }; data?: { error?: unknown } } | null;
  switch (err?.code) {
    case 'slack_webapi_rate_limited_error':
      return { kind: 'rate-limited', retryAfterMs: Math.max(1, typeof err.retryAfter === 'number' ? err.retryAfter : 1) * 1000 };
    case 'slack_webapi_request_error':
      return NOT_SENT_CODES.has(String(err.original?.code)) ? { kind: 'not-sent' } : { kind: 'maybe-sent' };
    case 'slack_webapi_http_error':
      return typeof err.statusCode === 'number' && err.statusCode >= 500 ? { kind: 'maybe-sent' } : { kind: 'refused' };
    case 'slack_webapi_platform_error':
      return SLACK_SIDE_ERRORS.has(String(err.data?.error)) ? { kind: 'maybe-sent' } : { kind: 'refused' };
    default:
      return { kind: 'refused' };
  }
}

/** A message carries `wanted`: same event type, and the same value for each field of its payload. */
function carries(found: { event_type?: string; event_payload?: object } | undefined, wanted: MessageMetadata): boolean {
  if (found?.event_type !== wanted.event_type || !found.event_payload) return false;
  const payload = found.event_payload as Record<string, unknown>;
  return Object.entries(wanted.event_payload).every(([k, v]) => payload[k] === v);
}

/**
 * Posts to one channel in flight at once. Slack's limit is about one a second per channel, with
 * short bursts allowed; beyond it a post is refused (and waits its Retry-After, as do the others
 * then in flight), so a few at once cost at most a few refusals per pause, never a lost post.
 */
export const POSTS_IN_FLIGHT_PER_CHANNEL = 4;

/**
 * Each channel's posts, per bot token and Slack API URL: Bolt hands each request a WebClient of its
 * own, so the clients of one token (one bot, one set of Slack limits) must share them. `until` is when Slack
 * said the channel may be posted to again.
 */
interface Lanes {
  /** Unpaced: each channel's posts, a few at once. */
  posts: KeyedLimiter<string>;
  /** Paced: each channel's messages (posts and updates), one at a time, in order. */
  paced: KeyedQueue<string>;
  /** When each channel's last message call started, for its pace. */
  lastSent: Map<string, number>;
  /** Each team channel's notices gathering for one message. */
  gathering: Map<string, Gathering>;
  /** Every window not yet posted (gathering, or its message on its way): what a stop waits for. */
  windows: Set<Promise<void>>;
  /** Each thread's notices in the team channel, one after another (notify). */
  notices: KeyedQueue<string>;
  /** Each message's updates, one after another in the order asked: the last asked is what Slack shows. */
  updates: KeyedQueue<string>;
  until: Map<string, number>;
  /** Set by stopDelivery: patient retries end, and their pauses are cut short. */
  stopped: boolean;
  wakers: Set<() => void>;
}
const lanesByBot = new Map<string, Lanes>();

/** Notices waiting for the end of their window: each with what its caller awaits. */
interface Gathering {
  notices: { message: Promise<Message>; posted: () => void }[];
}

const laneKey = (client: WebClient) => `${client.token ?? ''} ${client.slackApiUrl}`;

function lanesOf(client: WebClient): Lanes {
  // The bot, at the Slack it talks to: two Slacks (a test's stand-ins, one per test) are two sets of limits.
  const bot = laneKey(client);
  let lanes = lanesByBot.get(bot);
  if (!lanes)
    lanesByBot.set(
      bot,
      (lanes = { posts: new KeyedLimiter(POSTS_IN_FLIGHT_PER_CHANNEL), paced: new KeyedQueue(), lastSent: new Map(), gathering: new Map(), windows: new Set(), notices: new KeyedQueue(), updates: new KeyedQueue(), until: new Map(), stopped: false, wakers: new Set() }),
    );
  return lanes;
}

export class SlackIO {
  private readonly budgetMs: number;
  private readonly callTimeoutMs: number;
  private readonly clock: Clock;
  private stopped = false;
  private stoppedLanes?: Lanes;

  constructor(
    readonly client: WebClient,
    private readonly log: Logger,
    private readonly options: SlackIOOptions = {},
  ) {
    this.callTimeoutMs = options.callTimeoutMs ?? SLACK_CALL_TIMEOUT_MS;
    // The first try always starts; a budget shorter than one call would end every post with it.
    this.budgetMs = Math.max(options.budgetMs ?? SLACK_POST_BUDGET_MS, this.callTimeoutMs);
    this.clock = options.clock ?? realClock;
  }

  /** This bot's pace: the options', else the process's (setSlackPace), else Slack's own. */
  private get pace(): SlackPace {
    const set = paceByBot.get(laneKey(this.client));
    return {
      channelIntervalMs: this.options.channelIntervalMs ?? set?.channelIntervalMs ?? SLACK_CHANNEL_INTERVAL_MS,
      noticeBatchMs: this.options.noticeBatchMs ?? set?.noticeBatchMs ?? NOTICE_BATCH_MS,
    };
  }

  /** A turn at sending to a channel: paced, one at a time in order; unpaced, posts a few at once. */
  private inTurn<T>(lanes: Lanes, channel: string, work: () => Promise<T>, kind: 'post' | 'update'): Promise<T> {
    if (this.pace.channelIntervalMs > 0) return lanes.paced.run(channel, work);
    return kind === 'post' ? lanes.posts.run(channel, work) : work();
  }

  /** How long until the channel's interval since its last message call has passed. */
  private paceWaitMs(lanes: Lanes, channel: string): number {
    const interval = this.pace.channelIntervalMs;
    return interval > 0 ? (lanes.lastSent.get(channel) ?? -Infinity) + interval - this.clock.now() : 0;
  }

  /** Just before a message call (in its turn): waits out the channel's pace, and starts the next interval. */
  private async paced(lanes: Lanes, channel: string): Promise<void> {
    const interval = this.pace.channelIntervalMs;
    if (interval <= 0) return;
    const wait = this.paceWaitMs(lanes, channel);
    if (wait > 0) await this.clock.sleep(wait);
    const now = this.clock.now();
    // Nothing kept for a channel whose pace is over: only the recently busy ones are remembered.
    if (lanes.lastSent.size > 1000) for (const [c, at] of lanes.lastSent) if (now - at >= interval) lanes.lastSent.delete(c);
    lanes.lastSent.set(channel, now);
  }

  /** The longest one post can take, its budget and the last call's timeout: a claim older than this has lost its writer. */
  get maxAttemptMs(): number {
    return this.budgetMs + this.callTimeoutMs;
  }

  /**
   * Returns the new message's ts, or undefined if it was not posted. `metadata`: Slack message
   * metadata, so a message says which system and which key it is.
   */
  async post(channel: string, m: Message, threadTs?: string, metadata?: MessageMetadata): Promise<string | undefined> {
    // One identity and one starting moment for every try, so a later try finds an earlier one's message.
    const options: PostOptions = { ...(threadTs ? { threadTs } : {}), metadata: metadata ?? { event_type: POST_EVENT, event_payload: { post: randomUUID() } }, since: Date.now() - CLOCK_SKEW_MS };
    const outcome = await this.patiently(
      (again) => this.tryPost(channel, m, { ...options, lookFirst: again === 'unknown' }),
      (o) => (o.kind === 'not-posted' || o.kind === 'unknown' ? o.kind : undefined),
      'chat.postMessage',
    );
    return outcome.kind === 'posted' ? outcome.ts : undefined;
  }

  /**
   * Tries `attempt` until its result is final (`transient` says undefined), the patience is spent,
   * or delivery is stopped; `attempt` hears what the last try came to.
   */
  private async patiently<T>(attempt: (last: string | undefined) => Promise<T>, transient: (r: T) => string | undefined, what: string): Promise<T> {
    const lanes = this.lanes();
    const giveUpAt = this.clock.now() + SLACK_PATIENCE_MS;
    let last: string | undefined;
    for (let tries = 0; ; tries++) {
      const result = await attempt(last);
      last = transient(result);
      if (last === undefined || this.stopped || lanes.stopped || this.clock.now() >= giveUpAt) return result;
      const pause = backoffMs(tries, PATIENT_PAUSE_FIRST_MS, PATIENT_PAUSE_MAX_MS);
      if (tries === 0) this.log.info(`Slack did not take ${what}; trying again until it does`, { pauseMs: pause });
      await this.pause(lanes, pause);
      if (this.stopped || lanes.stopped) return result;
    }
  }

  /** This bot's lanes; once this SlackIO is stopped, the lanes it stopped. */
  private lanes(): Lanes {
    return this.stoppedLanes ?? lanesOf(this.client);
  }

  /** A pause that stopDelivery cuts short. */
  private pause(lanes: Lanes, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        lanes.wakers.delete(done);
        resolve();
      };
      lanes.wakers.add(done);
      void this.clock.sleep(ms).then(done);
    });
  }

  /**
   * This process stops talking to Slack: posts and updates still waiting for Slack to come back
   * end after their current attempt (each within its budget), so a stop is not held up by an outage.
   * Notices gathering for the team channel are posted at once (their windows are pauses, cut short
   * here); it resolves once they are (or given up, each within its budget).
   */
  stopDelivery(): Promise<void> {
    this.stopped = true;
    const lanes = this.lanes();
    lanes.stopped = true;
    for (const wake of [...lanes.wakers]) wake();
    // A process started after this one (in the same Node process: a test's restart) gets lanes of
    // its own; this one keeps its stopped lanes, so what it still sends keeps each thread's order.
    this.stoppedLanes = lanes;
    lanesByBot.delete(laneKey(this.client));
    return Promise.all([...lanes.windows]).then(() => undefined);
  }

  /** A post, and what became of it (PostOutcome). Rejects only if `claim` does. */
  async tryPost(channel: string, m: Message, options: PostOptions = {}): Promise<PostOutcome> {
    const lanes = this.lanes();
    const outcome = await this.inTurn(lanes, channel, () => this.postInTurn(lanes, channel, m, options), 'post');
    if (outcome.kind === 'refused') this.log.warn('Slack refused chat.postMessage', { channel, error: outcome.error });
    if (outcome.kind === 'not-posted') this.log.warn('gave up on chat.postMessage: not posted', { channel, error: outcome.error });
    if (outcome.kind === 'unknown') this.log.warn('gave up on chat.postMessage: Slack may have it, and could not be asked', { channel, error: outcome.error });
    if (outcome.kind === 'posted' && outcome.found) this.log.info('found the message of an earlier try in Slack; not posted again', { channel });
    return outcome;
  }

  private async postInTurn(lanes: Lanes, channel: string, m: Message, options: PostOptions): Promise<PostOutcome> {
    const deadline = this.clock.now() + this.budgetMs;
    const metadata = options.metadata ?? { event_type: POST_EVENT, event_payload: { post: randomUUID() } };
    // Slack's clock, not the budget's: messages from here on may be this post's.
    const since = options.since ?? Date.now() - CLOCK_SKEW_MS;
    let error = '';
    /** A try may have reached Slack: it is looked for before the next. */
    let unsure = options.lookFirst ?? false;
    // A channel Slack has paused (another post in flight was refused) is waited out before the
    // claim, so a claim is not taken while its post cannot go. A pause past the budget is not:
    // the claim is taken and the post given up below, and its claim is recovered later.
    const paused = (lanes.until.get(channel) ?? 0) - this.clock.now();
    if (paused > 0 && this.fits(paused, deadline)) await this.clock.sleep(paused);
    if (options.claim && !(await options.claim())) return { kind: 'not-claimed' };
    for (let tries = 0; ; tries++) {
      if (unsure) {
        const found = await this.lookFor(channel, options.threadTs, metadata, since, deadline);
        if (found.kind === 'posted') return { kind: 'posted', ts: found.ts, found: true };
        if (found.kind === 'unknown') return { kind: 'unknown', error };
        // Slack will not say (the thread is gone, or Tycho may not read it): not posted, rather than maybe twice.
        if (found.kind === 'refused') return { kind: 'refused', error: found.error };
        unsure = false;
      }
      // A Retry-After, or the channel's pace: either is waited out only if the call still fits after it.
      const waitMs = Math.max((lanes.until.get(channel) ?? 0) - this.clock.now(), this.paceWaitMs(lanes, channel));
      if (waitMs > 0) {
        if (!this.fits(waitMs, deadline)) return { kind: 'not-posted', error: error || 'ratelimited' };
        await this.clock.sleep(waitMs);
      } else if (tries > 0 && !this.fits(0, deadline)) {
        return { kind: 'not-posted', error };
      }
      await this.paced(lanes, channel);
      try {
        const res = await this.client.chat.postMessage({
          channel,
          text: m.text,
          blocks: m.blocks,
          ...(options.threadTs ? { thread_ts: options.threadTs } : {}),
          metadata,
          // App URLs are often internal addresses; a preview would only say "can't reach".
          unfurl_links: false,
          unfurl_media: false,
        });
        if (res.ts) return { kind: 'posted', ts: res.ts, found: false };
        return { kind: 'refused', error: 'no ts in the answer' };
      } catch (e) {
        error = slackError(e);
        const failure = failedCall(e);
        if (failure.kind === 'refused') return { kind: 'refused', error };
        if (failure.kind === 'rate-limited') {
          lanes.until.set(channel, this.clock.now() + failure.retryAfterMs);
          continue;
        }
        unsure = failure.kind === 'maybe-sent';
        // A look (unsure) or a new try comes next; either needs a call's time after the pause.
        const pause = FIRST_BACKOFF_MS * 2 ** tries;
        if (!this.fits(pause, deadline)) return unsure ? await this.lastLook(channel, options.threadTs, metadata, since, deadline, error) : { kind: 'not-posted', error };
        await this.clock.sleep(pause);
      }
    }
  }

  /** Out of time for a pause: one look at once, if a call still fits, rather than none. */
  private async lastLook(channel: string, threadTs: string | undefined, metadata: MessageMetadata, since: number, deadline: number, error: string): Promise<PostOutcome> {
    if (!this.fits(0, deadline)) return { kind: 'unknown', error };
    const found = await this.lookFor(channel, threadTs, metadata, since, deadline);
    if (found.kind === 'posted') return { kind: 'posted', ts: found.ts, found: true };
    return found.kind === 'absent' ? { kind: 'not-posted', error } : { kind: 'unknown', error };
  }

  /** Whether a call can still start after waiting `waitMs`, and end within the budget. */
  private fits(waitMs: number, deadline: number): boolean {
    return this.clock.now() + waitMs + this.callTimeoutMs <= deadline;
  }

  /**
   * Whether the thread holds the system's message `key` (Ready, failed, gone): for a claim whose
   * writer may have posted before it died. `unknown` when Slack could not be asked.
   */
  findPosted(channel: string, threadTs: string, uid: string, key: string): Promise<Lookup> {
    return this.lookFor(channel, threadTs, systemMessage(uid, key), 0, this.clock.now() + this.budgetMs);
  }

  /**
   * A message carrying `metadata`: in the thread (conversations.replies), or for a post outside
   * any thread in the channel since `since` (conversations.history), page by page.
   */
  private async lookFor(channel: string, threadTs: string | undefined, metadata: MessageMetadata, since: number, deadline: number): Promise<Lookup> {
    let cursor: string | undefined;
    try {
      do {
        if (cursor && !this.fits(0, deadline)) return { kind: 'unknown', error: 'out of time before the last page' };
        const page = { channel, include_all_metadata: true, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) };
        const res = await this.retrying(
          () => (threadTs ? this.client.conversations.replies({ ...page, ts: threadTs }) : this.client.conversations.history({ ...page, oldest: (since / 1000).toFixed(6) })),
          deadline,
        );
        const hit = res.messages?.find((msg) => carries(msg.metadata, metadata));
        if (hit?.ts) return { kind: 'posted', ts: hit.ts };
        cursor = res.response_metadata?.next_cursor || undefined;
      } while (cursor);
      return { kind: 'absent' };
    } catch (e) {
      // retrying() told the observers of this failure already.
      return { kind: failureOf(e).kind === 'refused' ? 'refused' : 'unknown', error: slackError(e) };
    }
  }

  /**
   * A call that is the same however often Slack does it, tried until it is answered, refused, or
   * out of budget (then the last failure is thrown).
   */
  private async retrying<T>(call: () => Promise<T>, deadline: number): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return await call();
      } catch (e) {
        const failure = failedCall(e);
        if (failure.kind === 'refused') throw e;
        const pause = failure.kind === 'rate-limited' ? failure.retryAfterMs : FIRST_BACKOFF_MS * 2 ** tries;
        if (!this.fits(pause, deadline)) throw e;
        await this.clock.sleep(pause);
      }
    }
  }

  /**
   * Two writers of one message (a launch's front end and the reconciler) must not cross on the
   * wire: each message's updates go out one after another, in the order they were asked for.
   */
  async update(ref: ThreadRef, m: Message): Promise<boolean> {
    return (await this.tryUpdate(ref, m)) === 'updated';
  }

  /**
   * One update within the budget: `not-updated` when Slack did not take it in time (unreachable,
   * rate limited), `refused` when it said no. The reconciler repaints a root that was not updated
   * later (its state then, not this one), so it does not wait for Slack here.
   */
  tryUpdate(ref: ThreadRef, m: Message): Promise<UpdateOutcome> {
    return this.updateInOrder(ref, m, false);
  }

  /** An update that keeps trying while Slack is away (SLACK_PATIENCE_MS): for a message's last word (a closed thread's root). */
  async updatePatiently(ref: ThreadRef, m: Message): Promise<boolean> {
    return (await this.updateInOrder(ref, m, true)) === 'updated';
  }

  private updateInOrder(ref: ThreadRef, m: Message, patient: boolean): Promise<UpdateOutcome> {
    const lanes = this.lanes();
    return lanes.updates.run(`${ref.channel} ${ref.ts}`, async () => {
      const once = async (): Promise<UpdateOutcome> => {
        try {
          // The budget starts with the update's turn in its channel, as a post's does.
          await this.inTurn(
            lanes,
            ref.channel,
            () => {
              const deadline = this.clock.now() + this.budgetMs;
              return this.retrying(async () => {
                await this.paced(lanes, ref.channel);
                return this.client.chat.update({ channel: ref.channel, ts: ref.ts, text: m.text, blocks: m.blocks });
              }, deadline);
            },
            'update',
          );
          return 'updated';
        } catch (e) {
          const refused = failureOf(e).kind === 'refused';
          this.log.warn(refused ? 'Slack refused chat.update' : 'gave up on chat.update for now', { channel: ref.channel, error: slackError(e) });
          return refused ? 'refused' : 'not-updated';
        }
      };
      // An update says the same however often it is sent: a patient one is tried until Slack takes it.
      return patient ? await this.patiently(once, (r) => (r === 'not-updated' ? r : undefined), 'chat.update') : await once();
    });
  }

  /** chat.getPermalink needs no scope and knows the workspace's own domain. */
  async permalink(ref: ThreadRef): Promise<string | undefined> {
    try {
      return (await this.retrying(() => this.client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts }), this.clock.now() + this.budgetMs)).permalink;
    } catch (e) {
      this.log.warn('Slack refused chat.getPermalink', { channel: ref.channel, error: slackError(e) });
      return undefined;
    }
  }

  /**
   * Tells the team channel, with a link to the thread. Skipped when the thread is in that
   * channel already: its members see the root message change.
   */
  notify(ctx: Pick<BotContext, 'notifyChannel'>, facts: RootFacts, notice: Notice, thread?: ThreadRef): Promise<void> {
    const channel = ctx.notifyChannel;
    if (!channel || thread?.channel === channel) return Promise.resolve();
    const lanes = this.lanes();
    // The notice joins its window when its turn comes, its link still being asked for.
    const tell = () => this.announce(lanes, channel, (async () => noticeMessage(facts, notice, thread ? await this.permalink(thread) : undefined))());
    // One thread's notices in the order they were asked for, from the moment they are asked for:
    // a launch does not wait for its notice, and its Ready notice must not overtake it (it joins
    // a window only once the launching notice is posted).
    return thread ? lanes.notices.run(`${channel} ${thread.channel} ${thread.ts}`, tell) : tell();
  }

  /**
   * A notice for the team channel: posted with the others that arrive within the window opened by
   * the first (noticeBatchMs), as one message; alone, as itself. Resolves once it is posted (or
   * given up, as any post). A stopped process does not gather.
   */
  private announce(lanes: Lanes, channel: string, message: Promise<Message>): Promise<void> {
    const window = this.pace.noticeBatchMs;
    if (window <= 0 || this.stopped || lanes.stopped) return message.then((m) => this.post(channel, m)).then(() => undefined);
    let gathering = lanes.gathering.get(channel);
    if (!gathering) {
      const opened: Gathering = { notices: [] };
      lanes.gathering.set(channel, (gathering = opened));
      const posted = this.pause(lanes, window).then(() => this.postGathered(lanes, channel, opened));
      lanes.windows.add(posted);
      void posted.then(() => lanes.windows.delete(posted));
    }
    const joined = gathering;
    return new Promise<void>((posted) => joined.notices.push({ message, posted }));
  }

  /** A window's notices: one message for each NOTICES_PER_MESSAGE of them, after the previous window's. */
  private async postGathered(lanes: Lanes, channel: string, gathering: Gathering): Promise<void> {
    if (lanes.gathering.get(channel) === gathering) lanes.gathering.delete(channel);
    try {
      await lanes.notices.run(channel, async () => {
        const messages = await Promise.all(gathering.notices.map((n) => n.message));
        for (let i = 0; i < messages.length; i += NOTICES_PER_MESSAGE) {
          const some = messages.slice(i, i + NOTICES_PER_MESSAGE);
          await this.post(channel, some.length === 1 ? some[0]! : noticesMessage(some));
        }
      });
    } catch (e) {
      this.log.warn('could not post the notices in the team channel', { channel, error: slackError(e) });
    } finally {
      for (const n of gathering.notices) n.posted();
    }
  }
}
