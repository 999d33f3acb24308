/**
 * When the daily digest goes out: TYCHO_DIGEST_AT (HH:MM, 24-hour) in TYCHO_DIGEST_TZ (an IANA
 * time zone, default UTC). Off unless TYCHO_DIGEST_AT is set. Pure functions, and the clock the
 * digest runs on (a test's manual one instead of the wall clock).
 */

/** The clock the daily digest reads and sets its timers on: the system's, or a test's manual one. */
export interface DigestClock {
  now(): number;
  /** Runs fn once after ms; returns a cancel function. */
  setTimeout(fn: () => void, ms: number): () => void;
}

export const systemDigestClock: DigestClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
};

export interface DigestSettings {
  /** As configured, normalised to HH:MM. */
  at: string;
  /** Minutes after midnight. */
  minute: number;
  timeZone: string;
}

export const DIGEST_SETTINGS = { at: 'TYCHO_DIGEST_AT', timeZone: 'TYCHO_DIGEST_TZ' } as const;

/**
 * How long after the set time a digest not yet sent that day still goes out: a leader that
 * takes over (a failover, a restart) within it sends the day's digest; one that starts later
 * waits for the next day rather than sending a morning digest in the evening.
 */
export const DIGEST_CATCH_UP_MINUTES = 60;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The settings (undefined: off) and every problem with them, each naming its variable. */
export function readDigestSettings(get: (name: string) => string | undefined): { settings?: DigestSettings; problems: string[] } {
  const at = get(DIGEST_SETTINGS.at);
  const tz = get(DIGEST_SETTINGS.timeZone);
  const problems: string[] = [];
  if (at === undefined) {
    if (tz !== undefined) problems.push(`${DIGEST_SETTINGS.timeZone} is set but ${DIGEST_SETTINGS.at} is not: set the time of day the digest goes out (e.g. 09:00).`);
    return { problems };
  }
  const m = /^(\d{1,2}):(\d{2})$/.exec(at);
  const hour = Number(m?.[1]);
  const minute = Number(m?.[2]);
  if (!m || hour > 23 || minute > 59) problems.push(`${DIGEST_SETTINGS.at} must be a time of day as HH:MM, 24-hour (e.g. 09:00).`);
  const timeZone = tz ?? 'UTC';
  if (!isTimeZone(timeZone)) problems.push(`${DIGEST_SETTINGS.timeZone} must be an IANA time zone such as Europe/Paris or America/New_York (default UTC).`);
  if (problems.length) return { problems };
  return { settings: { at: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`, minute: hour * 60 + minute, timeZone }, problems };
}

/** The day it is at `now` in the digest's time zone (YYYY-MM-DD), and whether its digest is due. */
export function digestDue(now: number, s: DigestSettings): { day: string; due: boolean } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: s.timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  const minutes = Number(part('hour')) * 60 + Number(part('minute'));
  return { day: `${part('year')}-${part('month')}-${part('day')}`, due: minutes >= s.minute && minutes < s.minute + DIGEST_CATCH_UP_MINUTES };
}

/** Milliseconds to the start of the next minute (plus a little, so the tick lands inside it). */
export function msToNextMinute(now: number): number {
  return 60_000 - (now % 60_000) + 50;
}
