/**
 * The App Home's Home tab (home-view.ts) kept up to date for each person:
 * - published when they open it (app_home_opened, whichever replica Slack sends it to), and
 *   after a click in it on the replica that ran the click;
 * - published again when one of their systems changes, from the live view's events, by the
 *   Lease holder only: one writer, as for every other background Slack write;
 * - only for people who have opened it since this process started (at most HOME_USERS_KEPT, the
 *   least recently opened forgotten first): nobody else is looking, and Slack shows the last
 *   published view until the next open, which publishes anew;
 * - a burst of changes (a launch moves through several stages in seconds, a teardown is
 *   "terminating" then gone) is one publish per person per HOME_REFRESH_MS;
 * - one publish at a time per person, each reading the systems at its turn, so the last one
 *   published shows the latest state.
 *
 * Which people opened the tab is kept in memory, per replica: an open Slack sent to a follower
 * is not known to the leader, whose refreshes then miss that person until they open it again
 * (when they see it current). Nothing is lost but a refresh.
 */
import type { SystemLauncher } from '../k8s/system-launcher.js';
import type { LiveView, Transition } from '../k8s/view/live-view.js';
import type { SystemState } from '../k8s/view/system-model.js';
import { ANN_OWNER_ID } from '../k8s/labels.js';
import { KeyedQueue } from '../concurrency.js';
import type { Logger } from '../log.js';
import type { WebClient } from './context.js';
import { homeView } from './home-view.js';
import { slackError } from './slack-io.js';

export const HOME_USERS_KEPT = 5_000;
export const HOME_REFRESH_MS = 1_000;

export interface HomeTabsOptions {
  client: WebClient;
  launcher: SystemLauncher;
  /** "/tycho " as usage lines show it. */
  prefix: string;
  log: Logger;
}

/** The Slack user a system's owner id names (`slack:U…`), or undefined for a REST or CLI owner. */
export function slackUserOf(ownerId: string | undefined): string | undefined {
  return ownerId?.startsWith('slack:') ? ownerId.slice('slack:'.length) : undefined;
}

export class HomeTabs {
  /** People who opened their Home tab, least recently opened first (a Map keeps insertion order). */
  private readonly openedBy = new Map<string, true>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly queue = new KeyedQueue<string>();
  private unfollow: (() => void) | undefined;

  constructor(private readonly o: HomeTabsOptions) {}

  /** They opened the tab: remember them (for refreshes) and publish it now. */
  opened(user: string): Promise<void> {
    this.openedBy.delete(user);
    this.openedBy.set(user, true);
    if (this.openedBy.size > HOME_USERS_KEPT) this.openedBy.delete(this.openedBy.keys().next().value!);
    return this.publish(user);
  }

  /** Publishes their tab now (after a click in it). */
  refresh(user: string): Promise<void> {
    return this.publish(user);
  }

  /** Refreshes the tab of a system's owner when it changes, while `isLeader()`. */
  follow(view: LiveView, isLeader: () => boolean): void {
    const onChanged = (s: SystemState) => this.changed(s, isLeader);
    const onTransition = (t: Transition) => this.changed(t.state, isLeader);
    view.on('changed', onChanged);
    view.on('transition', onTransition);
    this.unfollow = () => {
      view.off('changed', onChanged);
      view.off('transition', onTransition);
    };
  }

  stop(): void {
    this.unfollow?.();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private changed(s: SystemState, isLeader: () => boolean): void {
    const user = slackUserOf(s.deployment.metadata?.annotations?.[ANN_OWNER_ID]);
    if (!user || !this.openedBy.has(user) || !isLeader()) return;
    this.pending.add(user);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const users = [...this.pending];
      this.pending.clear();
      for (const u of users) void this.publish(u);
    }, HOME_REFRESH_MS);
    this.timer.unref();
  }

  private publish(user: string): Promise<void> {
    return this.queue.run(user, async () => {
      try {
        const systems = (await this.o.launcher.list()).filter((s) => slackUserOf(s.ownerId) === user);
        await this.o.client.views.publish({ user_id: user, view: homeView(systems, this.o.prefix) });
      } catch (e) {
        this.o.log.warn('could not publish the Home tab', { user, error: slackError(e) });
      }
    });
  }
}
