/**
 * A launch's notice in the team channel (TYCHO_NOTIFY_CHANNEL) is news about the launch, not a
 * step of it: the launch makes its objects without waiting for the notice, so a team channel
 * Slack is holding back (rate limited, one post a second per channel) does not hold back every
 * launch behind it. The notices of one thread still appear in the order they happened.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { waitFor } from '../support/cluster.js';
import type { SlackCall } from '../support/fake-slack.js';
import { NOTIFY_CHANNEL, startBotHarness, type BotHarness } from './harness.js';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness('notice');
});
afterAll(async () => {
  await h?.stop();
});

const notices = (name: string) => h.slack.find('chat.postMessage', (c: SlackCall) => c.args.channel === NOTIFY_CHANNEL && String(c.args.text).includes(`\`${name}\``));

test('the objects are made while the team channel waits out a pause; its notices come after, once each, launching before ready', async () => {
  // Slack pauses the team channel for 14 s at the first notice (within a post's 20 s budget, so
  // SlackIO waits it out and then posts).
  h.slack.interject('chat.postMessage', { kind: 'ratelimited', retryAfterSeconds: 14 }, { times: 1, when: (a) => a.channel === NOTIFY_CHANNEL });
  await h.slash('up -n paused-notice -c nginx -p 80');
  await waitFor(() => h.deploymentExists('paused-notice'), { what: 'the Deployment of paused-notice' });
  await waitFor(() => h.serviceExists('paused-notice'), { what: 'the Service of paused-notice' });
  // Made while the launching notice still waits: it was refused once and not yet posted.
  expect(h.slack.find('chat.postMessage:ratelimited', (c) => c.args.channel === NOTIFY_CHANNEL)).toHaveLength(1);
  expect(notices('paused-notice')).toHaveLength(0);

  await waitFor(() => notices('paused-notice').length >= 2, { what: 'the launching and ready notices', timeoutMs: 60_000 });
  expect(notices('paused-notice').map((c) => (String(c.args.text).includes('is launching') ? 'launching' : String(c.args.text).includes('is ready') ? 'ready' : String(c.args.text)))).toEqual(['launching', 'ready']);
});
