/**
 * One running Tycho (real Bolt, real launcher, the test cluster) wired to a fake Slack, plus
 * the few things a test does as Slack or as a person: type a command, click a button, look
 * at the cluster, open a URL.
 */
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Env } from '../../src/config.js';
import { startTycho, type RunningTycho, type StartOptions } from '../../src/server/tycho.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { FakeSlack, type SlackCall } from '../support/fake-slack.js';
import { blockActionsBody, eventCallbackBody, homeActionsBody, postToSlackEndpoint, slashCommandBody, type SendOptions, type SlackPostResult } from '../support/slack-signing.js';

export const TEAM_CHANNEL = 'C0TEAM0001';
export const NOTIFY_CHANNEL = 'C0NOTIFY01';
export const ALICE = 'U0ALICE001';
export const BOB = 'U0BOB00001';
export const ADMIN = 'U0ADMIN001';

export interface BotHarness {
  /** The running server; replaced by restart(). */
  tycho: RunningTycho;
  slack: FakeSlack;
  namespace: string;
  secret: string;
  /** POST /slack/events on the running server. */
  eventsUrl: string;
  apps: AppsV1Api;
  core: CoreV1Api;
  /** Types `/tycho <text>`; the response_url is tagged so its posts can be found. `from` overrides the workspace and app Slack names. */
  slash(text: string, o?: { user?: string; channel?: string; tag?: string; send?: Partial<SendOptions>; from?: RequestSource }): Promise<SlackPostResult & { tag: string }>;
  /** Clicks a button on a message the bot posted. */
  click(o: { user: string; message: SlackCall; action: 'tycho_teardown' | 'tycho_status' | 'tycho_extend' | 'tycho_restart' | 'tycho_logs'; value: string; tag?: string; send?: Partial<SendOptions>; from?: RequestSource }): Promise<SlackPostResult & { tag: string }>;
  /** Opens the App Home's Home tab as this user (a signed app_home_opened event). */
  openHome(user: string): Promise<SlackPostResult>;
  /** Clicks a button in the user's Home tab (no channel, message or response_url in the payload). */
  clickHome(o: { user: string; action: string; value: string }): Promise<SlackPostResult>;
  /** Stops Tycho and starts a fresh one (same config, namespace and fake Slack): no state survives but Kubernetes'. */
  restart(): Promise<void>;
  /** Starts another replica on the same config, namespace and fake Slack (the caller stops it). */
  startReplica(): Promise<RunningTycho>;
  deploymentExists(name: string): Promise<boolean>;
  serviceExists(name: string): Promise<boolean>;
  stop(): Promise<void>;
}

let tags = 0;
const nextTag = (p: string) => `${p}-${++tags}`;

/** The workspace and app a request claims to come from (default: the installed ones). */
export interface RequestSource {
  team_id?: string;
  api_app_id?: string;
}

export interface HarnessOptions {
  kubeConfig?: KubeConfig;
  /** Where Tycho reaches Slack's Web API, given the fake (e.g. a proxy in front of it); default the fake itself. */
  slackApiUrl?: (slack: FakeSlack) => Promise<string>;
  /** Where Tycho logs; default nowhere. */
  log?: Logger;
  /** What the fake's auth.test says about the token, when not the default. */
  installation?: FakeSlack['installation'];
  /** More configuration (e.g. SLACK_APP_ID). */
  env?: Env;
  /** The live view's watch tuning (e.g. a short backoff after a refusal). */
  viewOptions?: StartOptions['viewOptions'];
  /** How long the reconciler tries one Slack post (a test of an outage longer than that shortens it). */
  slackBudgetMs?: number;
  /** The clock the daily digest reads and sets its timers on (a test's manual clock). */
  digestClock?: StartOptions['digestClock'];
}

