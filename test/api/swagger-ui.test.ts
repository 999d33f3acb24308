/**
 * Swagger UI in a real browser: Debian's Chromium, headless, driven by playwright-core.
 * The page at /apidocs/ lists the three operations, and "Try it out" on status runs end to
 * end against this same server. Every request the page makes stays on the server (no CDN).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunningTycho } from '../../src/server/tycho.js';
import { createTestNamespace } from '../support/cluster.js';
import { call, startServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

let ns: string;
let server: RunningTycho;
let profile: string;
let browser: BrowserContext;
let page: Page;
const requested: string[] = [];

beforeAll(async () => {
  ns = await createTestNamespace('api-swagger');
  server = await startServer({ namespace: ns });
  profile = await mkdtemp(join(tmpdir(), 'tycho-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('request', (r) => requested.push(r.url()));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await server?.stop();
});

it('lists the three operations, from the server\'s own /openapi.json', async () => {
  await page.goto(`${server.url}/apidocs/`);
  await page.locator('.opblock').first().waitFor();
  for (const [id, path] of [
    ['startSystem', '/system/start'],
    ['deleteSystem', '/system/delete'],
    ['systemStatus', '/system/status'],
  ]) {
    const op = page.locator(`#operations-system-${id}`);
    await expect(op.locator('.opblock-summary-method').textContent()).resolves.toBe('POST');
    await expect(op.locator('.opblock-summary-path').getAttribute('data-path')).resolves.toBe(path);
  }
  await expect(page.locator('.info .title').textContent()).resolves.toContain('Tycho');
  expect(requested).toContain(`${server.url}/openapi.json`);
});

it('redirects /apidocs to /apidocs/ (relative, so a path prefix survives) and serves the document', async () => {
  const r = await fetch(`${server.url}/apidocs`, { redirect: 'manual' });
  expect([r.status, r.headers.get('location')]).toEqual([301, 'apidocs/']);
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
  expect(doc.openapi).toBe('3.0.3');
  expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/system/start', '/system/delete', '/system/status']));
});

it('runs "Try it out" on status end to end against this server', async () => {
  // Something to see: one system, started over the API.
  const started = await call(server.url, '/system/start', { name: 'from-swagger', containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] });
  expect(started.status).toBe(201);

  const op = page.locator('#operations-system-systemStatus');
  await op.locator('.opblock-summary-control').click();
  await op.locator('.try-out__btn').click();
  // The request body editor starts with the document's first example, {} (every system).
  await expect(op.locator('textarea.body-param__text').inputValue()).resolves.toBe('{}');
  await op.locator('button.execute').click();

  // The row of the live answer (the table's header row has the same column classes).
  const answer = op.locator('.live-responses-table tr.response');
  await answer.waitFor();
  await expect(answer.locator('.response-col_status').textContent()).resolves.toMatch(/^\s*200/);
  const text = (await answer.locator('.response-col_description pre').first().textContent()) ?? '';
  const body = JSON.parse(text) as { status: string; result: { name: string; ready: boolean }[]; message: string };
  expect(body).toMatchObject({ status: 'success', message: 'Found 1 system', result: [{ name: 'from-swagger', ready: true }] });
  await expect(op.locator('.request-url pre').textContent()).resolves.toBe(`${server.url}/system/status`);

  expect((await call(server.url, '/system/delete', { name: 'from-swagger' })).status).toBe(200);
});

it('loaded nothing from anywhere but this server', () => {
  expect(requested.length).toBeGreaterThan(0);
  expect(requested.filter((u) => !u.startsWith(`${server.url}/`) && !u.startsWith('data:'))).toEqual([]);
});
