/**
 * How long a system lives: durations as people type them (2h, 90m, 1d12h), the operator's default
 * and maximum TTL and the warning lead, and the rules for a launch's and an extend's expiry.
 * Pure functions: the configuration (config.ts, and a policy file later) and the commands
 * (up.ts, extend.ts) and the launcher all use these, so the rules read the same everywhere.
 * Expiries are wall-clock ISO times on the Deployment (labels.ANN_EXPIRES): they survive restarts.
 */

export interface ExpirySettings {
  /** A launch without --ttl, and an extend without one, gets this long. */
  defaultTtlMs: number;
  /** No system lives longer than this from now: a longer --ttl is refused, an extend is capped. */
  maxTtlMs: number;
  /** How long before its expiry the system's Slack thread is warned. */
  warningMs: number;
}

/** The variables behind each rule, named in every refusal and configuration problem. */
export const EXPIRY_SETTINGS = {
  defaultTtl: 'TYCHO_DEFAULT_TTL',
  maxTtl: 'TYCHO_MAX_TTL',
  warning: 'TYCHO_EXPIRY_WARNING',
} as const;

export const DEFAULT_EXPIRY = { defaultTtl: '8h', maxTtl: '7d', warning: '15m' } as const;

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
/** Each unit at most once, largest first: "1d12h", "90m", "20s". */
const DURATION_RE = /^(?:(\d{1,6})d)?(?:(\d{1,7})h)?(?:(\d{1,9})m)?(?:(\d{1,10})s)?$/;
/** Nothing Tycho keeps needs more than a year; longer is a typo. */
const LONGEST_MS = 366 * UNIT_MS.d;

/** Milliseconds, or undefined when the text is not a positive duration of at most a year. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim().toLowerCase());
  if (!m || !(m[1] || m[2] || m[3] || m[4])) return undefined;
  const ms = Number(m[1] ?? 0) * UNIT_MS.d + Number(m[2] ?? 0) * UNIT_MS.h + Number(m[3] ?? 0) * UNIT_MS.m + Number(m[4] ?? 0) * UNIT_MS.s;
  return ms > 0 && ms <= LONGEST_MS ? ms : undefined;
}

/** A duration as people type it: 8h, 1h30m, 7d. Rounded down to the second. */
export function formatDuration(ms: number): string {
  let left = Math.floor(ms / 1000) * 1000;
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(left / size);
    if (n) out += `${n}${unit}`;
    left -= n * size;
  }
  return out || '0s';
}

const DURATION_FORM = 'a duration such as 8h, 90m or 7d';

/**
 * Reads the three settings through `get` (an environment variable's value, or a policy file's
 * key under the same name). Every problem names the variable and the expected form.
 */
export function readExpirySettings(get: (name: string) => string | undefined): { settings: ExpirySettings; problems: string[] } {
  const problems: string[] = [];
  const read = (name: string, fallback: string): number => {
    const v = get(name)?.trim();
    if (!v) return parseDuration(fallback)!;
    const ms = parseDuration(v);
    if (ms === undefined) {
      problems.push(`${name} must be ${DURATION_FORM}.`);
      return parseDuration(fallback)!;
    }
    return ms;
  };
  const settings: ExpirySettings = {
    defaultTtlMs: read(EXPIRY_SETTINGS.defaultTtl, DEFAULT_EXPIRY.defaultTtl),
    maxTtlMs: read(EXPIRY_SETTINGS.maxTtl, DEFAULT_EXPIRY.maxTtl),
    warningMs: read(EXPIRY_SETTINGS.warning, DEFAULT_EXPIRY.warning),
  };
  if (problems.length === 0 && settings.defaultTtlMs > settings.maxTtlMs) {
    problems.push(`${EXPIRY_SETTINGS.defaultTtl} (${formatDuration(settings.defaultTtlMs)}) must not be longer than ${EXPIRY_SETTINGS.maxTtl} (${formatDuration(settings.maxTtlMs)}).`);
  }
  return { settings, problems };
}

/** Why a --ttl is not a duration, in one sentence, or null. */
export function checkDuration(ttl: string): string | null {
  return parseDuration(ttl) === undefined ? `"${ttl}" is not a duration; give --ttl as a number with d, h, m or s, e.g. 2h, 90m or 1d12h.` : null;
}

/** Why a --ttl is refused, in one sentence, or null: not a duration, or longer than the maximum. */
export function checkTtl(ttl: string, s: ExpirySettings): string | null {
  const ms = parseDuration(ttl);
  if (ms === undefined) return checkDuration(ttl);
  if (ms > s.maxTtlMs) {
    return `A --ttl of ${formatDuration(ms)} is longer than the ${formatDuration(s.maxTtlMs)} a system may live here (the operator's setting ${EXPIRY_SETTINGS.maxTtl}); ask for less.`;
  }
  return null;
}

/** The expiry of a system launched now: `ttlMs` (checked against the maximum already), else the default. */
export function expiryFor(ttlMs: number | undefined, s: ExpirySettings, nowMs: number): string {
  return new Date(nowMs + (ttlMs ?? s.defaultTtlMs)).toISOString();
}

/**
 * An extend adds `ttlMs` (else the default TTL) to what is left, so it never shortens a system's
 * life; one already past (the reaper has not reached it yet) counts from now. No system lives
 * longer than the maximum from now: `capped` says the cap applied.
 */
export function extendedExpiry(current: string | null | undefined, ttlMs: number | undefined, s: ExpirySettings, nowMs: number): { expires: string; capped: boolean } {
  const currentMs = current ? Date.parse(current) : NaN;
  const from = Number.isFinite(currentMs) ? Math.max(currentMs, nowMs) : nowMs;
  const wanted = from + (ttlMs ?? s.defaultTtlMs);
  const cap = nowMs + s.maxTtlMs;
  return { expires: new Date(Math.min(wanted, cap)).toISOString(), capped: wanted > cap };
}

/** Milliseconds until `expires` (an ISO time), negative once past; undefined when it is not a time. */
export function msUntil(expires: string | undefined, nowMs: number): number | undefined {
  const at = expires ? Date.parse(expires) : NaN;
  return Number.isFinite(at) ? at - nowMs : undefined;
}
