/**
 * The REST API under generated bodies, against one real server and cluster: JSON of wrong types,
 * nested junk, unknown, repeated and odd keys (`__proto__`, `constructor`), unicode, shell
 * metacharacters, `--` tricks, strings of thousands of characters, near-valid start bodies with
 * one field gone wrong, and text that is no JSON at all, sent to every route.
 *
 * Each answer is either a success of the route (a start's 201 for a valid name, in the
 * documented envelope) or the envelope with a known code, a status of the API's table and one
 * readable sentence (one line, no stack, no raw API text, what was sent quoted short). The server
 * keeps answering; and the namespace's Deployments and Services, listed before and after, differ
 * by exactly the valid names whose start said 201 (and which no later delete removed).
 *
 * Most bodies are refused by the schema before Kubernetes is asked, so thousands cost seconds.
 * A failure names fast-check's seed and path, which replay it exactly:
 *   TYCHO_FUZZ_SEED=<seed> TYCHO_FUZZ_PATH=<path> npx jest test/api/rest-fuzz.test.ts
 * TYCHO_FUZZ_RUNS sets how many bodies are sent (default 2000).
 */
import { expect, test } from '@jest/globals';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import fc from 'fast-check';
import { HTTP_STATUS } from '../../src/api/envelope.js';
import { TYCHO_ERROR_CODES } from '../../src/k8s/errors.js';
import { checkName } from '../../src/k8s/validate.js';
import { kubeConfig } from '../support/cluster.js';
import { fuzzOptions } from '../support/fuzz.js';
import { call, originalBody, serverInFreshNamespace, type ApiAnswer } from './helpers.js';

const live = serverInFreshNamespace('api-fuzz');

/** The Deployments and Services of the namespace, as "Kind/name". */
async function systemObjects(namespace: string): Promise<string[]> {
  const kc = kubeConfig();
  const [d, s] = await Promise.all([kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace }), kc.makeApiClient(CoreV1Api).listNamespacedService({ namespace })]);
  return [...d.items.map((o) => `Deployment/${o.metadata!.name}`), ...s.items.map((o) => `Service/${o.metadata!.name}`)].sort();
}

const ROUTES = ['/system/start?wait=false', '/system/delete', '/system/status', '/system/extend', '/system/logs'];
const KNOWN_STATUS = new Set([413, 415, ...Object.values(HTTP_STATUS)]);
const EXPECTED_REFUSALS = ['usage', 'not_found', 'name_in_use'];

/** What a person (or an attacker) types where a name or a value goes. */
const NASTY = [
  '', ' ', '-', '--', '---', '--name', '-n', '--help', '-h', '--ttl=999h', '--name=web', '-- web', 'web --', '-rf',
  '$(id)', '`id`', '; rm -rf /', '&& echo', '| cat', '> /etc/passwd', "'", '"', '\\', '\\"', '"unclosed', '*', '~', '#',
  '\n', '\r\n', '\t', '\u0000', '\u202e', '\u200b', '\ufeff', '名前', 'ñame', '👍', 'web\u200b', 'é'.normalize('NFD'),
  '%00', '{}', '[]', '<@U123>', '<!channel>', '../etc', 'kube-system', 'default', '__proto__', 'constructor', 'toString',
  'A', 'Web', 'x.y', 'a'.repeat(64), 'true', 'null', '0', '-1', '1e308', 'NaN',
];
const nasty = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  // Strings of thousands, in pieces that tempt a quoting or word-cutting bug.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'x-', '$(', '"', ' ', 'é', '\n', '👍'), fc.integer({ min: 81, max: 20_000 })).map(([s, n]) => s.repeat(Math.ceil(n / s.length))) },
);
/** A valid name the fuzz may launch (prefixed, so it is told from anything else in the namespace). */
const validName = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/).map((n) => `fz-${n}`);
/** A few names reused throughout, so that deletes, extends and second starts meet live systems. */
const liveName = fc.constantFrom('fz-one', 'fz-two', 'fz-three');
const name = fc.oneof({ weight: 1, arbitrary: liveName }, { weight: 2, arbitrary: validName }, { weight: 3, arbitrary: nasty });
const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  nasty,
  fc.constantFrom(null, true, false, -1, 0, 1e308, 2 ** 53, 65536, [], {}, [null], { '': '' }),
);

/** A valid start body with one field replaced (or added) by junk; now and then left valid. */
const START_FIELDS = ['valid', 'name', 'containers', 'containers.0', 'container name', 'image', 'ports', 'containerPort', 'env', 'env.0', 'command', 'command.0', 'limits', 'cpus', 'memory', 'unknown', 'constructor'] as const;
const startBody = fc.tuple(name, fc.constantFrom(...START_FIELDS), junk).map(([n, field, value]) => {
  const b = originalBody(n, 'nginx:1.27') as Record<string, unknown> & { containers: Record<string, unknown>[] };
  const c = b.containers[0]!;
  if (field === 'valid') return b;
  if (field === 'name' || field === 'containers' || field === 'unknown' || field === 'constructor') (b as Record<string, unknown>)[field] = value;
  else if (field === 'containers.0') b.containers[0] = value as never;
  else if (field === 'container name') c.name = value;
  else if (field === 'containerPort') c.ports = [{ containerPort: value }];
  else if (field === 'cpus' || field === 'memory') c.limits = [{ [field]: value }];
  else if (field === 'env.0') c.env = [value];
  else if (field === 'command.0') c.command = [value];
  else c[field] = value;
  return b;
});
/** The small bodies of the other routes: a name, and now and then one option (valid or junk) or a stranger. */
const OPTIONS = { ttl: fc.constantFrom('1h', '30m', '0s', '-1h', '999999h', '1h30m', '1 h', '--ttl'), tail: fc.integer({ min: -5, max: 100_000 }), previous: fc.boolean(), extra: fc.constant(1) };
const smallBody = fc
  .tuple(fc.option(name, { freq: 8 }), fc.option(fc.constantFrom(...(Object.keys(OPTIONS) as (keyof typeof OPTIONS)[])), { freq: 2 }), fc.boolean(), junk)
  .chain(([n, option, wild, value]) =>
    (option === null ? fc.constant(undefined) : wild ? fc.constant(value) : (OPTIONS[option] as fc.Arbitrary<unknown>)).map((v) => ({ ...(n !== null ? { name: n } : {}), ...(option !== null ? { [option]: v } : {}) })),
  );
