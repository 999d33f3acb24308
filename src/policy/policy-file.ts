/**
 * The policy file (TYCHO_POLICY_FILE; in kubernetes/ a ConfigMap mounted into the pod): a small
 * YAML file of who may do what. Read once at start and validated like the environment: every
 * problem names the file, the key (images.allow[2]) and the expected form, all at once, and the
 * server does not start. Environment variables override single keys (config.ts).
 *
 *   channels: { allow: [C0123ABCD] }           # Slack channel IDs, never #names
 *   users: { allow: [U0123ABCD] }              # Slack user IDs
 *   admins: [U0ADMIN01]                        # with TYCHO_ADMINS
 *   images: { allow: [ghcr.io/our-org/, docker.io/jupyter/*-notebook] }
 *   systems: { maxPerUser: 3, maxTotal: 50 }
 *   limits: { maxCpu: "4", maxMemory: 16Gi, maxGpu: 1, exposeModes: [ingress, cluster] }
 *   list: { scope: channel }                   # or namespace (the default)
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import { EXPOSE_MODES, type ExposeMode } from '../k8s/spec.js';
import { checkCpu, checkMemory } from '../k8s/validate.js';
import { checkImageRule, imageRule, IMAGE_RULE_FORM, type ImageRule } from './images.js';
import type { ListScope } from './rules.js';

export const CHANNEL_ID_RE = /^[CGD][A-Z0-9]{4,}$/;
export const USER_ID_RE = /^[UW][A-Z0-9]{4,}$/;

/** What the file says; a key it does not set is undefined (the environment or the default decides). */
export interface PolicyFileValues {
  channels?: string[];
  users?: string[];
  admins?: string[];
  images?: ImageRule[];
  maxPerUser?: number;
  maxTotal?: number;
  listScope?: ListScope;
  maxCpu?: string;
  maxMemory?: string;
  maxGpu?: number;
  exposeModes?: ExposeMode[];
}

const USER_IDS = { one: 'a Slack user ID such as U0123ABCD', many: 'Slack user IDs' };

const KEYS: Record<string, readonly string[]> = {
  channels: ['allow'],
  users: ['allow'],
  admins: [],
  images: ['allow'],
  systems: ['maxPerUser', 'maxTotal'],
  limits: ['maxCpu', 'maxMemory', 'maxGpu', 'exposeModes'],
  list: ['scope'],
};

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

class FileReader {
  constructor(
    private readonly file: string,
    readonly problems: string[],
  ) {}

  problem(key: string, text: string): void {
    this.problems.push(`${this.file}: ${key} ${text}.`);
  }