export async function startBotHarness(prefix: string, o: HarnessOptions = {}): Promise<BotHarness> {
  const namespace = await createTestNamespace(prefix);
  const slack = await FakeSlack.start();
  if (o.installation) slack.installation = o.installation;
  const secret = randomBytes(16).toString('hex');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TYCHO_NAMESPACE: namespace,
    TYCHO_READY_TIMEOUT: '60',
    SLACK_BOT_TOKEN: 'xoxb-test-0000-not-a-real-token',
    SLACK_SIGNING_SECRET: secret,
    SLACK_API_URL: o.slackApiUrl ? await o.slackApiUrl(slack) : slack.apiUrl,
    TYCHO_NOTIFY_CHANNEL: NOTIFY_CHANNEL,
    TYCHO_ADMINS: ADMIN,
    // Slack's pace is the stand-in's to enforce when a test wants it (postRateLimit), and each
    // notice is its own message: tests count them. slack-burst.test.ts turns both on.
    TYCHO_SLACK_CHANNEL_INTERVAL_MS: '0',
    TYCHO_NOTICE_BATCH_MS: '0',
    ...o.env,
  });
  const kc = kubeConfig();
  const start = () => startTycho(config, o.log ?? silentLogger, { kubeConfig: o.kubeConfig ?? kc, ...(o.viewOptions ? { viewOptions: o.viewOptions } : {}), ...(o.slackBudgetMs ? { slackBudgetMs: o.slackBudgetMs } : {}), ...(o.digestClock ? { digestClock: o.digestClock } : {}) });
  const tycho = await start();
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const exists = async (read: () => Promise<unknown>) =>
    read().then(
      () => true,
      (e: { code?: number }) => {
        if (e.code === 404) return false;
        throw e;
      },
    );
  const h: BotHarness = {
    tycho,
    slack,
    namespace,
    secret,
    get eventsUrl() {
      return `${h.tycho.url}/slack/events`;
    },
    apps,
    core,
    async slash(text, s = {}) {
      const tag = s.tag ?? nextTag('cmd');
      const body = slashCommandBody({ text, user_id: s.user ?? ALICE, channel_id: s.channel ?? TEAM_CHANNEL, response_url: slack.responseUrl(tag), ...s.from });
      return { ...(await postToSlackEndpoint(h.eventsUrl, body, { secret, ...s.send })), tag };
    },
    async click(c) {
      const tag = c.tag ?? nextTag('click');
      const m = c.message;
      const body = blockActionsBody({
        user_id: c.user,
        // A post to a user ID lands in the D… channel the answer names; else the channel it was posted to.
        channel_id: String(/^[UW]/.test(String(m.args.channel)) ? m.result.channel : m.args.channel),
        message: { ts: String(m.result.ts ?? m.args.ts), text: m.args.text, blocks: m.args.blocks, ...(m.args.thread_ts ? { thread_ts: m.args.thread_ts } : {}) },
        action_id: c.action,
        value: c.value,
        response_url: slack.responseUrl(tag),
        ...c.from,
      });
      return { ...(await postToSlackEndpoint(h.eventsUrl, body, { secret, ...c.send })), tag };
    },
    openHome: (user) => postToSlackEndpoint(h.eventsUrl, eventCallbackBody({ type: 'app_home_opened', user, channel: 'D0HOME0001', tab: 'home' }), { secret, contentType: 'application/json' }),
    clickHome: (c) => postToSlackEndpoint(h.eventsUrl, homeActionsBody({ user_id: c.user, action_id: c.action, value: c.value }), { secret }),
    deploymentExists: (name) => exists(() => apps.readNamespacedDeployment({ namespace, name })),
    serviceExists: (name) => exists(() => core.readNamespacedService({ namespace, name })),
    async restart() {
      await h.tycho.stop();
      h.tycho = await start();
    },
    startReplica: start,
    async stop() {
      await h.tycho.stop();
      await slack.stop();
    },
  };
  return h;
}

/** Every block of a message, flattened to its action elements. */
export function buttonsOf(call: SlackCall): { action_id: string; value?: string; style?: string; confirm?: unknown }[] {
  const blocks = (call.args.blocks ?? []) as { type: string; elements?: { action_id: string; value?: string; style?: string; confirm?: unknown }[] }[];
  return blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

/** All text a message shows: its `text` and every mrkdwn string in its blocks. */
export function shownText(call: SlackCall): string {
  return JSON.stringify([call.args.text, call.args.blocks ?? []]);
}

/** The URL in a "Ready: <url>" message (a Slack link: <…> around it). */
export function readyUrl(call: SlackCall): string {
  const m = /Ready: <(http[^\s|>]+)>/.exec(String(call.args.text));
  if (!m?.[1]) throw new Error(`no URL in ${String(call.args.text)}`);
  return m[1];
}

/** The root message of a launch of `name` (posted where it was asked, not the team notice). */
export const isRoot = (name: string) => (c: SlackCall) => c.args.channel !== NOTIFY_CHANNEL && !c.args.thread_ts && String(c.args.text).includes(`is launching \`${name}\``);
