/**
 * Logs are posted where a channel reads them: secrets are taken out by their shape first
 * (src/commands/redact.ts). Each shape the issue names, and ordinary lines left alone.
 */
import { describe, expect, it } from '@jest/globals';
import { REDACTED, redactSecrets } from '../../src/commands/redact.js';

const R = REDACTED;

describe('redactSecrets', () => {
  it.each([
    ['a Slack bot token', 'connecting with xoxb-1234567890-abcdefghij', `connecting with ${R}`],
    ['a Slack user token', 'user token xoxp-11-22-33-abcdef here', `user token ${R} here`],
    ['an app-level token', 'SLACK_APP_TOKEN is xapp-1-A0-123-abcdef0123', `SLACK_APP_TOKEN is ${R}`],
    ['a bearer token', 'Authorization: Bearer abc.def-ghi_jkl123', `Authorization: Bearer ${R}`],
    ['an AWS access key id', 'key AKIAIOSFODNN7EXAMPLE loaded', `key ${R} loaded`],
    ['a JWT', 'jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', `jwt=${R}`],
    ['password=', 'db password=hunter2 ok', `db password=${R} ok`],
    ['token: quoted', '{"token": "s3cr3t-value", "user": "alice"}', `{"token": "${R}", "user": "alice"}`],
    ['secret= in an env dump', 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', `AWS_SECRET_ACCESS_KEY=${R}`],
    ['an api key', 'api_key: 0123456789abcdef', `api_key: ${R}`],
    ['a URL password', 'postgres://app:pa55word@db:5432/app', `postgres://app:${R}@db:5432/app`],
  ])('takes out %s', (_what, line, expected) => {
    const r = redactSecrets(line);
    expect(r.text).toBe(expected);
    expect(r.count).toBeGreaterThanOrEqual(1);
  });

  it('takes out a private key block, every line of it', () => {
    const log = ['starting', '-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEAtop', 'c2VjcmV0', '-----END RSA PRIVATE KEY-----', 'listening on :80'].join('\n');
    expect(redactSecrets(log).text).toBe(`starting\n${R}\nlistening on :80`);
  });

  it('leaves ordinary lines as they are', () => {
    const log = 'Listening on 0.0.0.0:8888\nGET /api/tokens 200\nThe password policy was loaded\nsecret sauce: none\n';
    expect(redactSecrets(log)).toEqual({ text: log.replace('secret sauce: none', 'secret sauce: none'), count: 0 });
  });
});
