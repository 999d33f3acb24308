/**
 * Configuration is read once, from the environment (a .env file is loaded first), and
 * validated. Every problem names the variable and the expected form, and all are reported
 * at once so a person fixes them in one go.
 */
import { DEFAULT_RESOURCES, EXPOSE_MODES, SERVICE_TYPES, exposeOfServiceType, type ExposeMode } from './k8s/spec.js';
import { isDnsName, type IngressSettings } from './k8s/ingress.js';
import { DEFAULT_LAUNCH_CONCURRENCY } from './concurrency.js';
import { NOTICE_BATCH_MS, SLACK_CHANNEL_INTERVAL_MS } from './bot/slack-pace.js';
import type { OnFailure } from './k8s/launcher.js';
import type { UrlCheckMode } from './k8s/url-probe.js';
import { compareQuantity, parseCpu, parseMemory } from './k8s/quantity.js';
import { checkCpu, checkMemory } from './k8s/validate.js';
import { DEFAULT_LIMITS, POLICY_SETTINGS, type LaunchPolicy, type LimitKey } from './commands/policy.js';
import { CHANNEL_ID_RE, readPolicyFile, USER_ID_RE, type PolicyFileValues } from './policy/policy-file.js';
import { checkImageRule, imageRule, IMAGE_RULE_FORM } from './policy/images.js';
import type { AccessPolicy } from './policy/rules.js';
import { readExpirySettings, type ExpirySettings } from './k8s/expiry.js';
import { readDigestSettings, type DigestSettings } from './bot/digest-schedule.js';

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
  /** How a launch without --expose is reached (TYCHO_DEFAULT_EXPOSE, or its older spelling TYCHO_SERVICE_TYPE). */
  expose: ExposeMode;
  /** Set when TYCHO_INGRESS_DOMAIN is: every `ingress` launch gets an Ingress built from these. */
  ingress?: IngressSettings;
  /** Only claims whose names start with this may be mounted with --volume (TYCHO_VOLUME_CLAIM_PREFIX). */
  volumeClaimPrefix?: string;
  /** What people who are not admins may ask for in a launch. */
  policy: LaunchPolicy;
  /** Who may do what (channels, users, images, how many systems, what `list` shows): src/policy. */
  access: AccessPolicy;
  publicHost?: string;
  readyTimeoutSeconds: number;
  onFailure: OnFailure;
  /** auto: start the built-in local cluster only when no cluster is configured. */
  localCluster: 'auto' | 'never';
  /** Which address to open before calling a system ready (src/k8s/url-probe.ts). */
  urlCheck: UrlCheckMode;
  urlCheckSeconds: number;
  /** Launches whose writes run at once; the rest queue (TYCHO_LAUNCH_CONCURRENCY). */
  launchConcurrency: number;
  /** How long systems live (TYCHO_DEFAULT_TTL, TYCHO_MAX_TTL) and when their thread is warned (TYCHO_EXPIRY_WARNING). */
  expiry: ExpirySettings;
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
  /** REST callers holding TYCHO_API_TOKEN are not limited by the launch policy. */
  apiTokenUnlimited: boolean;
  /** Host names besides loopback that tokenless REST requests may be addressed to. */
  allowedHosts: string[];
  /** Leader election: the Lease (pre-created by the manifests), where it lives, how long it lasts. */
  lease: { name: string; namespace?: string; seconds: number };
  /** After SIGTERM: how long to keep serving with /readyz at 503 while Endpoints catch up. */
  drainSeconds: number;
  /** A served system may stop serving this long (a pod replaced, a rollout) before it is an incident in its thread. */
  incidentGraceSeconds: number;
  /** Slack's pace: the least time between two messages (posts, updates) to one channel; 0 does not pace. */
  slackChannelIntervalMs: number;
  /** Notices to the team channel arriving within this of the first are posted as one message; 0 posts each alone. */
  noticeBatchMs: number;
  /** The daily digest's time (TYCHO_DIGEST_AT, TYCHO_DIGEST_TZ); unset: no digest. */
  digest?: DigestSettings;
}

