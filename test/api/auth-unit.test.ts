/**
 * The pieces of the access rule on their own. The real-server checks (token over HTTP, a
 * caller on a non-loopback address) are in auth.test.ts.
 */
import { createHash } from 'node:crypto';
import { bearerToken, isLoopback, tokenMatches } from '../../src/api/auth.js';
import { HTTP_STATUS } from '../../src/api/envelope.js';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';

it('knows the loopback addresses, however the socket writes them', () => {
  for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.0.1.1', '::FFFF:127.0.0.1']) expect(isLoopback(a)).toBe(true);
  for (const a of [undefined, '', '192.0.2.2', '::ffff:10.0.0.1', 'fd00::2', '0.0.0.0', '127.0.0.1.example.org', '::2']) expect(isLoopback(a)).toBe(false);
});

it('reads a bearer token and nothing else', () => {
  expect(bearerToken('Bearer abc')).toBe('abc');
  expect(bearerToken('bearer   abc ')).toBe('abc');
  for (const h of [undefined, '', 'Bearer', 'Bearer a b', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l', 'abc']) expect(bearerToken(h)).toBeUndefined();
});

it('compares tokens of any length without throwing', () => {
  const expected = createHash('sha256').update('the-right-token-123').digest();
  expect(tokenMatches('the-right-token-123', expected)).toBe(true);
  expect(tokenMatches('the-right-token-12', expected)).toBe(false);
  expect(tokenMatches('', expected)).toBe(false);
  expect(tokenMatches('x'.repeat(10_000), expected)).toBe(false);
});

it('gives every error code an HTTP status and a CLI exit code', () => {
  expect(Object.keys(HTTP_STATUS).sort()).toEqual(Object.keys(EXIT_CODES).sort());
  expect(HTTP_STATUS).toMatchObject({ usage: 400, unauthorized: 401, not_found: 404, name_in_use: 409, cluster_unreachable: 503 });
});
