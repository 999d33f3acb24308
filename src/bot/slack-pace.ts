/**
 * How fast Tycho talks to one Slack channel, as configured (config.ts) and kept by SlackIO. Here,
 * apart, so the configuration can name the defaults without loading the Slack code.
 */

/**
 * The least time between two messages (posts, updates) to one channel: Slack takes about one
 * message a second per channel (slack-platform.md), and past it answers 429.
 */
export const SLACK_CHANNEL_INTERVAL_MS = 1_000;

/**
 * Notices to the team channel arriving within this of the first are posted as one message: a burst
 * of launches is one message there every few seconds, not one per launch and step.
 */
export const NOTICE_BATCH_MS = 3_000;