/** JSON text a parser may take in more than one way: repeated keys (the last wins), prototype keys. */
const oddJson = fc.tuple(name, name, junk, fc.nat(7)).map(
  ([a, b, v, i]) =>
    [
      `{"name":${JSON.stringify(a)},"name":${JSON.stringify(b)}}`,
      `{"name":${JSON.stringify(a)},"__proto__":{"name":${JSON.stringify(b)},"isAdmin":true}}`,
      `{"__proto__":${JSON.stringify(v)},"name":${JSON.stringify(a)}}`,
      `{"constructor":{"prototype":{"name":${JSON.stringify(b)}}},"name":${JSON.stringify(a)}}`,
      `{"name":${JSON.stringify(a)}}{"name":${JSON.stringify(b)}}`,
      `[{"name":${JSON.stringify(a)}}]`,
      `{"name":${JSON.stringify(a)},}`,
      `{'name':'${a}'}`,
    ][i]!,
);
const body = fc.oneof(
  { weight: 4, arbitrary: startBody.map((b) => JSON.stringify(b)) },
  { weight: 3, arbitrary: smallBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: oddJson },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.oneof(nasty, fc.string({ maxLength: 200 })) },
);

/** One readable sentence: one line, no control characters, no stack, nothing of Kubernetes' own. */
function checkSentence(message: unknown): void {
  expect(typeof message).toBe('string');
  const m = message as string;
  expect(m.length).toBeGreaterThan(0);
  expect(m.length).toBeLessThanOrEqual(1200);
  expect(m).not.toMatch(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/);
  // What was sent is quoted short: no word of it at full length.
  expect(m).not.toMatch(/\S{120,}/);
  expect(m).not.toMatch(/\bat \S+ \(|ApiException|"kind":"Status"|HTTP-Code|node_modules|TypeError|undefined/);
  // One sentence: a body with many mistakes is answered with the first (result.errors lists all).
  expect((m.match(/(^|\s)(body|query|header)([.[]|\s|$)/g) ?? []).length).toBeLessThanOrEqual(1);
}

/** The name a start body (as the server's JSON parser reads it) asks for. */
function startedName(raw: string): string {
  return (JSON.parse(raw) as { name: string }).name;
}

test('generated bodies get a valid result or one clear sentence, the server keeps answering, and only valid starts are in the cluster', async () => {
  const before = await systemObjects(live.ns);
  expect(before).toEqual([]);
  const started = new Set<string>();

  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...ROUTES), body, async (route, raw) => {
      const r: ApiAnswer = await call(live.server.url, route, undefined, { raw, headers: { 'Content-Type': 'application/json', 'X-Tycho-Owner': 'fuzz' } });
      expect(r.json).toBeDefined();
      checkSentence(r.json.message);
      if (r.status < 400) {
        expect(r.json.status).toBe('success');
        if (route.startsWith('/system/start')) {
          expect(r.status).toBe(201);
          // Launched only under a name that is a name.
          const n = startedName(raw);
          expect(checkName(n)).toBeNull();
          started.add(n);
        } else expect(r.status).toBe(200);
        if (route === '/system/delete') started.delete(startedName(raw));
      } else {
        expect(KNOWN_STATUS.has(r.status)).toBe(true);
        expect(r.json.status).toBe('error');
        expect(TYCHO_ERROR_CODES).toContain(r.json.result?.code);
        // Every refusal is Tycho's own reading of the request (its schema and checks, or the
        // systems it knows): none is Kubernetes refusing what Tycho let through (invalid_spec),
        // and none is Tycho failing inside (5xx).
        expect(EXPECTED_REFUSALS).toContain(r.json.result.code);
      }
    }),
    { ...fuzzOptions(2000), endOnFailure: true },
  );
  // Still up, and still answering a good request.
  expect((await call(live.server.url, '/system/status', {})).status).toBe(200);

  // Exactly the systems that a start said it launched (a Service only with one, as a body
  // without ports has none); nothing else.
  const after = await systemObjects(live.ns);
  expect(after.filter((o) => o.startsWith('Deployment/'))).toEqual([...started].map((n) => `Deployment/${n}`).sort());
  expect(after.filter((o) => o.startsWith('Service/') && !started.has(o.slice('Service/'.length)))).toEqual([]);
  // At least a few bodies were valid: the property looked at successes as well as refusals.
  expect(started.size).toBeGreaterThan(0);

  for (const n of started) expect((await call(live.server.url, '/system/delete', { name: n })).status).toBe(200);
  expect(await systemObjects(live.ns)).toEqual([]);
}, 120_000);
