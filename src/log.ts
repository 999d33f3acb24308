/**
 * Tycho's logger: pino, one JSON line per event on stdout (human-readable when stdout is a
 * terminal and the dev dependency pino-pretty is installed). Child loggers carry what ties lines
 * together: a request id (`reqId`), a launch id (`launchId`, also on the Deployment) and the
 * component that logged (`component`).
 *
 * No credential reaches a line, whatever the caller passed in:
 * - pino's `redact` censors the places a token is known to live (a request's Authorization and
 *   Cookie headers, Slack's signature, the tokens of the configuration);
 * - a hook masks everything else before pino serialises it: the message, every string of the
 *   fields, and every field whose name says it holds a secret (`redact`, `redactFields`).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { pino, stdSerializers, type DestinationStream, type Logger as PinoLogger } from 'pino';

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

export type Fields = Record<string, unknown>;

/**
 * Tycho's call sites say `log.info(message, fields)`; this keeps that order (pino's own is
 * `(fields, message)`) so that every line is still written in one familiar shape.
 */
export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  /** A logger whose every line also carries these fields (a request id, a launch id, a component). */
  child(bindings: Fields): Logger;
  /** The pino logger underneath, for libraries that take one (pino-http). */
  readonly pino: PinoLogger;
}

/** Where tokens are known to live, censored by pino whatever the field's other contents. */
export const TOKEN_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'token',
  'apiToken',
  'botToken',
  'appToken',
  'signingSecret',
  '*.token',
  '*.apiToken',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
];

/**
 * Fields pino turns into plain objects itself (a request, a response, an error): the hook leaves
 * them to their serializers (masked in turn, see request-log.ts), rather than walking a socket.
 */
const SERIALIZED = new Set(['req', 'res', 'err']);

function maskTopLevel(fields: Fields): Fields {
  const raw: Fields = {};
  const rest: Fields = {};
  for (const [k, v] of Object.entries(fields)) (SERIALIZED.has(k) ? raw : rest)[k] = v;
  return { ...(redactFields(rest) as Fields), ...raw };
}

const isPlainObject = (v: unknown): v is Fields => !!v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;

/** pino-pretty when stdout is a terminal and it is installed (a dev dependency: never in the image). */
function prettyStream(): DestinationStream | undefined {
  if (!process.stdout.isTTY) return undefined;
  try {
    const pretty = createRequire(import.meta.url)('pino-pretty') as (o: object) => DestinationStream;
    return pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  } catch {
    return undefined;
  }
}

/** The message goes first in the object, so a line reads time, level, ids, message, then the details. */
function wrap(p: PinoLogger): Logger {
  return {
    debug: (msg, fields) => p.debug({ msg, ...fields }),
    info: (msg, fields) => p.info({ msg, ...fields }),
    warn: (msg, fields) => p.warn({ msg, ...fields }),
    error: (msg, fields) => p.error({ msg, ...fields }),
    // pino applies no formatter to a child's bindings, so they are masked here.
    child: (bindings) => wrap(p.child(maskTopLevel(bindings))),
    pino: p,
  };
}

export const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/**
 * `write` receives each line without its newline (tests); without it, lines go to stdout,
 * synchronously, so the last line before an exit is never lost.
 */
export function createLogger(opts: { level?: Level; write?: (line: string) => void } = {}): Logger {
  const write = opts.write;
  const destination: DestinationStream = write
    ? { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) }
    : (prettyStream() ?? pino.destination({ dest: 1, sync: true }));
  return wrap(
    pino(
      {
        // An unknown level must not mean "log everything" (Bolt's debug output holds payloads).
        level: opts.level && LEVELS.includes(opts.level) ? opts.level : 'info',
        timestamp: pino.stdTimeFunctions.isoTime,
        redact: { paths: TOKEN_PATHS, censor: MASK },
        serializers: {
          req: (r: Parameters<typeof stdSerializers.req>[0]) => redactFields(stdSerializers.req(r)),
          res: (r: Parameters<typeof stdSerializers.res>[0]) => redactFields(stdSerializers.res(r)),
          err: (e: Error) => redactFields(stdSerializers.err(e)),
        },
        formatters: { level: (label) => ({ level: label }) },
        hooks: {
          // Masked before serialising, so a mask never has to guess where a JSON string ends.
          logMethod(args, method) {
            const masked = (args as unknown[]).map((a) => (typeof a === 'string' ? redact(a) : isPlainObject(a) ? maskTopLevel(a) : a));
            // An error logged on its own gets its message as the line's message: masked too.
            if (masked[0] instanceof Error && typeof masked[1] !== 'string') masked.splice(1, 0, redact(masked[0].message));
            return method.apply(this, masked as Parameters<typeof method>);
          },
        },
      },
      destination,
    ),
  );
}

/** A short random id for a request or a launch: enough to tell one from another in a day's logs. */
export function newLogId(): string {
  return randomBytes(6).toString('hex');
}

/** A logger that drops everything (tests, the CLI). */
export const silentLogger: Logger = wrap(pino({ enabled: false }));
