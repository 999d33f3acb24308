/**
 * Tycho answers one Slack workspace (or, for an org-wide install, one Enterprise Grid
 * organization) and one Slack app: the ones its bot token belongs to, learned from auth.test
 * at startup, or set with SLACK_TEAM_ID and SLACK_APP_ID. A request from anywhere else is acked
 * with nothing done: no Slack call, no cluster call, one warning in the log. (Acking rather than
 * answering 401 keeps Slack from retrying, and a foreign workspace learns nothing from it.)
 */
import type { AnyMiddlewareArgs, Middleware, webApi } from '@slack/bolt';
import { ConfigError, type SlackInstallation } from '../config.js';
import type { Logger } from '../log.js';

export interface Installation {
  /** T… for a workspace install, E… for an org-wide install on Enterprise Grid; undefined until known. */
  teamId?: string;
  /** A…; undefined when neither configured nor told by Slack (then only the workspace is checked). */
  appId?: string;
}

type AuthTest = Pick<webApi.AuthTestResponse, 'team_id' | 'enterprise_id' | 'is_enterprise_install' | 'app_id'>;

/**
 * What the bot token says about itself, checked against what the operator configured: a
 * mismatch means the token or the ID is wrong, and is refused at startup.
 */
export function installationFrom(configured: SlackInstallation, said: AuthTest | undefined): Installation {
  const learnedTeam = said ? (said.is_enterprise_install ? said.enterprise_id : said.team_id) : undefined;
  const learnedApp = said?.app_id;
  const problems: string[] = [];
  if (configured.teamId && learnedTeam && configured.teamId !== learnedTeam) {
    problems.push(`SLACK_TEAM_ID is ${configured.teamId}, but SLACK_BOT_TOKEN belongs to ${learnedTeam}: fix whichever is wrong.`);
  }
  if (configured.appId && learnedApp && configured.appId !== learnedApp) {
    problems.push(`SLACK_APP_ID is ${configured.appId}, but SLACK_BOT_TOKEN belongs to app ${learnedApp}: fix whichever is wrong.`);
  }
  if (problems.length) throw new ConfigError(problems);
  const teamId = configured.teamId ?? learnedTeam;
  const appId = configured.appId ?? learnedApp;
  return { ...(teamId ? { teamId } : {}), ...(appId ? { appId } : {}) };
}

export interface RequestOrigin {
  teamId?: string;
  enterpriseId?: string;
  isEnterpriseInstall: boolean;
  appId?: string;
}

/** Why a request is not for this Tycho, or undefined when it is. */
export function foreignRequest(installed: Installation, from: RequestOrigin): string | undefined {
  if (!installed.teamId) return 'Tycho does not know its own workspace yet (Slack was unreachable and SLACK_TEAM_ID is not set)';
  const team = from.isEnterpriseInstall ? from.enterpriseId : from.teamId;
  if (team !== installed.teamId) return `it comes from workspace ${team ?? '(none)'}, not ${installed.teamId}`;
  if (installed.appId && from.appId !== installed.appId) return `it is addressed to app ${from.appId ?? '(none)'}, not ${installed.appId}`;
  return undefined;
}

/**
 * A global Bolt middleware, so it runs before every listener, in HTTP and Socket Mode alike.
 * `installed` may have to ask Slack when startup could not; until it knows, nothing is answered.
 */
export function installedOnly(installed: () => Promise<Installation>, log: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const { context, body, next } = args;
    const why = foreignRequest(await installed(), {
      teamId: context.teamId,
      enterpriseId: context.enterpriseId,
      isEnterpriseInstall: context.isEnterpriseInstall,
      appId: (body as { api_app_id?: string }).api_app_id,
    });
    if (why === undefined) return next();
    log.warn(`ignored a Slack request: ${why}`);
    // Events are acked by Bolt itself; commands and interactions are acked here, with nothing in them.
    if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
  };
}
