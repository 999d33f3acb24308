/**
 * Configuration is read once, from the environment (a .env file is loaded first), and
 * validated. Every problem names the variable and the expected form, and all are reported
 * at once so a person fixes them in one go.
 */
import type { ServiceType } from './k8s/spec.js';
import type { OnFailure } from './k8s/launcher.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Tycho's configuration has ${problems.length === 1 ? 'a problem' : `${problems.length} problems`}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export interface LauncherConfig {
  /** Unset means: the kubeconfig context's namespace, else "default". */
  namespace?: string;
  serviceType: ServiceType;
  publicHost?: string;
  readyTimeoutSeconds: number;
  onFailure: OnFailure;
  /** auto: start the built-in local cluster only when no cluster is configured. */
  localCluster: 'auto' | 'never';
  /** CLI remote mode. */
  serverUrl?: string;
  apiToken?: string;
}

/**
 * The one workspace (T…) or Enterprise Grid organization (E…, an org-wide install) and the one
 * app Tycho answers; unset parts are learned from auth.test at startup.
 */
export interface SlackInstallation {
  teamId?: string;
  appId?: string;
}

export type SlackConfig =
  | { mode: 'off'; why: string }
  | ({ mode: 'socket'; botToken: string; appToken: string; signingSecret?: string; apiUrl?: string } & SlackInstallation)
  | ({ mode: 'http'; botToken: string; signingSecret: string; apiUrl?: string } & SlackInstallation);

export interface Config extends LauncherConfig {
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  port: number;
  host: string;
  slack: SlackConfig;
  notifyChannel?: string;
  admins: string[];
  /** Host names besides loopback that tokenless REST requests may be addressed to. */
  allowedHosts: string[];
}

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  str(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v ? v : undefined;
  }

  check(name: string, ok: (v: string) => boolean, expected: string): string | undefined {
    const v = this.str(name);
    if (v !== undefined && !ok(v)) {
      this.problems.push(`${name} ${expected}.`);
      return undefined;
    }
    return v;
  }

  int(name: string, min: number, max: number, fallback: number, what: string): number {
    const v = this.check(name, (s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, `must be ${what}, a whole number from ${min} to ${max}`);
    return v === undefined ? fallback : Number(v);
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const v = this.check(name, (s) => values.some((x) => x.toLowerCase() === s.toLowerCase()), `must be one of ${values.join(', ')}`);
    return v === undefined ? fallback : values.find((x) => x.toLowerCase() === v.toLowerCase())!;
  }
}

const URL_RE = /^https?:\/\/[^\s/]+(\/\S*)?$/;
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOST_RE = /^[A-Za-z0-9.-]+$|^\[?[0-9a-fA-F:]+\]?$/;

function readLauncher(r: Reader): LauncherConfig {
  const c: LauncherConfig = {
    serviceType: r.oneOf('TYCHO_SERVICE_TYPE', ['NodePort', 'LoadBalancer', 'ClusterIP'] as const, 'NodePort'),
    readyTimeoutSeconds: r.int('TYCHO_READY_TIMEOUT', 1, 3600, 300, 'the seconds to wait for an app to be ready'),
    onFailure: r.oneOf('TYCHO_ON_FAILURE', ['keep', 'delete'] as const, 'keep'),
    localCluster: r.oneOf('TYCHO_LOCAL_CLUSTER', ['auto', 'never'] as const, 'auto'),
  };
  const ns = r.check('TYCHO_NAMESPACE', (s) => NAMESPACE_RE.test(s) && s.length <= 63, 'must be a Kubernetes namespace name (lower-case letters, digits and "-")');
  if (ns) c.namespace = ns;
  const host = r.check('TYCHO_PUBLIC_HOST', (s) => HOST_RE.test(s), 'must be a host name or IP address, without scheme or port (e.g. apps.example.org)');
  if (host) c.publicHost = host;
  const url = r.check('TYCHO_URL', (s) => URL_RE.test(s), 'must be the URL of a Tycho server, e.g. http://tycho.example.org:3000');
  if (url) c.serverUrl = url.replace(/\/+$/, '');
  const token = r.check('TYCHO_API_TOKEN', (s) => s.length >= 16 && !/\s/.test(s), 'must be at least 16 characters without spaces (e.g. the output of `openssl rand -hex 24`)');
  if (token) c.apiToken = token;
  return c;
}

export function loadLauncherConfig(env: Env = process.env): LauncherConfig {
  const r = new Reader(env);
  const c = readLauncher(r);
  if (r.problems.length) throw new ConfigError(r.problems);
  return c;
}

