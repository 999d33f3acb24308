/**
 * The Slack front end: a thin Bolt app. Listeners live in ./listeners, messages in ./blocks.ts.
 * - Socket Mode (SLACK_APP_TOKEN): Bolt opens a WebSocket to Slack; no public URL needed.
 * - HTTP mode (SLACK_SIGNING_SECRET): Bolt's ExpressReceiver adds POST /slack/events to the
 *   shared express app, so Slack, the REST API and the health routes share one port. The
 *   server listens itself, so app.start() is not called in this mode.
 */
import type { ThreadRecords } from '../k8s/thread-records.js';
import { DEFAULT_LAUNCH_CONCURRENCY, limiter } from '../concurrency.js';
import { App, ExpressReceiver, webApi } from '@slack/bolt';
import { AcksFirst, acksFirstLimiter } from './acks-first.js';
import type express from 'express';
import { ConfigError, type SlackConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { LaunchPolicy } from '../commands/policy.js';
import type { AccessPolicy } from '../policy/rules.js';
import type { AuditTrail } from '../audit.js';
import { boltLogger } from './bolt-logger.js';
import type { SystemLauncher } from '../k8s/system-launcher.js';
import { commandPrefix, type BotContext } from './context.js';
import { HomeTabs } from './home-tabs.js';
import { installationFrom, installedOnly, type Installation } from './installation.js';
import { registerListeners } from './listeners/index.js';
import { slackRequestGuard } from './request-guard.js';
import { slackClientOptions, slackError } from './slack-io.js';

export interface BotDeps {
  slack: Exclude<SlackConfig, { mode: 'off' }>;
  launcher: SystemLauncher;
  /** Slack channel ID told about every launch, failure and teardown. */
  notifyChannel?: string;
  /** Slack user IDs that may tear down anyone's system, and launch beyond the policy. */
  admins: string[];
  /** What everyone else may ask for in a launch. */
  policy: LaunchPolicy;
  /** Who may do what (src/policy); unset: no such rules. */
  access?: AccessPolicy;
  /** Where each mutating action's audit line goes (src/audit.ts). */
  audit?: AuditTrail;
  log: Logger;
  /** The shared HTTP app; in HTTP mode Slack posts to POST /slack/events on it. */
  http: express.Express;
  /** Launches at work at once after their ack (TYCHO_LAUNCH_CONCURRENCY; default 8). */
  launchConcurrency?: number;
  records?: ThreadRecords;
}

export interface RunningBot {
  /** The bot's Web API client, for the reconciler's writes. */
  client: webApi.WebClient;
  /** The App Home tabs, which the server refreshes from the live view on the Lease holder. */
  home: HomeTabs;
  stop(): Promise<void>;
}

export const SLACK_EVENTS_PATH = '/slack/events';

/** Slack's answers that mean the token itself is wrong, not that Slack is unreachable. */
const BAD_TOKEN = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive', 'not_allowed_token_type']);

/**
 * One auth.test at startup: a wrong bot token fails here, naming the variable, rather than on
 * the first command; Bolt, given the bot's IDs, never calls auth.test per request; and it says
 * which workspace (and, when Slack includes it, which app) Tycho serves.
 * If Slack can't be reached right now the server starts anyway (Bolt then asks on demand).
 */
async function identify(deps: BotDeps, clientOptions: webApi.WebClientOptions): Promise<webApi.AuthTestResponse | undefined> {
  const probe = new webApi.WebClient(deps.slack.botToken, { ...clientOptions, retryConfig: { retries: 0 }, timeout: 10_000 });
  try {
    return await probe.auth.test();
  } catch (e) {
    const code = slackError(e);
    if (BAD_TOKEN.has(code)) {
      throw new ConfigError([`SLACK_BOT_TOKEN was refused by Slack (${code}). Copy the Bot User OAuth Token (xoxb-…) from the OAuth & Permissions page of your Slack app.`]);
    }
    deps.log.warn('could not reach Slack to check SLACK_BOT_TOKEN; starting anyway', { error: code });
    return undefined;
  }
}

/**
 * The installation as far as it is known; when startup could not learn the workspace, each
 * request asks Slack again until it can, and is ignored until then.
 */
function installationSource(deps: BotDeps, clientOptions: webApi.WebClientOptions, first: Installation): () => Promise<Installation> {
  let known = first;
  return async () => {
    if (!known.teamId) known = installationFrom(deps.slack, await identify(deps, clientOptions));
    return known;
  };
}

export async function startBot(deps: BotDeps): Promise<RunningBot> {
  const { slack } = deps;
  // Bolt's lines name its own part as their component (bolt-logger.ts); Tycho's Slack lines say `slack`.
  const logger = boltLogger(deps.log);
  const log = deps.log.child({ component: 'slack' });
  // The client neither waits out rate limits nor retries: SlackIO does both within a budget,
  // per channel, and knows which posts are safe to send again (slack-io.ts says why).
  const clientOptions = slackClientOptions(slack.apiUrl);
  const self = await identify(deps, clientOptions);
  const installation = installationFrom(slack, self);
  if (installation.teamId && !installation.appId) {
    log.warn('Slack did not say which app SLACK_BOT_TOKEN belongs to, so requests are checked against the workspace only: set SLACK_APP_ID (Basic Information page of your Slack app) to check the app too.');
  }
  const ids = { ...(self?.bot_id ? { botId: self.bot_id } : {}), ...(self?.user_id ? { botUserId: self.user_id } : {}) };
  const common = { token: slack.botToken, ...ids, tokenVerificationEnabled: false, logger, clientOptions };

  const acksFirst = new AcksFirst();
  let app: App;
  if (slack.mode === 'socket') {
    // The Socket Mode client has its own Web API client (apps.connections.open); same base URL.
    // It keeps its own retries (it sets them when none are given): reconnecting is its job.
    const { retryConfig: _retries, ...connectionOptions } = clientOptions;
    app = new App({ ...common, socketMode: true, appToken: slack.appToken, installerOptions: { clientOptions: connectionOptions } });
  } else {
    // Registered before the receiver, so these run first (see request-guard.ts); the count of
    // requests being answered lets launches wait for the acks (acks-first.ts).
    deps.http.post(SLACK_EVENTS_PATH, acksFirst.counter, ...slackRequestGuard(log));
    const receiver = new ExpressReceiver({ signingSecret: slack.signingSecret, endpoints: SLACK_EVENTS_PATH, app: deps.http, logger });
    app = new App({ ...common, receiver });
  }

  const home = new HomeTabs({ client: app.client, launcher: deps.launcher, prefix: commandPrefix(), log });
  const ctx: BotContext = {
    launcher: deps.launcher,
    admins: deps.admins,
    policy: deps.policy,
    ...(deps.access ? { access: deps.access } : {}),
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.notifyChannel ? { notifyChannel: deps.notifyChannel } : {}),
    log,
    tearingDown: new Map(),
    launches: acksFirstLimiter(limiter(deps.launchConcurrency ?? DEFAULT_LAUNCH_CONCURRENCY), acksFirst),
    ...(deps.records ? { records: deps.records } : {}),
    home,
  };
  app.use(installedOnly(installationSource(deps, clientOptions, installation), log));
  registerListeners(app, ctx);
  // The ack has gone out by the time a listener fails; all that is left to do is log it.
  app.error(async (e) => {
    log.error('a Slack listener failed', { error: e.message });
  });

  if (slack.mode === 'socket') {
    try {
      await app.start();
    } catch (e) {
      const code = slackError(e);
      if (BAD_TOKEN.has(code)) throw new ConfigError([`SLACK_APP_TOKEN was refused by Slack (${code}). Create an app-level token with the connections:write scope on the Basic Information page of your Slack app.`]);
      throw new Error(`Could not open the Socket Mode connection to Slack (${code}).`);
    }
    return {
      client: app.client,
      home,
      stop: async () => {
        home.stop();
        await app.stop();
      },
    };
  }
  return { client: app.client, home, stop: async () => home.stop() };
}
