/**
 * Access to /system/* on a real server: the bearer token when TYCHO_API_TOKEN is set, and
 * loopback-only without it, checked from a real non-loopback address of this machine.
 */
import { networkInterfaces } from 'node:os';
import type { RunningTycho } from '../../src/server/tycho.js';
import { createTestNamespace } from '../support/cluster.js';
import { call, objectsIn, originalBody, startServer, TOKEN } from './helpers.js';

let ns: string;
beforeAll(async () => {
  ns = await createTestNamespace('api-auth');
});

describe('with TYCHO_API_TOKEN set', () => {
  let server: RunningTycho;
  beforeAll(async () => {
    server = await startServer({ namespace: ns, token: TOKEN });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each([
    ['no Authorization header', {}, /needs an API token/],
    ['a wrong token', { Authorization: `Bearer ${TOKEN}x` }, /The API token is wrong/],
    ['a prefix of the token', { Authorization: `Bearer ${TOKEN.slice(0, -1)}` }, /The API token is wrong/],
    ['the token as Basic auth', { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, /needs an API token/],
  ])('%s: 401 with the envelope, and nothing is created', async (_what, headers, words) => {
    for (const [path, body] of [
      ['/system/start', originalBody('sneaky')],
      ['/system/status', {}],
      ['/system/delete', { name: 'sneaky' }],
    ] as const) {
      const r = await call(server.url, path, body, { headers });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="tycho"');
      expect(r.json).toEqual({ status: 'error', result: { error: r.json.message, code: 'unauthorized' }, message: expect.stringMatching(words) });
      expect(r.json.message).toContain('TYCHO_API_TOKEN');
    }
    expect(await objectsIn(ns)).toEqual([]);
  });

  it('checks the token before reading the body', async () => {
    const r = await call(server.url, '/system/start', undefined, { raw: 'not json' });
    expect(r.status).toBe(401);
  });

  it('the right token works', async () => {
    const r = await call(server.url, '/system/status', {}, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ status: 'success', result: [], message: 'Found 0 systems' });
  });

  it('the docs and health routes need no token', async () => {
    for (const path of ['/openapi.json', '/apidocs/', '/healthz']) {
      expect((await fetch(new URL(path, server.url))).status).toBe(200);
    }
  });
});

/** An address of this machine other than loopback: connecting to it makes that our source address. */
function nonLoopbackAddress(): { address: string; family: 'IPv4' | 'IPv6' } {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
  const pick = all.find((a) => !a.internal && a.family === 'IPv4') ?? all.find((a) => !a.internal && a.family === 'IPv6' && !a.address.startsWith('fe80'));
  if (!pick) throw new Error('This machine has no non-loopback network address; the access test needs one to call the server from off loopback.');
  return { address: pick.address, family: pick.family };
}

describe('without TYCHO_API_TOKEN', () => {
  let server: RunningTycho;
  beforeAll(async () => {
    // Listening on every address, so the same server can be called on loopback and off it.
    server = await startServer({ namespace: ns, host: '0.0.0.0' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('accepts callers on loopback', async () => {
    const r = await call(`http://127.0.0.1:${server.port}`, '/system/status', {});
    expect(r.status).toBe(200);
  });

  it('refuses a caller on another address with 401, saying to set the token; nothing is created', async () => {
    const { address, family } = nonLoopbackAddress();
    const base = family === 'IPv6' ? `http://[${address}]:${server.port}` : `http://${address}:${server.port}`;
    for (const [path, body] of [
      ['/system/start', originalBody('from-afar')],
      ['/system/status', {}],
    ] as const) {
      const r = await call(base, path, body);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({
        status: 'error',
        result: { error: r.json.message, code: 'unauthorized' },
        message: expect.stringMatching(/only accepts calls from its own machine.*set TYCHO_API_TOKEN/),
      });
    }
    // The docs stay readable from anywhere.
    expect((await fetch(`${base}/openapi.json`)).status).toBe(200);
    expect(await objectsIn(ns)).toEqual([]);
  });

  it('refuses a remote caller forwarded by a proxy on loopback (X-Forwarded-For)', async () => {
    const r = await call(`http://127.0.0.1:${server.port}`, '/system/status', {}, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
    expect(r.status).toBe(401);
  });

  it('does not let a remote caller claim to be local with X-Forwarded-For', async () => {
    const { address, family } = nonLoopbackAddress();
    const base = family === 'IPv6' ? `http://[${address}]:${server.port}` : `http://${address}:${server.port}`;
    const r = await call(base, '/system/status', {}, { headers: { 'X-Forwarded-For': '127.0.0.1' } });
    expect(r.status).toBe(401);
  });
});