function readSlack(r: Reader): SlackConfig {
  const botToken = r.check('SLACK_BOT_TOKEN', (s) => s.startsWith('xoxb-'), 'must be a bot token starting with "xoxb-" (OAuth & Permissions page of your Slack app)');
  const appToken = r.check('SLACK_APP_TOKEN', (s) => s.startsWith('xapp-'), 'must be an app-level token starting with "xapp-" with the connections:write scope (Basic Information page)');
  const signingSecret = r.check('SLACK_SIGNING_SECRET', (s) => /^[0-9a-f]{16,}$/i.test(s), 'must be the hex signing secret from the Basic Information page of your Slack app');
  let apiUrl = r.check('SLACK_API_URL', (s) => URL_RE.test(s), 'must be a URL such as https://slack.com/api/');
  if (apiUrl && !apiUrl.endsWith('/')) apiUrl += '/';
  const teamId = r.check('SLACK_TEAM_ID', (s) => /^[TE][A-Z0-9]{2,}$/.test(s), 'must be a workspace ID such as T0123ABCD, or an Enterprise Grid organization ID such as E0123ABCD for an org-wide install');
  const appId = r.check('SLACK_APP_ID', (s) => /^A[A-Z0-9]{2,}$/.test(s), 'must be a Slack app ID such as A0123ABCD (Basic Information page of your Slack app)');
  const extra = { ...(apiUrl ? { apiUrl } : {}), ...(teamId ? { teamId } : {}), ...(appId ? { appId } : {}) };
  if (!botToken) {
    if (r.str('SLACK_BOT_TOKEN')) return { mode: 'off', why: 'SLACK_BOT_TOKEN is invalid' };
    if (appToken || signingSecret) r.problems.push('SLACK_BOT_TOKEN is required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set.');
    return { mode: 'off', why: 'SLACK_BOT_TOKEN is not set' };
  }
  if (appToken) return { mode: 'socket', botToken, appToken, ...(signingSecret ? { signingSecret } : {}), ...extra };
  if (signingSecret) return { mode: 'http', botToken, signingSecret, ...extra };
  if (!r.str('SLACK_APP_TOKEN') && !r.str('SLACK_SIGNING_SECRET'))
    r.problems.push('SLACK_BOT_TOKEN is set, so set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) as well.');
  return { mode: 'off', why: 'Slack is not fully configured' };
}

export function loadConfig(env: Env = process.env): Config {
  const r = new Reader(env);
  const launcher = readLauncher(r);
  const slack = readSlack(r);
  const c: Config = {
    ...launcher,
    logLevel: r.oneOf('TYCHO_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    port: r.int('PORT', 0, 65535, 3000, 'the HTTP port (0 picks a free one)'),
    host: r.str('HOST') ?? '0.0.0.0',
    slack,
    admins: [],
    allowedHosts: [],
  };
  const channel = r.check('TYCHO_NOTIFY_CHANNEL', (s) => /^[CG][A-Z0-9]{4,}$/.test(s), 'must be a Slack channel ID such as C0123ABCD (not a #name: open the channel details to copy its ID)');
  if (channel) c.notifyChannel = channel;
  const admins = r.check('TYCHO_ADMINS', (s) => s.split(',').every((u) => /^[UW][A-Z0-9]{4,}$/.test(u.trim())), 'must be a comma-separated list of Slack user IDs such as U0123ABCD');
  if (admins) c.admins = admins.split(',').map((u) => u.trim());
  const hosts = r.check('TYCHO_ALLOWED_HOSTS', (s) => s.split(',').every((h) => HOST_RE.test(h.trim())), 'must be a comma-separated list of host names or IP addresses, without scheme or port (e.g. tycho.example.org,10.0.0.5)');
  if (hosts) c.allowedHosts = hosts.split(',').map((h) => h.trim().toLowerCase().replace(/^\[|\]$/g, ''));
  // In a pod, kubectl port-forward and service-mesh sidecars arrive from loopback too.
  if (r.str('KUBERNETES_SERVICE_HOST') && !r.str('TYCHO_API_TOKEN')) {
    r.problems.push('TYCHO_API_TOKEN must be set when Tycho runs in a Kubernetes pod, because port-forwards and sidecars reach it from loopback and would otherwise have full access to the REST API.');
  }
  if (r.problems.length) throw new ConfigError(r.problems);
  return c;
}
