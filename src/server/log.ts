/**
 * One-line JSON logs. Anything that looks like a credential is masked before it is written,
 * whatever the caller passed in.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';

const SECRET_PATTERNS: RegExp[] = [
  /xox[abposr]-[A-Za-z0-9-]+/g,
  /xapp-[A-Za-z0-9-]+/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi,
  /("?(?:token|secret|password|authorization)"?\s*[:=]\s*"?)[^"\s,}]+/gi,
];

export function redact(text: string): string {
  let t = text;
  for (const re of SECRET_PATTERNS) t = t.replace(re, (m, keep?: string) => (typeof keep === 'string' && keep ? `${keep}[redacted]` : '[redacted]'));
  return t;
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
    write(redact(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything (tests, the CLI). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