class Reader {
  readonly problems: string[] = [];
  /** The policy file's name, as problems and refusals name it. */
  policyFile = 'policy.yaml';
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

const byServiceType = (s: string) => SERVICE_TYPES.find((t) => t.toLowerCase() === s.trim().toLowerCase());
const byMode = (s: string) => EXPOSE_MODES.find((m) => m === s.trim().toLowerCase());

/**
 * Which exposure modes people who are not admins may choose. TYCHO_USER_EXPOSE_MODES, or the
 * older TYCHO_USER_SERVICE_TYPES (Service types, read as their modes). Unset: only the default,
 * or with an ingress domain everything but `loadbalancer` (each one is a cloud load balancer).
 */
function readExposeModes(r: Reader, expose: ExposeMode, hasDomain: boolean, file: PolicyFileValues): ExposeMode[] {
  const modes = r.check(POLICY_SETTINGS.exposeModes, (s) => s.split(',').every((m) => byMode(m) !== undefined), `must be a comma-separated list of ${EXPOSE_MODES.join(', ')}`);
  const types = r.check(POLICY_SETTINGS.serviceTypes, (s) => s.split(',').every((t) => byServiceType(t) !== undefined), `must be a comma-separated list of ${SERVICE_TYPES.join(', ')}`);
  if (modes && types) r.problems.push(`Set ${POLICY_SETTINGS.exposeModes} or ${POLICY_SETTINGS.serviceTypes} (its older spelling), not both.`);
  const chosen = modes
    ? modes.split(',').map((m) => byMode(m)!)
    : types
      ? types.split(',').map((t) => exposeOfServiceType(byServiceType(t)!))
      : file.exposeModes
        ? file.exposeModes
        : hasDomain
          ? EXPOSE_MODES.filter((m) => m !== 'loadbalancer')
          : [];
  const named = !modes && !types && file.exposeModes ? `${r.policyFile}: limits.exposeModes` : POLICY_SETTINGS.exposeModes;
  if (!hasDomain && chosen.includes('ingress')) r.problems.push(`${named} names ingress, which needs TYCHO_INGRESS_DOMAIN.`);
  // Taking the configured default is not a choice, so it is always allowed.
  return [...new Set([expose, ...chosen])];
}

function readPolicy(r: Reader, expose: ExposeMode, hasDomain: boolean, file: PolicyFileValues): LaunchPolicy {
  const exposeModes = readExposeModes(r, expose, hasDomain, file);
  // A maximum below the default limit would let every launch without --cpu/--memory past it.
  const maxCpu = r.check(
    POLICY_SETTINGS.maxCpu,
    (s) => checkCpu(s) === null && compareQuantity(parseCpu(s)!, parseCpu(DEFAULT_RESOURCES.cpuLimit)!) >= 0,
    `must be a cpu amount such as 4 or 2500m, at least ${DEFAULT_RESOURCES.cpuLimit} (the limit every app gets by default)`,
  );
  const maxMemory = r.check(
    POLICY_SETTINGS.maxMemory,
    (s) => checkMemory(s) === null && compareQuantity(parseMemory(s)!, parseMemory(DEFAULT_RESOURCES.memoryLimit)!) >= 0,
    `must be a memory amount such as 16Gi or 8G, at least ${DEFAULT_RESOURCES.memoryLimit} (the limit every app gets by default)`,
  );
  const maxGpu = r.str(POLICY_SETTINGS.maxGpu) === undefined ? file.maxGpu : undefined;
  // The file's values are read where the environment does not set the key; they must be at
  // least the defaults for the same reason.
  const fileCpu = maxCpu === undefined && !r.str(POLICY_SETTINGS.maxCpu) ? file.maxCpu : undefined;
  if (fileCpu !== undefined && compareQuantity(parseCpu(fileCpu)!, parseCpu(DEFAULT_RESOURCES.cpuLimit)!) < 0) {
    r.problems.push(`${r.policyFile}: limits.maxCpu must be at least ${DEFAULT_RESOURCES.cpuLimit} (the limit every app gets by default).`);
  }
  const fileMemory = maxMemory === undefined && !r.str(POLICY_SETTINGS.maxMemory) ? file.maxMemory : undefined;
  if (fileMemory !== undefined && compareQuantity(parseMemory(fileMemory)!, parseMemory(DEFAULT_RESOURCES.memoryLimit)!) < 0) {
    r.problems.push(`${r.policyFile}: limits.maxMemory must be at least ${DEFAULT_RESOURCES.memoryLimit} (the limit every app gets by default).`);
  }
  const fromFile: Partial<Record<LimitKey, true>> = {};
  if (!r.str(POLICY_SETTINGS.exposeModes) && !r.str(POLICY_SETTINGS.serviceTypes) && file.exposeModes) fromFile.exposeModes = true;
  if (fileCpu !== undefined) fromFile.maxCpu = true;
  if (fileMemory !== undefined) fromFile.maxMemory = true;
  if (maxGpu !== undefined) fromFile.maxGpu = true;
  return {
    exposeModes,
    maxCpu: maxCpu ?? fileCpu ?? DEFAULT_LIMITS.maxCpu,
    maxMemory: maxMemory ?? fileMemory ?? DEFAULT_LIMITS.maxMemory,
    maxGpu: maxGpu ?? r.int(POLICY_SETTINGS.maxGpu, 0, 16, DEFAULT_LIMITS.maxGpu, 'the most GPUs one system may have'),
    ...(Object.keys(fromFile).length ? { fromFile } : {}),
  };
}

/** The environment variables that override single keys of the policy file. */
export const ACCESS_SETTINGS = {
  channels: 'TYCHO_ALLOWED_CHANNELS',
  users: 'TYCHO_ALLOWED_USERS',
  images: 'TYCHO_ALLOWED_IMAGES',
  maxPerUser: 'TYCHO_MAX_SYSTEMS_PER_USER',
  maxTotal: 'TYCHO_MAX_SYSTEMS',
  listScope: 'TYCHO_LIST_SCOPE',
} as const;

const commaList = (s: string) => s.split(',').map((x) => x.trim()).filter((x) => x !== '');

/** Who may do what: the policy file's keys, each overridden by its environment variable when that is set. */
function readAccess(r: Reader, file: PolicyFileValues): AccessPolicy {
  const channels = r.check(ACCESS_SETTINGS.channels, (s) => commaList(s).every((c) => CHANNEL_ID_RE.test(c)), 'must be a comma-separated list of Slack channel IDs such as C0123ABCD (IDs, never #names)');
  const users = r.check(ACCESS_SETTINGS.users, (s) => commaList(s).every((u) => USER_ID_RE.test(u)), 'must be a comma-separated list of Slack user IDs such as U0123ABCD');
  const images = r.check(ACCESS_SETTINGS.images, (s) => commaList(s).every((i) => checkImageRule(i) === null), `must be a comma-separated list of ${IMAGE_RULE_FORM}`);
  const perUser = r.str(ACCESS_SETTINGS.maxPerUser) ? r.int(ACCESS_SETTINGS.maxPerUser, 1, 1000, 0, 'the most systems one person may have') : undefined;
  const total = r.str(ACCESS_SETTINGS.maxTotal) ? r.int(ACCESS_SETTINGS.maxTotal, 1, 100000, 0, 'the most systems Tycho may run') : undefined;
  const scope = r.str(ACCESS_SETTINGS.listScope) ? r.oneOf(ACCESS_SETTINGS.listScope, ['namespace', 'channel'] as const, 'namespace') : undefined;
  return {
    channels: channels ? commaList(channels) : (file.channels ?? null),
    users: users ? commaList(users) : (file.users ?? null),
    images: images ? commaList(images).map(imageRule) : (file.images ?? null),
    maxPerUser: perUser || (file.maxPerUser ?? null),
    maxTotal: total || (file.maxTotal ?? null),
    listScope: scope ?? file.listScope ?? 'namespace',
  };
}

/** TYCHO_POLICY_FILE, when set: read and validated (its problems join the environment's). */
function readPolicyFileOf(r: Reader): PolicyFileValues {
  const path = r.str('TYCHO_POLICY_FILE');
  if (!path) return {};
  r.policyFile = path.split('/').pop() || path;
  return readPolicyFile(path, r.problems);
}

const URL_RE = /^https?:\/\/[^\s/]+(\/\S*)?$/;
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HOST_RE = /^[A-Za-z0-9.-]+$|^\[?[0-9a-fA-F:]+\]?$/;

/** An annotation key: an optional DNS-name prefix and "/", then a name of up to 63 characters. */
const ANNOTATION_KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function readAnnotations(r: Reader, name: string): Record<string, string> {
  const text = r.str(name);
  if (text === undefined) return {};
  const expected = `must be a JSON object of annotation names to string values, e.g. {"nginx.ingress.kubernetes.io/auth-url":"https://auth.example.org/oauth2/auth"}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    r.problems.push(`${name} is not valid JSON; it ${expected}.`);
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    r.problems.push(`${name} ${expected}.`);
    return {};
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  const badKey = entries.find(([k]) => !ANNOTATION_KEY_RE.test(k))?.[0];
  if (badKey !== undefined) r.problems.push(`${name} has "${badKey}", which is not an annotation name (an optional DNS prefix and "/", then letters, digits, "-", "_" and ".").`);
  const badValue = entries.find(([, v]) => typeof v !== 'string')?.[0];
  if (badValue !== undefined) r.problems.push(`${name} gives "${badValue}" a value that is not a string; annotation values are strings (quote numbers and booleans).`);
  return badKey === undefined && badValue === undefined ? (parsed as Record<string, string>) : {};
}

/** TYCHO_INGRESS_*: unset TYCHO_INGRESS_DOMAIN means no Ingresses (and the other settings are refused, so none is silently ignored). */
function readIngress(r: Reader): IngressSettings | undefined {
  const domain = r.check('TYCHO_INGRESS_DOMAIN', (s) => isDnsName(s), 'must be a DNS domain in lower case, e.g. apps.example.org (apps get NAME.apps.example.org)');
  const template = r.check(
    'TYCHO_INGRESS_HOST_TEMPLATE',
    (s) => s.includes('{name}') && isDnsName(s.replaceAll('{name}', 'a').replaceAll('{namespace}', 'b').replaceAll('{domain}', 'c.d')),
    'must be a host name containing {name}, and may use {namespace} and {domain}, e.g. {name}-{namespace}.{domain}',
  );
  const className = r.check('TYCHO_INGRESS_CLASS', (s) => isDnsName(s), 'must be the name of an IngressClass, e.g. nginx');
  const tlsSecret = r.check('TYCHO_INGRESS_TLS_SECRET', (s) => isDnsName(s), 'must be the name of a TLS Secret in the apps namespace, e.g. wildcard-apps-tls');
  const annotations = readAnnotations(r, 'TYCHO_INGRESS_ANNOTATIONS');
  const address = r.check('TYCHO_INGRESS_ADDRESS', (s) => /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/.test(s) && Number(/:(\d+)$/.exec(s)?.[1] ?? 443) <= 65535, 'must be host[:port] where Tycho reaches the ingress controller, e.g. 10.0.0.7 or ingress-nginx-controller.ingress-nginx:443');
  if (!domain) {
    const stray = ['TYCHO_INGRESS_HOST_TEMPLATE', 'TYCHO_INGRESS_CLASS', 'TYCHO_INGRESS_TLS_SECRET', 'TYCHO_INGRESS_ANNOTATIONS', 'TYCHO_INGRESS_ADDRESS'].filter((n) => r.str(n));
    if (stray.length) r.problems.push(`${stray.join(', ')} ${stray.length === 1 ? 'has' : 'have'} no effect without TYCHO_INGRESS_DOMAIN; set it too.`);
    return undefined;
  }
  const settings: IngressSettings = { domain, hostTemplate: template ?? '{name}.{domain}', annotations };
  if (className) settings.className = className;
  if (tlsSecret) settings.tlsSecret = tlsSecret;
  if (address) settings.address = address;
  return settings;
}

/** TYCHO_DEFAULT_EXPOSE, or the older TYCHO_SERVICE_TYPE; with an ingress domain the default is `ingress`. */
function readDefaultExpose(r: Reader, hasDomain: boolean): ExposeMode {
  const mode = r.check('TYCHO_DEFAULT_EXPOSE', (s) => byMode(s) !== undefined, `must be one of ${EXPOSE_MODES.join(', ')}`);
  const type = r.check('TYCHO_SERVICE_TYPE', (s) => byServiceType(s) !== undefined, `must be one of ${SERVICE_TYPES.join(', ')}`);
  if (mode && type) r.problems.push('Set TYCHO_DEFAULT_EXPOSE or TYCHO_SERVICE_TYPE (its older spelling), not both.');
  const expose = mode ? byMode(mode)! : type ? exposeOfServiceType(byServiceType(type)!) : hasDomain ? 'ingress' : 'nodeport';
  if (expose === 'ingress' && !hasDomain) r.problems.push('TYCHO_DEFAULT_EXPOSE=ingress needs TYCHO_INGRESS_DOMAIN, the domain the apps\' host names are made in.');
  return expose;
}

function readLauncher(r: Reader, file: PolicyFileValues): LauncherConfig {
  const ingress = readIngress(r);
  const expose = readDefaultExpose(r, !!ingress);
  const expiry = readExpirySettings((name) => r.str(name));
  r.problems.push(...expiry.problems);
  const c: LauncherConfig = {
    expose,
    ...(ingress ? { ingress } : {}),
    policy: readPolicy(r, expose, !!ingress, file),
    access: readAccess(r, file),
    readyTimeoutSeconds: r.int('TYCHO_READY_TIMEOUT', 1, 3600, 300, 'the seconds to wait for an app to be ready'),
    onFailure: r.oneOf('TYCHO_ON_FAILURE', ['keep', 'delete'] as const, 'keep'),
    localCluster: r.oneOf('TYCHO_LOCAL_CLUSTER', ['auto', 'never'] as const, 'auto'),
    urlCheck: r.oneOf('TYCHO_URL_CHECK', ['auto', 'public', 'cluster', 'off'] as const, 'auto'),
    urlCheckSeconds: r.int('TYCHO_URL_CHECK_SECONDS', 1, 600, 20, 'how long to keep trying a new URL before reporting it unverified'),
    launchConcurrency: r.int('TYCHO_LAUNCH_CONCURRENCY', 1, 1000, DEFAULT_LAUNCH_CONCURRENCY, 'how many launches create their objects at once (the rest queue)'),
    expiry: expiry.settings,
  };
  const ns = r.check('TYCHO_NAMESPACE', (s) => NAMESPACE_RE.test(s) && s.length <= 63, 'must be a Kubernetes namespace name (lower-case letters, digits and "-")');
  if (ns) c.namespace = ns;
  const prefix = r.check('TYCHO_VOLUME_CLAIM_PREFIX', (s) => /^[a-z0-9][-a-z0-9.]*$/.test(s) && s.length <= 253, 'must be the start of a PersistentVolumeClaim name (lower-case letters, digits, "-" and "."), e.g. shared-');
  if (prefix) c.volumeClaimPrefix = prefix;
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
  const c = readLauncher(r, readPolicyFileOf(r));
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
  const file = readPolicyFileOf(r);
  const launcher = readLauncher(r, file);
  const slack = readSlack(r);
  const c: Config = {
    ...launcher,
    logLevel: r.oneOf('TYCHO_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
    port: r.int('PORT', 0, 65535, 3000, 'the HTTP port (0 picks a free one)'),
    host: r.str('HOST') ?? '0.0.0.0',
    slack,
    admins: [],
    apiTokenUnlimited: r.oneOf('TYCHO_API_TOKEN_UNLIMITED', ['true', 'false'] as const, 'false') === 'true',
    lease: {
      name: r.check('TYCHO_LEASE_NAME', (v) => NAMESPACE_RE.test(v) && v.length <= 63, 'must be a Lease name (lower-case letters, digits and "-")') ?? 'tycho-leader',
      seconds: r.int('TYCHO_LEASE_SECONDS', 3, 300, 15, 'the leader Lease duration in seconds'),
    },
    drainSeconds: r.int('TYCHO_DRAIN_SECONDS', 0, 120, 5, 'the seconds to keep serving after SIGTERM'),
    incidentGraceSeconds: r.int('TYCHO_INCIDENT_GRACE_SECONDS', 1, 3600, 30, 'the seconds a served system may stop serving before its thread is told'),
    slackChannelIntervalMs: r.int('TYCHO_SLACK_CHANNEL_INTERVAL_MS', 0, 60_000, SLACK_CHANNEL_INTERVAL_MS, 'the milliseconds between two messages to one Slack channel (0: not paced)'),
    noticeBatchMs: r.int('TYCHO_NOTICE_BATCH_MS', 0, 60_000, NOTICE_BATCH_MS, 'the milliseconds notices to the team channel gather into one message (0: each alone)'),
    allowedHosts: [],
  };
  const digest = readDigestSettings((name) => r.str(name));
  r.problems.push(...digest.problems);
  if (digest.settings) c.digest = digest.settings;
  if (c.apiTokenUnlimited && !c.apiToken) {
    r.problems.push('TYCHO_API_TOKEN_UNLIMITED=true needs TYCHO_API_TOKEN: without a token, Tycho only knows a caller is on its machine, and so is any port-forward or web page.');
  }
  const channel = r.check('TYCHO_NOTIFY_CHANNEL', (s) => /^[CG][A-Z0-9]{4,}$/.test(s), 'must be a Slack channel ID such as C0123ABCD (not a #name: open the channel details to copy its ID)');
  if (channel) c.notifyChannel = channel;
  const leaseNs = r.check('TYCHO_LEASE_NAMESPACE', (v) => NAMESPACE_RE.test(v) && v.length <= 63, 'must be a Kubernetes namespace name (lower-case letters, digits and "-")');
  if (leaseNs) c.lease.namespace = leaseNs;
  const admins = r.check('TYCHO_ADMINS', (s) => s.split(',').every((u) => /^[UW][A-Z0-9]{4,}$/.test(u.trim())), 'must be a comma-separated list of Slack user IDs such as U0123ABCD');
  // The file's admins and TYCHO_ADMINS together: an installation that had the variable keeps it.
  c.admins = [...new Set([...(file.admins ?? []), ...(admins ? admins.split(',').map((u) => u.trim()) : [])])];
  const hosts = r.check('TYCHO_ALLOWED_HOSTS', (s) => s.split(',').every((h) => HOST_RE.test(h.trim())), 'must be a comma-separated list of host names or IP addresses, without scheme or port (e.g. tycho.example.org,10.0.0.5)');
  if (hosts) c.allowedHosts = hosts.split(',').map((h) => h.trim().toLowerCase().replace(/^\[|\]$/g, ''));
  // In a pod, kubectl port-forward and service-mesh sidecars arrive from loopback too.
  if (r.str('KUBERNETES_SERVICE_HOST') && !r.str('TYCHO_API_TOKEN')) {
    r.problems.push('TYCHO_API_TOKEN must be set when Tycho runs in a Kubernetes pod, because port-forwards and sidecars reach it from loopback and would otherwise have full access to the REST API.');
  }
  if (r.problems.length) throw new ConfigError(r.problems);
  return c;
}
