/**
 * Someone opened Tycho's App Home: publish their Home tab (their own systems, home-view.ts).
 * Slack sends app_home_opened for the Messages tab too; only the Home tab is drawn. Bolt acks
 * an event before its listener runs, so publishing may take its time; a redelivery publishes
 * the same view again, which is harmless.
 */
import type { App } from '@slack/bolt';
import type { BotContext } from '../context.js';

export function register(app: App, ctx: BotContext): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await ctx.home?.opened(event.user);
  });
}
