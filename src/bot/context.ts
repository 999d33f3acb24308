/**
 * What every listener needs, handed in once by app.ts. Listeners keep no state of their own:
 * everything about a system comes from Kubernetes, so buttons keep working after a restart.
 */
import type { ThreadRecords } from '../k8s/thread-records.js';
import type { HomeTabs } from './home-tabs.js';
import type { webApi } from '@slack/bolt';
import type { Caller, RunContext } from '../commands/command.js';
import type { AccessPolicy } from '../policy/rules.js';
import type { AuditTrail } from '../audit.js';
import type { LaunchPolicy, PolicyFor } from '../commands/policy.js';
import type { SystemLauncher } from '../k8s/system-launcher.js';
import type { Limiter } from '../concurrency.js';
import { newLogId, type Logger } from '../log.js';

export interface BotContext {
  launcher: SystemLauncher;
  /** Slack user IDs that may tear down anyone's system, and launch beyond the policy. */
  admins: string[];
  /** What everyone else may ask for in a launch. */
  policy: LaunchPolicy;
  /** Who may do what (src/policy): checked by the command layer on every command and button. */
  access?: AccessPolicy;
  /** Where each mutating action's audit line goes (src/audit.ts). */
  audit?: AuditTrail;
  /** Channel ID told about every launch, ready, failure and teardown. */
  notifyChannel?: string;
  log: Logger;
  /**
   * Teardowns in progress in this process, by system name. A second click on the same system
   * waits for the first and then finds it gone, instead of racing it. Only a guard: after a
   * restart Kubernetes (a Deployment marked for deletion) tells the same story.
   */
  tearingDown: Map<string, Promise<unknown>>;
  /**
   * Launches at work at once (after their ack); the rest wait their turn in order. 200 commands
   * arriving together are then all acked first, within Slack's 3 s, instead of each ack waiting
   * behind the root messages, notices and creates of the commands before it.
   */
  launches: Limiter;
  /** The records of open threads (thread-records.ts): a launch undone closes its thread's with its failure reply. */
  records?: ThreadRecords;
  /** Each person's App Home tab (home-tabs.ts): published when opened, and after a click in it. */
  home?: HomeTabs;
}

/** The context of one Slack request (a slash command, a button click): its log lines carry a request id. */
export function forRequest(ctx: BotContext): BotContext {
  return { ...ctx, log: ctx.log.child({ reqId: newLogId() }) };
}

export type WebClient = webApi.WebClient;

/** Where a system's thread lives: its root message. */
export interface ThreadRef {
  channel: string;
  ts: string;
}

/** The slash command as the manifest declares it; a workspace may rename it (e.g. /tycho-dev). */
export const DEFAULT_COMMAND = '/tycho';

/**
 * "/tycho " as usage lines print it. A slash command's payload names the command as this
 * workspace spells it; a button click's does not, so it gets the manifest's name.
 */
export function commandPrefix(command?: string): string {
  return `${command || DEFAULT_COMMAND} `;
}

/** Admins (TYCHO_ADMINS) may launch anything the cluster allows; everyone else within the operator's limits. */
export function slackPolicy(caller: Caller, ctx: Pick<BotContext, 'policy'>): PolicyFor {
  return caller.isAdmin ? null : ctx.policy;
}

/** A Slack user as the command layer sees them. */
export function slackCaller(userId: string, admins: string[]): Caller {
  return { owner: { id: `slack:${userId}`, display: `<@${userId}>` }, origin: 'slack', isAdmin: admins.includes(userId) };
}

/**
 * What runCommand needs to run a command for this Slack user, whether they typed it or clicked
 * a button: the same caller, policy and launcher, so every rule of the command is checked for
 * both. `where`: the channel it was asked in (policy channels.allow, list.scope, the audit line)
 * and how (the audit line's `via`: the slash command, or a button).
 */
export function slackRunContext(
  userId: string,
  ctx: Pick<BotContext, 'launcher' | 'admins' | 'policy' | 'access' | 'audit'>,
  prefix = commandPrefix(),
  where: { channel?: string | undefined; via?: 'slack' | 'slack-button' } = {},
): RunContext {
  const caller = slackCaller(userId, ctx.admins);
  return {
    launcher: ctx.launcher,
    caller,
    prefix,
    policy: slackPolicy(caller, ctx),
    ...(ctx.access ? { access: ctx.access } : {}),
    ...(where.channel ? { channel: where.channel } : {}),
    via: where.via ?? 'slack',
    ...(ctx.audit ? { audit: ctx.audit } : {}),
  };
}
