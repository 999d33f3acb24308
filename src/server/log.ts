/**
 * One-line JSON logs. Anything that looks like a credential is masked before it is written,
 * whatever the caller passed in: in the message, in every string of the fields, and in every
 * field whose name says it holds a secret.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const MASK = '[redacted]';

/**
 * Words that make a name a secret's name: DB_PASSWORD, API_KEY, AWS_SECRET_ACCESS_KEY,
 * GITHUB_TOKEN, apiKey, X-Slack-Signature, … Matching on a fragment over-masks a little
 * (MONKEY=1 is masked too), which costs nothing in a log.
 */
const SECRET_NAME = /secret|passw(?:or)?d|passphrase|pwd|token|key|credential|authorization|cookie|signature/i;

/**
 * A name (starting where a run of name characters starts, so each run is tried once and
 * masking stays linear in the length of the line) and its separator: KEY=, "key": , KEY%3D
 * (a form body). Its value is read separately, so a value is only consumed when it is masked.
 */
const NAME_AND_SEPARATOR = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)(["']?\s*(?:=|:|%3[dD])\s*)/g;
const VALUE = /"[^"]*"|'[^']*'|[^\s"',;&}\])]+/y;
/** "-e 'DB_PASSWORD=hunter 2'": inside quotes, the value runs to the closing quote. */
const QUOTED_ASSIGNMENT = /(["'])([A-Za-z0-9_.-]+)=[^"'\n]*\1/g;

const PATTERNS: [RegExp, (m: string, ...groups: string[]) => string][] = [
  // Slack tokens: bot, user, app-level, refresh, configuration.
  [/\bxox[a-z]?-[A-Za-z0-9-]+/g, () => MASK],
  [/\bxapp-[A-Za-z0-9-]+/g, () => MASK],
  // An Authorization header, whatever its scheme: the scheme stays, the credential goes.
  [/\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(basic|bearer|digest|token|negotiate|aws4-hmac-sha256)\s+)?[^\s"',;}]+/gi, (_m, head, scheme) => `${head}${scheme ? `${scheme} ` : ''}${MASK}`],
  // A credential after its scheme anywhere else (curl -H, a pasted header).
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/-]{8,}=*/gi, (_m, scheme) => `${scheme} ${MASK}`],
  // user:password@ in a URL.
  [/((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:)[^@\s/]+@/gi, (_m, head) => `${head}${MASK}@`],
  [QUOTED_ASSIGNMENT, (m, q, name) => (isSecretName(name) ? `${q}${name}=${MASK}${q}` : m)],
];

/** (An Authorization header is masked by its own pattern, which keeps the scheme.) */
function isSecretName(name: string | undefined): boolean {
  return !!name && SECRET_NAME.test(name) && !/authorization$/i.test(name);
}

/** KEY=VALUE and "key": "value" whose name says it holds a secret. */
function maskAssignments(t: string): string {
  let out = '';
  let done = 0;
  for (const m of t.matchAll(NAME_AND_SEPARATOR)) {
    const at = m.index + m[0].length;
    if (m.index < done || !isSecretName(m[1]) || t.startsWith(MASK, at)) continue;
    VALUE.lastIndex = at;
    const value = VALUE.exec(t);
    if (!value) continue;
    out += `${t.slice(done, at)}${MASK}`;
    done = at + value[0].length;
  }
  return out + t.slice(done);
}

/** Masks credentials in free text. Idempotent: masking masked text changes nothing. */
export function redact(text: string): string {
  let t = text;
  for (const [re, replace] of PATTERNS) t = t.replace(re, replace as (m: string, ...g: string[]) => string);
  return maskAssignments(t);
}

/** Masks a log line's fields: secret-named fields entirely, every other string with `redact`. */
export function redactFields(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Error) return redact(value.message);
  if (!value || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactFields(v, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_NAME.test(k) && v !== null && v !== undefined && typeof v !== 'boolean' ? MASK : redactFields(v, seen);
  }
  return out;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Level[] = ['debug', 'info', 'warn', 'error'];

export function createLogger(opts: { level?: Level; write?: (line: string) => void } = {}): Logger {
  // An unknown level must not mean "log everything" (Bolt's debug output holds payloads).
  const min = ORDER.indexOf(opts.level && ORDER.includes(opts.level) ? opts.level : 'info');
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const log = (level: Level) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER.indexOf(level) < min) return;
    // Masked before serialising, so a mask never has to guess where a JSON string ends.
    write(JSON.stringify({ time: new Date().toISOString(), level, msg: redact(msg), ...(redactFields(fields) as Record<string, unknown>) }));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything (tests, the CLI). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
