/** Log masking: no credential reaches a log line, whatever shape it arrives in. */
import { describe, expect, test } from '@jest/globals';
import { createLogger, redact, redactFields } from '../../src/log.js';

describe('redact: credentials in free text', () => {
  test.each([
    ['Authorization: Basic dXNlcjpodW50ZXIy', 'Authorization: Basic [redacted]', 'dXNlcjpodW50ZXIy'],
    ['authorization: Bearer abc.def-ghi_123', 'authorization: Bearer [redacted]', 'abc.def-ghi_123'],
    ['{"Authorization":"Basic dXNlcjpodW50ZXIy"}', '{"Authorization":"Basic [redacted]"}', 'dXNlcjpodW50ZXIy'],
    ['Proxy-Authorization: Digest username=x', 'Proxy-Authorization: Digest [redacted]', 'username=x'],
    ['Authorization=sometoken123', 'Authorization=[redacted]', 'sometoken123'],
    ['curl -H "Bearer s3cr3tvalue99"', 'curl -H "Bearer [redacted]"', 's3cr3tvalue99'],
  ])('an Authorization credential: %s', (input, masked, secret) => {
    expect(redact(input)).toBe(masked);
    expect(redact(input)).not.toContain(secret);
  });

  test.each([
    ['up -n x -c y -p 80 -e API_KEY=abc123', 'up -n x -c y -p 80 -e API_KEY=[redacted]'],
    ['-e AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG -e REGION=us-east-1', '-e AWS_SECRET_ACCESS_KEY=[redacted] -e REGION=us-east-1'],
    ['PASSWD=hunter2', 'PASSWD=[redacted]'],
    ['DB_PASSWORD=hunter2 DB_USER=app', 'DB_PASSWORD=[redacted] DB_USER=app'],
    ['github_token=ghp_abc, next', 'github_token=[redacted], next'],
    ['MY_CREDENTIALS=a:b', 'MY_CREDENTIALS=[redacted]'],
    ['apiKey: "k-123 456"', 'apiKey: [redacted]'],
    ['{"client_secret":"xyz","user":"bob"}', '{"client_secret":[redacted],"user":"bob"}'],
    ['-e "DB_PASSWORD=hunter 2" -e A=1', '-e "DB_PASSWORD=[redacted]" -e A=1'],
    ["-e 'Api-Key=two words'", "-e 'Api-Key=[redacted]'"],
    ['text=up+-e+API_KEY%3Dabc123&user_id=U1', 'text=up+-e+API_KEY%3D[redacted]&user_id=U1'],
    ['private_key=-----BEGIN', 'private_key=[redacted]'],
  ])('KEY=VALUE with a secret-sounding key, any case: %s', (input, masked) => {
    expect(redact(input)).toBe(masked);
  });

  test.each([
    ['bot xoxb-1234-5678-abcdefghijkl started', 'bot [redacted] started'],
    ['app token xapp-1-A0123-4567-deadbeef', 'app token [redacted]'],
    ['user xoxp-1111-2222-3333-abcd, refresh xoxe-1-abc', 'user [redacted], refresh [redacted]'],
    ['(xoxb-12-34)', '([redacted])'],
  ])('Slack tokens anywhere: %s', (input, masked) => {
    expect(redact(input)).toBe(masked);
  });

  test('passwords in URLs', () => {
    expect(redact('cloning https://bob:hunter2@git.example/x.git')).toBe('cloning https://bob:[redacted]@git.example/x.git');
  });

  test('ordinary text is left alone', () => {
    for (const s of ['api request', 'route=/system/start status=201 name=web owner=carol', 'image nginx:1.25 on port 80', 'Basic usage', 'REGION=us-east-1', 'listening {"url":"http://127.0.0.1:3000"}']) {
      expect(redact(s)).toBe(s);
    }
  });

  test('long lines made to make a regex backtrack are masked in one pass', () => {
    const runs = ['k'.repeat(100_000) + 'key' + 'y'.repeat(100_000), 'a.'.repeat(50_000) + 'x', '"' + 'secret'.repeat(20_000), 'x:'.repeat(50_000)];
    for (const run of runs) expect(redact(`${run} API_KEY=abc123`)).toBe(`${run} API_KEY=[redacted]`);
  });

  test('masking masked text changes nothing', () => {
    for (const s of ['Authorization: Basic dXNlcjpodW50ZXIy', '-e API_KEY=abc123', 'xoxb-1-2-3', '-e "DB_PASSWORD=a b"']) {
      expect(redact(redact(s))).toBe(redact(s));
    }
  });
});

