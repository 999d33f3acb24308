/** When the daily digest is due (TYCHO_DIGEST_AT, TYCHO_DIGEST_TZ): read and checked at start, off unless set. */
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config.js';
import { digestDue } from '../../src/bot/digest-schedule.js';
import { configProblems } from '../support/config-problems.js';

describe('the digest settings', () => {
  it('are off unless TYCHO_DIGEST_AT is set; UTC unless TYCHO_DIGEST_TZ says otherwise', () => {
    expect(loadConfig({}).digest).toBeUndefined();
    expect(loadConfig({ TYCHO_DIGEST_AT: '09:00' }).digest).toEqual({ at: '09:00', minute: 540, timeZone: 'UTC' });
    expect(loadConfig({ TYCHO_DIGEST_AT: '7:30', TYCHO_DIGEST_TZ: 'Europe/Paris' }).digest).toEqual({ at: '07:30', minute: 450, timeZone: 'Europe/Paris' });
  });

  it('refuse a time or a time zone that is not one, naming the variable', () => {
    expect(configProblems({ TYCHO_DIGEST_AT: '9am' })).toEqual(['TYCHO_DIGEST_AT must be a time of day as HH:MM, 24-hour (e.g. 09:00).']);
    expect(configProblems({ TYCHO_DIGEST_AT: '24:00' })).toEqual(['TYCHO_DIGEST_AT must be a time of day as HH:MM, 24-hour (e.g. 09:00).']);
    expect(configProblems({ TYCHO_DIGEST_AT: '09:00', TYCHO_DIGEST_TZ: 'Mars/Olympus' })).toEqual(['TYCHO_DIGEST_TZ must be an IANA time zone such as Europe/Paris or America/New_York (default UTC).']);
    expect(configProblems({ TYCHO_DIGEST_TZ: 'Europe/Paris' })).toEqual(['TYCHO_DIGEST_TZ is set but TYCHO_DIGEST_AT is not: set the time of day the digest goes out (e.g. 09:00).']);
  });
});

describe('digestDue', () => {
  const paris = { at: '09:00', minute: 540, timeZone: 'Europe/Paris' };
  it("is due from the set time in the zone's own day, for an hour", () => {
    // 08:00 UTC is 09:00 in Paris in winter.
    expect(digestDue(Date.parse('2031-01-10T07:59:00Z'), paris)).toEqual({ day: '2031-01-10', due: false });
    expect(digestDue(Date.parse('2031-01-10T08:00:00Z'), paris)).toEqual({ day: '2031-01-10', due: true });
    expect(digestDue(Date.parse('2031-01-10T08:59:59Z'), paris)).toEqual({ day: '2031-01-10', due: true });
    expect(digestDue(Date.parse('2031-01-10T09:00:00Z'), paris)).toEqual({ day: '2031-01-10', due: false });
    // Summer time: 07:00 UTC is 09:00 in Paris; the day is Paris's.
    expect(digestDue(Date.parse('2031-07-10T07:00:00Z'), paris)).toEqual({ day: '2031-07-10', due: true });
    expect(digestDue(Date.parse('2031-07-10T23:30:00Z'), { at: '01:00', minute: 60, timeZone: 'Europe/Paris' })).toEqual({ day: '2031-07-11', due: true });
  });
});
