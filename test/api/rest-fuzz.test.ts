/**
 * The REST API under generated bodies, against one real server and cluster: JSON of wrong types,
 * nested junk, unknown fields, huge strings, near-valid start bodies with one field gone wrong,
 * and text that is no JSON at all. Every answer is the documented envelope with a known code and
 * a status of the API's table, saying what is wrong in words (no stack trace, no raw API text);
 * the server keeps answering; and the namespace ends holding only the systems whose start said
 * 201 (the namespace is listed before and after).
 *
 * A failure names fast-check's seed and path, which replay it exactly:
 *   TYCHO_FUZZ_SEED=<seed> TYCHO_FUZZ_PATH=<path> npx jest test/api/rest-fuzz.test.ts
 */
import { afterAll, expect, test } from '@jest/globals';
import fc from 'fast-check';
import { HTTP_STATUS } from '../../src/api/envelope.js';
import { TYCHO_ERROR_CODES } from '../../src/k8s/errors.js';
import { fuzzOptions } from '../support/fuzz.js';
import { call, objectsIn, originalBody, serverInFreshNamespace, type ApiAnswer } from './helpers.js';

const live = serverInFreshNamespace('api-fuzz');
const started = new Set<string>();

afterAll(async () => {
  // Nothing but what a 201 said it started: each system is its Deployment, ReplicaSet, pods and Service.
  const left = await objectsIn(live.ns);
  const strays = left.filter((o) => ![...started].some((n) => o === `Deployment/${n}` || o === `Service/${n}` || o.startsWith(`ReplicaSet/${n}-`) || o.startsWith(`Pod/${n}-`)));
  expect(strays).toEqual([]);
});

const ENDPOINTS = ['/system/start?wait=false', '/system/delete', '/system/status'];
const KNOWN_STATUS = new Set([200, 201, 413, 415, ...Object.values(HTTP_STATUS)]);

const name = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/).map((n) => `fz-${n}`),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', '-', 'A', 'a'.repeat(64), 'x.y', '../etc', 'kube-system', '__proto__', '$(id)', '名前'),
);
const junk = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string({ minLength: 5_000, maxLength: 20_000 }), fc.constantFrom(null, true, -1, 1e308, [], {}));
/** A valid start body with one field replaced (or added) by junk. */
const nearValid = fc
  .tuple(name, fc.constantFrom('name', 'containers', 'containers.0', 'image', 'ports', 'containerPort', 'env', 'command', 'limits', 'cpus', 'memory', 'unknown', 'constructor'), junk)
  .map(([n, field, value]) => {
    const b = originalBody(String(n)) as Record<string, unknown> & { containers: Record<string, unknown>[] };
    const c = b.containers[0]!;
    if (field === 'name' || field === 'containers' || field === 'unknown' || field === 'constructor') (b as Record<string, unknown>)[field] = value;
    else if (field === 'containers.0') b.containers[0] = value as never;
    else if (field === 'containerPort') c.ports = [{ containerPort: value }];
    else if (field === 'cpus' || field === 'memory') c.limits = [{ [field]: value }];
    else c[field] = value;
    return JSON.stringify(b);
  });
const body = fc.oneof(
  { weight: 3, arbitrary: nearValid },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.record({ name }, { requiredKeys: [] }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

function checkAnswer(r: ApiAnswer): void {
  expect(KNOWN_STATUS.has(r.status)).toBe(true);
  expect(r.json).toBeDefined();
  expect(['success', 'error']).toContain(r.json.status);
  expect(typeof r.json.message).toBe('string');
  expect(r.json.message.length).toBeGreaterThan(0);
  // Words, not internals: no stack frames, no client-node or API server bodies.
  expect(r.text).not.toMatch(/\bat \S+ \(|ApiException|"kind":"Status"|HTTP-Code|node_modules/);
  if (r.status >= 400) {
    expect(r.json.status).toBe('error');
    expect(TYCHO_ERROR_CODES).toContain(r.json.result?.code);
    expect(r.json.message.length).toBeLessThanOrEqual(2000);
  }
}

test('generated bodies get the envelope and a clear answer, and the server keeps answering', async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ENDPOINTS), body, async (endpoint, raw) => {
      const r = await call(live.server.url, endpoint, undefined, { raw, headers: { 'Content-Type': 'application/json', 'X-Tycho-Owner': 'fuzz' } });
      if (endpoint.startsWith('/system/start') && r.status === 201) {
        const b = JSON.parse(raw) as { name: string };
        started.add(b.name);
      }
      checkAnswer(r);
    }),
    { ...fuzzOptions(250), endOnFailure: true },
  );
  // Still up, and still answering a good request.
  expect((await call(live.server.url, '/system/status', {})).status).toBe(200);
}, 120_000);
