/**
 * The daily digest: at TYCHO_DIGEST_AT (digest-schedule.ts) each person who owns running systems
 * gets one direct message listing them, with Tear down and Extend buttons (the same listeners,
 * and so the same rules, as everywhere else).
 *
 * - Only the Lease holder sends, and only once it has claimed the day in Kubernetes
 *   (k8s/digest-claims.ts): a second replica, a failover or a restart finds the day claimed
 *   and sends nothing more that day.
 * - It looks every minute (on the digest's clock) and when this replica becomes the leader, so a
 *   new leader sends a day's digest nobody sent, up to DIGEST_CATCH_UP_MINUTES after the time.
 * - Claimed first, then sent: a leader that dies half-way leaves the rest of that day's
 *   digests unsent rather than sending some twice (a DM lost beats a DM doubled).
 */
import type { types } from '@slack/bolt';
import type { SystemInfo } from '../k8s/spec.js';
import type { DigestClaims } from '../k8s/digest-claims.js';
import type { Logger } from '../log.js';
import { stateText } from '../commands/format.js';
import { actionsBlock, extendButton, teardownButton, type Message } from './blocks.js';
import { digestDue, msToNextMinute, type DigestClock, type DigestSettings } from './digest-schedule.js';
import { slackUserOf } from './home-tabs.js';
import type { SlackIO } from './slack-io.js';
import { clipMd, code, joinMd, link, md, slackDate, type Mrkdwn } from './slack-text.js';

/** A message holds at most 50 blocks: one line and two blocks per system, and a last line. */
export const DIGEST_SYSTEMS_SHOWN = 20;

const text = (t: Mrkdwn) => ({ type: 'mrkdwn' as const, text: clipMd(t, 3000).text, verbatim: true });

function systemLine(s: SystemInfo): Mrkdwn {
  const expires = s.expires && Number.isFinite(Date.parse(s.expires)) ? md` · expires ${slackDate(new Date(s.expires))}` : md``;
  return md`${code(s.name)} · ${stateText(s)}${s.url ? md` · ${link(s.url)}` : md``}${expires}`;
}

/** One person's digest: their running systems, each with Tear down and Extend. */
export function digestMessage(day: string, systems: SystemInfo[], prefix: string): Message {
  const count = systems.length === 1 ? '1 system' : `${systems.length} systems`;
  const head = md`:sunrise: Tycho's daily digest for ${day}: you have ${count} running.`;
  const blocks: types.KnownBlock[] = [{ type: 'section', text: text(head) }];
  for (const s of systems.slice(0, DIGEST_SYSTEMS_SHOWN)) blocks.push({ type: 'section', text: text(systemLine(s)) }, actionsBlock([teardownButton(s.name), extendButton(s.name, s.expires)], s.name));
  if (systems.length > DIGEST_SYSTEMS_SHOWN) blocks.push({ type: 'context', elements: [text(md`…and ${String(systems.length - DIGEST_SYSTEMS_SHOWN)} more: ${code(`${prefix}list`)}.`)] });
  const lines = systems.map(systemLine);
  return { text: clipMd(joinMd([head, ...lines], '\n'), 3000).text, blocks };
}

export interface DailyDigestOptions {
  settings: DigestSettings;
  clock: DigestClock;
  isLeader: () => boolean;
  claims: Pick<DigestClaims, 'claim'>;
  /** Who claims, in the claim (the leader's identity). */
  identity: string;
  /** Every system, as the launcher lists them (the live view's cache). */
  systems: () => Promise<SystemInfo[]>;
  io: Pick<SlackIO, 'post'>;
  prefix: string;
  log: Logger;
}

export class DailyDigest {
  /** The last day this process found claimed (by itself or anyone): nothing more to do that day. */
  private settledDay: string | undefined;
  private running = false;
  private again = false;
  private cancel: (() => void) | undefined;
  private stopped = true;

  constructor(private readonly o: DailyDigestOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
    this.check();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }

  /** Sends today's digest if it is due, not yet claimed, and this replica leads. */
  check(): void {
    if (this.stopped) return;
    if (this.running) {
      // Looked again while a run is in flight (it may be for another day): look once more after it.
      this.again = true;
      return;
    }
    const { day, due } = digestDue(this.o.clock.now(), this.o.settings);
    if (!due || this.settledDay === day || !this.o.isLeader()) return;
    this.running = true;
    void this.run(day).finally(() => {
      this.running = false;
      if (!this.again) return;
      this.again = false;
      this.check();
    });
  }

  private schedule(): void {
    this.cancel = this.o.clock.setTimeout(() => {
      if (this.stopped) return;
      this.schedule();
      this.check();
    }, msToNextMinute(this.o.clock.now()));
  }

  private async run(day: string): Promise<void> {
    try {
      if (!(await this.o.claims.claim(day, this.o.identity))) {
        this.settledDay = day;
        return;
      }
    } catch (e) {
      this.o.log.warn("could not claim the day's digest; trying again in a minute", { day, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    this.settledDay = day;
    let systems: SystemInfo[];
    try {
      systems = await this.o.systems();
    } catch (e) {
      this.o.log.warn('could not list the systems for the daily digest; it is not sent today', { day, error: e instanceof Error ? e.message : String(e) });
      return;
    }
    const byOwner = new Map<string, SystemInfo[]>();
    for (const s of systems) {
      const user = slackUserOf(s.ownerId);
      if (!user || s.stage === 'terminating') continue;
      byOwner.set(user, [...(byOwner.get(user) ?? []), s]);
    }
    for (const [user, own] of byOwner) await this.o.io.post(user, digestMessage(day, own, this.o.prefix));
    this.o.log.info('sent the daily digest', { day, owners: byOwner.size });
  }
}
