/**
 * A tokenless Tycho on a developer's machine, attacked the way a web page can: a cross-site
 * "simple" request (text/plain, no preflight) and DNS rebinding (the page's own name pointing at
 * 127.0.0.1, so Host carries that name). Both are refused and change nothing in the cluster;
 * the developer's own tools (curl, the CLI, Swagger UI on the same origin) still work.
 */
import { AppsV1Api } from '@kubernetes/client-node';
import type { RunningTycho } from '../../src/server/tycho.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { call, objectsIn, originalBody, post, startServer, TOKEN } from './helpers.js';

let ns: string;
let server: RunningTycho;
let hostsServer: RunningTycho;
let tokenServer: RunningTycho;
const apps = kubeConfig().makeApiClient(AppsV1Api);
const deployments = async () => (await apps.listNamespacedDeployment({ namespace: ns })).items.map((d) => d.metadata!.name);

beforeAll(async () => {
  ns = await createTestNamespace('api-cross-site');
  [server, hostsServer, tokenServer] = await Promise.all([
    startServer({ namespace: ns }),
    startServer({ namespace: ns, env: { TYCHO_ALLOWED_HOSTS: 'tycho.test, 10.1.2.3' } }),
    startServer({ namespace: ns, token: TOKEN }),
  ]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), hostsServer?.stop(), tokenServer?.stop()]);
});

const EVIL = 'https://evil.example';
const asText = (body: unknown) => ({ headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: EVIL }, body: JSON.stringify(body) });

describe('a cross-site request from a web page (fetch with mode: "no-cors")', () => {
  it('start with Origin https://evil.example and text/plain: refused, and no Deployment is created', async () => {
    const r = await post(`${server.url}/system/start`, asText(originalBody('cross-site')));
    expect(r.status).toBe(403);
    expect(r.json).toEqual({ status: 'error', result: { error: r.json.message, code: 'forbidden' }, message: expect.stringMatching(/^Requests from web pages of another site are refused \(Origin "https:\/\/evil\.example"\)/) });
    expect(await deployments()).toEqual([]);
    expect(await objectsIn(ns)).toEqual([]);
  });

  it('the same with a JSON content type, or to delete: refused; an existing system survives', async () => {
    const started = await call(server.url, '/system/start?wait=false', originalBody('keep-me', 'nginx'));
    expect(started.status).toBe(201);
    const json = await call(server.url, '/system/start', originalBody('cross-json'), { headers: { Origin: EVIL } });
    expect(json.status).toBe(403);
    const deleted = await post(`${server.url}/system/delete`, asText({ name: 'keep-me' }));
    expect(deleted.status).toBe(403);
    expect(await deployments()).toEqual(['keep-me']);
    expect((await call(server.url, '/system/delete', { name: 'keep-me' })).status).toBe(200);
  });

  it('Origin "null" (a sandboxed frame or a file) is another site too', async () => {
    expect((await call(server.url, '/system/status', {}, { headers: { Origin: 'null' } })).status).toBe(403);
  });

  it('a page of this server itself (Swagger UI) is served: same Origin', async () => {
    const r = await call(server.url, '/system/status', {}, { headers: { Origin: server.url } });
    expect(r.status).toBe(200);
  });
});

describe('DNS rebinding: the request reaches 127.0.0.1 but is addressed to the page\'s name', () => {
  const at = (s: RunningTycho) => `http://127.0.0.1:${s.port}`;

  it('Host evil.example: refused, even with X-Forwarded-Host: localhost, and nothing is created', async () => {
    const rebound: Record<string, string>[] = [{ Host: `evil.example:${server.port}` }, { Host: `evil.example:${server.port}`, 'X-Forwarded-Host': 'localhost' }];
    for (const headers of rebound) {
      const r = await post(`${at(server)}/system/start`, { headers: { ...headers, 'Content-Type': 'application/json', Origin: `http://evil.example:${server.port}` }, body: JSON.stringify(originalBody('rebound')) });
      expect(r.status).toBe(403);
      expect(r.json.result.code).toBe('forbidden');
      expect(r.json.message).toBe(
        `This Tycho server has no API token, so it only answers requests addressed to localhost, 127.0.0.1, [::1], and this one was addressed to "evil.example:${server.port}"; add the name to TYCHO_ALLOWED_HOSTS or set TYCHO_API_TOKEN.`,
      );
    }
    const read = await post(`${at(server)}/system/status`, { headers: { Host: `evil.example:${server.port}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(read.status).toBe(403);
    expect(await deployments()).toEqual([]);
  });

  it('loopback names are answered: localhost, 127.0.0.1 and [::1]', async () => {
    for (const host of [`localhost:${server.port}`, `127.0.0.1:${server.port}`, `[::1]:${server.port}`, 'LOCALHOST']) {
      const r = await post(`${at(server)}/system/status`, { headers: { Host: host, 'Content-Type': 'application/json' }, body: '{}' });
      expect([host, r.status]).toEqual([host, 200]);
    }
  });

  it('names in TYCHO_ALLOWED_HOSTS are answered, others are not', async () => {
    const status = (host: string) => post(`${at(hostsServer)}/system/status`, { headers: { Host: host, 'Content-Type': 'application/json' }, body: '{}' });
    expect((await status(`tycho.test:${hostsServer.port}`)).status).toBe(200);
    expect((await status('10.1.2.3')).status).toBe(200);
    const other = await status(`evil.example:${hostsServer.port}`);
    expect(other.status).toBe(403);
    expect(other.json.message).toContain('addressed to localhost, 127.0.0.1, [::1], tycho.test, 10.1.2.3,');
  });

  it('with TYCHO_API_TOKEN the name does not matter (a page cannot send the token), but Origin still does', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
    expect((await post(`${at(tokenServer)}/system/status`, { headers: { ...auth, Host: 'tycho.example.org' }, body: '{}' })).status).toBe(200);
    expect((await post(`${at(tokenServer)}/system/status`, { headers: { ...auth, Origin: EVIL }, body: '{}' })).status).toBe(403);
  });
});