describe('redactFields: credentials in object fields', () => {
  test('a field named like a secret is masked whole; other strings are masked inside', () => {
    const fields = {
      password: 'hunter2',
      apiKey: 42,
      nested: { AWS_SECRET_ACCESS_KEY: 'wJalr', list: ['ok', 'API_KEY=abc123'], Authorization: 'Basic dXNlcjpodW50ZXIy' },
      headers: { authorization: 'Bearer tok-123456789' },
      hasToken: true,
      error: new Error('refused xoxb-1-2-3'),
      owner: 'carol',
    };
    const out = JSON.stringify(redactFields(fields));
    for (const secret of ['hunter2', '42', 'wJalr', 'abc123', 'dXNlcjpodW50ZXIy', 'tok-123456789', 'xoxb-1-2-3']) expect(out).not.toContain(secret);
    expect(redactFields(fields)).toMatchObject({ password: '[redacted]', hasToken: true, owner: 'carol', error: 'refused [redacted]', nested: { list: ['ok', 'API_KEY=[redacted]'] } });
  });

  test('a field that refers to itself does not hang the logger', () => {
    const a: Record<string, unknown> = { name: 'x' };
    a.self = a;
    expect(redactFields(a)).toEqual({ name: 'x', self: '[circular]' });
  });
});

describe('createLogger', () => {
  test('masks the message and the fields of every line it writes', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', write: (l) => lines.push(l) });
    log.debug('request with Authorization: Basic dXNlcjpodW50ZXIy', { command: '/tycho up -n a -c b -p 1 -e API_KEY=abc123', token: 'xoxb-1-2' });
    log.info('PASSWD=hunter2');
    expect(lines).toHaveLength(2);
    for (const secret of ['dXNlcjpodW50ZXIy', 'abc123', 'xoxb-1-2', 'hunter2']) expect(lines.join('\n')).not.toContain(secret);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'debug', command: '/tycho up -n a -c b -p 1 -e API_KEY=[redacted]', token: '[redacted]' });
  });
});

describe('pino underneath: redact paths and the masking hook', () => {
  const capture = () => {
    const lines: string[] = [];
    return { lines, log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
  };

  test("a request's credentials, as pino-http logs them, and the configuration's tokens are censored", () => {
    const { lines, log } = capture();
    log.pino.info({ req: { method: 'POST', url: '/system/start?token=abc123', headers: { authorization: 'Negotiate YIIabc123', cookie: 'sid=abc123', 'x-slack-signature': 'v0=abc123', accept: '*/*' } } }, 'request completed');
    log.info('configuration', { slack: { mode: 'http', botToken: 'not-shaped-like-a-token-abc123', signingSecret: 'abc123' }, apiToken: 'abc123', namespace: 'apps' });
    expect(lines.join('\n')).not.toContain('abc123');
    const [request, config] = lines.map((l) => JSON.parse(l));
    expect(request.req).toEqual({ method: 'POST', url: '/system/start?token=[redacted]', headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-slack-signature': '[redacted]', accept: '*/*' } });
    expect(config).toMatchObject({ msg: 'configuration', slack: { mode: 'http', botToken: '[redacted]', signingSecret: '[redacted]' }, apiToken: '[redacted]', namespace: 'apps' });
  });

  test("a child's fields, and an error logged on its own, are masked like any line", () => {
    const { lines, log } = capture();
    log.child({ launchId: 'a1b2c3', token: 'xoxb-1-2-3' }).warn('child line');
    log.pino.error(new Error('Slack refused xoxb-4-5-6'));
    expect(lines.join('\n')).not.toMatch(/xoxb-\d/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', launchId: 'a1b2c3', token: '[redacted]', msg: 'child line' });
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'error', msg: 'Slack refused [redacted]', err: { message: 'Slack refused [redacted]' } });
  });

  test('below the level nothing is written, and an unknown level means info', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'nonsense' as 'info', write: (l) => lines.push(l) });
    log.debug('payload');
    log.info('kept');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['kept']);
  });
});