  /** A list of strings, each checked; undefined (with a problem) when any is wrong. `form`: what one item is. */
  list<T>(key: string, v: unknown, each: (s: string) => string | null, make: (s: string) => T, form: { one: string; many: string }): T[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) {
      this.problem(key, `must be a list of ${form.many}`);
      return undefined;
    }
    let ok = true;
    v.forEach((x, i) => {
      const why = typeof x === 'string' ? each(x.trim()) : `must be ${form.one}`;
      if (why) (this.problem(`${key}[${i}]`, why), (ok = false));
    });
    return ok ? v.map((x: string) => make(x.trim())) : undefined;
  }

  count(key: string, v: unknown, min: number, max: number, what: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problem(key, `must be ${what}, a whole number from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }

  quantity(key: string, v: unknown, check: (s: string) => string | null, form: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    const s = typeof v === 'number' ? String(v) : v;
    if (typeof s !== 'string' || check(s) !== null) {
      this.problem(key, `must be ${form}`);
      return undefined;
    }
    return s;
  }
}

/** The file's values, or problems (pushed onto `problems`, each naming the file and the key). */
export function readPolicyFile(path: string, problems: string[], read: (p: string) => string = (p) => readFileSync(p, 'utf8')): PolicyFileValues {
  const file = basename(path);
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    problems.push(`TYCHO_POLICY_FILE names ${path}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); mount the policy ConfigMap there, or unset it.`);
    return {};
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    problems.push(`${file}: is not valid YAML at line ${e.linePos?.[0].line ?? '?'} (${e.message.split('\n')[0]}).`);
    return {};
  }
  const root: unknown = doc.toJS() ?? {};
  const r = new FileReader(file, problems);
  if (!isMap(root)) {
    r.problem('the top level', 'must be a map of policy keys (channels, users, admins, images, systems, limits, list)');
    return {};
  }
  for (const [k, v] of Object.entries(root)) {
    const sub = KEYS[k];
    if (!sub) {
      r.problem(k, `is not a policy key; the keys are ${Object.keys(KEYS).join(', ')}`);
      continue;
    }
    if (sub.length === 0 || v === null) continue;
    if (!isMap(v)) r.problem(k, `must be a map with ${sub.join(', ')}`);
    else for (const s of Object.keys(v)) if (!sub.includes(s)) r.problem(`${k}.${s}`, `is not a policy key; under ${k} the keys are ${sub.join(', ')}`);
  }
  const at = (k: string, s: string): unknown => (isMap(root[k]) ? (root[k] as Record<string, unknown>)[s] : undefined);
  const values: PolicyFileValues = {};
  const set = <K extends keyof PolicyFileValues>(k: K, v: PolicyFileValues[K] | undefined) => {
    if (v !== undefined) values[k] = v;
  };
  const slackId = (re: RegExp, example: string, what: string) => (s: string) => (re.test(s) ? null : `must be a Slack ${what} ID such as ${example} (IDs, never names)`);
  set('channels', r.list('channels.allow', at('channels', 'allow'), slackId(CHANNEL_ID_RE, 'C0123ABCD', 'channel'), (s) => s, { one: 'a Slack channel ID such as C0123ABCD', many: 'Slack channel IDs' }));
  set('users', r.list('users.allow', at('users', 'allow'), slackId(USER_ID_RE, 'U0123ABCD', 'user'), (s) => s, USER_IDS));
  set('admins', r.list('admins', root.admins, slackId(USER_ID_RE, 'U0123ABCD', 'user'), (s) => s, USER_IDS));
  set('images', r.list('images.allow', at('images', 'allow'), checkImageRule, imageRule, { one: IMAGE_RULE_FORM, many: 'registry/repository prefixes or patterns, such as [ghcr.io/our-org/, docker.io/jupyter/*-notebook]' }));
  set('maxPerUser', r.count('systems.maxPerUser', at('systems', 'maxPerUser'), 1, 1000, 'the most systems one person may have'));
  set('maxTotal', r.count('systems.maxTotal', at('systems', 'maxTotal'), 1, 100000, 'the most systems Tycho may run'));
  set('maxCpu', r.quantity('limits.maxCpu', at('limits', 'maxCpu'), checkCpu, 'a cpu amount such as 4 or 2500m'));
  set('maxMemory', r.quantity('limits.maxMemory', at('limits', 'maxMemory'), checkMemory, 'a memory amount such as 16Gi or 8G'));
  set('maxGpu', r.count('limits.maxGpu', at('limits', 'maxGpu'), 0, 16, 'the most GPUs one system may have'));
  const byMode = (s: string) => EXPOSE_MODES.find((m) => m === s.toLowerCase());
  set('exposeModes', r.list('limits.exposeModes', at('limits', 'exposeModes'), (s) => (byMode(s) ? null : `must be one of ${EXPOSE_MODES.join(', ')}`), (s) => byMode(s)!, { one: `one of ${EXPOSE_MODES.join(', ')}`, many: `exposure modes (${EXPOSE_MODES.join(', ')})` }));
  const scope = at('list', 'scope');
  if (scope !== undefined && scope !== null) {
    if (scope === 'namespace' || scope === 'channel') values.listScope = scope;
    else r.problem('list.scope', 'must be namespace (every system) or channel (only those launched from the asking channel)');
  }
  return values;
}
