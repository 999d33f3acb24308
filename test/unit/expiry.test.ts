/** Expiry rules without a cluster: durations as people type them, the default and maximum TTL, extending. */
import { checkTtl, expiryFor, extendedExpiry, formatDuration, parseDuration, readExpirySettings, type ExpirySettings } from '../../src/k8s/expiry.js';
import { ConfigError, loadConfig, loadLauncherConfig } from '../../src/config.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const settings: ExpirySettings = { defaultTtlMs: 8 * H, maxTtlMs: 7 * D, warningMs: 15 * M };
const NOW = Date.parse('2026-12-05T12:00:00.000Z');

describe('durations', () => {
  it.each([
    ['2h', 2 * H],
    ['90m', 90 * M],
    ['20s', 20 * S],
    ['7d', 7 * D],
    ['1h30m', 90 * M],
    ['1d12h', 36 * H],
    ['2H', 2 * H],
    [' 45m ', 45 * M],
  ])('reads %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '2', 'h', '2 h', '-1h', '0h', '0m0s', '1.5h', '2hours', '30m1h', '1h1h', 'forever', '99999999999999999999d', '1e3s'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('writes them back the way people type them', () => {
    expect(formatDuration(8 * H)).toBe('8h');
    expect(formatDuration(90 * M)).toBe('1h30m');
    expect(formatDuration(7 * D)).toBe('7d');
    expect(formatDuration(20 * S)).toBe('20s');
  });
});

describe('the TTL rules', () => {
  it('a launch without --ttl lives the default TTL; with one, that long', () => {
    expect(expiryFor(undefined, settings, NOW)).toBe('2026-12-05T20:00:00.000Z');
    expect(expiryFor(2 * H, settings, NOW)).toBe('2026-12-05T14:00:00.000Z');
  });

  it('allows a --ttl up to the maximum, and refuses a longer one in one sentence naming the setting', () => {
    expect(checkTtl('7d', settings)).toBeNull();
    expect(checkTtl('2h', settings)).toBeNull();
    const why = checkTtl('8d', settings);
    expect(why).toBe("A --ttl of 8d is longer than the 7d a system may live here (the operator's setting TYCHO_MAX_TTL); ask for less.");
  });

  it('refuses a --ttl that is not a duration, saying the form', () => {
    expect(checkTtl('soon', settings)).toBe('"soon" is not a duration; give --ttl as a number with d, h, m or s, e.g. 2h, 90m or 1d12h.');
  });

  it('an extend adds to what is left (never shortens), and is capped at now + the maximum', () => {
    const inOneHour = new Date(NOW + H).toISOString();
    expect(extendedExpiry(inOneHour, 2 * H, settings, NOW)).toEqual({ expires: new Date(NOW + 3 * H).toISOString(), capped: false });
    // Already past (the reaper has not got to it yet): counted from now.
    expect(extendedExpiry(new Date(NOW - H).toISOString(), 2 * H, settings, NOW)).toEqual({ expires: new Date(NOW + 2 * H).toISOString(), capped: false });
    // No --ttl: the default TTL.
    expect(extendedExpiry(inOneHour, undefined, settings, NOW).expires).toBe(new Date(NOW + 9 * H).toISOString());
    // Six days left plus two: capped at seven from now.
    expect(extendedExpiry(new Date(NOW + 6 * D).toISOString(), 2 * D, settings, NOW)).toEqual({ expires: new Date(NOW + 7 * D).toISOString(), capped: true });
    // A system without an expiry (launched before expiry existed): counted from now.
    expect(extendedExpiry(null, H, settings, NOW).expires).toBe(new Date(NOW + H).toISOString());
  });
});

describe('the expiry settings', () => {
  const read = (env: Record<string, string>) => readExpirySettings((n) => env[n]);

  it('default to 8h, 7d and 15m', () => {
    expect(read({})).toEqual({ settings, problems: [] });
    expect(loadLauncherConfig({}).expiry).toEqual(settings);
  });

  it('read TYCHO_DEFAULT_TTL, TYCHO_MAX_TTL and TYCHO_EXPIRY_WARNING', () => {
    expect(read({ TYCHO_DEFAULT_TTL: '2h', TYCHO_MAX_TTL: '1d', TYCHO_EXPIRY_WARNING: '5m' }).settings).toEqual({ defaultTtlMs: 2 * H, maxTtlMs: D, warningMs: 5 * M });
  });

  it('fail fast at start, naming the variable and the form', () => {
    expect(read({ TYCHO_DEFAULT_TTL: 'eight hours' }).problems).toEqual(['TYCHO_DEFAULT_TTL must be a duration such as 8h, 90m or 7d.']);
    expect(read({ TYCHO_DEFAULT_TTL: '8d' }).problems).toEqual(['TYCHO_DEFAULT_TTL (8d) must not be longer than TYCHO_MAX_TTL (7d).']);
    expect(read({ TYCHO_EXPIRY_WARNING: '0s' }).problems).toEqual(['TYCHO_EXPIRY_WARNING must be a duration such as 8h, 90m or 7d.']);
    let problems: string[] = [];
    try {
      loadConfig({ TYCHO_MAX_TTL: 'week' });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      problems = (e as ConfigError).problems;
    }
    expect(problems).toEqual(['TYCHO_MAX_TTL must be a duration such as 8h, 90m or 7d.']);
  });
});
