/**
 * Invalid requests against the real server: each gets a 4xx with the envelope, names the
 * field and the rule, and creates nothing (the namespace is listed to prove it).
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { call, objectsIn, originalBody, post, schemaErrors, serverInFreshNamespace } from './helpers.js';


const live = serverInFreshNamespace('api-bad');
afterEach(async () => {
  // The point of every case: nothing was created.
  expect(await objectsIn(live.ns)).toEqual([]);
});

type Body = ReturnType<typeof originalBody>;
const patched = (patch: (b: Body & Record<string, unknown>) => void): unknown => {
  const b = originalBody('bad-body') as Body & Record<string, unknown>;
  patch(b);
  return b;
};
const container = (b: Body) => b.containers[0] as Record<string, unknown>;

function expectInvalid(r: Awaited<ReturnType<typeof call>>, field: string, rule: string, words: RegExp): void {
  expect(r.status).toBe(400);
  expect(schemaErrors(r.json, 'ErrorResponse')).toEqual([]);
  expect(r.json.status).toBe('error');
  expect(r.json.result.code).toBe('usage');
  expect(r.json.result.error).toBe(r.json.message);
  expect(r.json.message).toContain(field);
  expect(r.json.result.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field, rule })]));
  expect(r.json.message).toMatch(words);
}

describe('start: wrong types', () => {
  it.each([
    ['name is a number', patched((b) => (b.name = 123 as unknown as string)), 'body.name', 'type', /must be a string \(got a whole number\)/],
    ['containers is a string', patched((b) => ((b as Record<string, unknown>).containers = 'jupyter')), 'body.containers', 'type', /must be a list/],
    ['containerPort is a string', patched((b) => (b.containers[0]!.ports[0] = { containerPort: '8888' as unknown as number })), 'body.containers[0].ports[0].containerPort', 'type', /must be a whole number/],
    ['env is one string', patched((b) => (container(b).env = 'A=1')), 'body.containers[0].env', 'type', /must be a list/],
    ['command is one string', patched((b) => (container(b).command = 'start.sh jupyter lab')), 'body.containers[0].command', 'type', /must be a list/],
    ['cpus is true', patched((b) => (container(b).limits = [{ cpus: true }])), 'body.containers[0].limits[0].cpus', 'type', /must be a string or a number/],
    ['limits is an object', patched((b) => (container(b).limits = { cpus: '0.3' })), 'body.containers[0].limits', 'type', /must be a list/],
    ['the body is a list', [originalBody('x')], 'body', 'type', /must be an object/],
  ])('%s', async (_what, body, field, rule, words) => {
    expectInvalid(await call(live.server.url, '/system/start', body), field, rule, words);
  });
});

describe('start: missing fields', () => {
  it.each([
    ['no name', patched((b) => delete (b as Partial<Body>).name), 'body.name', 'required'],
    ['no containers', patched((b) => delete (b as Partial<Body>).containers), 'body.containers', 'required'],
    ['no image', patched((b) => delete container(b).image), 'body.containers[0].image', 'required'],
    ['no ports', patched((b) => delete container(b).ports), 'body.containers[0].ports', 'required'],
    ['an empty port list', patched((b) => (container(b).ports = [])), 'body.containers[0].ports', 'minItems'],
    ['an empty container list', patched((b) => (b.containers = [])), 'body.containers', 'minItems'],
    ['an empty object', {}, 'body.name', 'required'],
  ])('%s', async (_what, body, field, rule) => {
    expectInvalid(await call(live.server.url, '/system/start', body), field, rule, /is required|at least 1 item/);
  });

  it('no body at all', async () => {
    expectInvalid(await call(live.server.url, '/system/start'), 'body', 'required', /send a JSON object/);
  });
});

describe('start: bad names and values', () => {
  it.each([
    ['upper case and underscore', 'Jupyter_DS', /lower case; try "jupyter-ds"/],
    ['a leading digit', '9lives', /must start with a letter; try "lives"/],
    ['a leading dash', '-abc', /must start with a letter/],
    ['64 characters', `a${'b'.repeat(63)}`, /is 64 characters long, and names may have at most 63/],
    ['a dot', 'my.app', /only lower-case letters, digits and "-"/],
    ['empty', '', /must not be empty/],
  ])('name with %s', async (_what, name, words) => {
    const r = await call(live.server.url, '/system/start', originalBody(name));
    expectInvalid(r, 'body.name', name === '' ? 'minLength' : 'format:system-name', words);
  });

  it.each([
    ['an image with spaces', (b: Body) => (container(b).image = 'jupyter lab'), 'body.containers[0].image', 'format:image', /contains a space/],
    ['an env entry without =', (b: Body) => (container(b).env = ['A=1', 'NOEQUALS']), 'body.containers[0].env[1]', 'format:env-pair', /has no "="; write it as KEY=VALUE/],
    ['memory that is not a quantity', (b: Body) => (container(b).limits = [{ memory: 'lots' }]), 'body.containers[0].limits[0].memory', 'format:memory-quantity', /"lots" is not valid/],
    ['negative cpus', (b: Body) => (container(b).limits = [{ cpus: '-1' }]), 'body.containers[0].limits[0].cpus', 'format:cpu-quantity', /cpu amount "-1" is not valid/],
    ['a port above 65535', (b: Body) => (b.containers[0]!.ports = [{ containerPort: 70000 }]), 'body.containers[0].ports[0].containerPort', 'maximum', /at most 65535/],
    ['two containers', (b: Body) => b.containers.push(b.containers[0]!), 'body.containers', 'maxItems', /at most 1 item/],
    ['an unknown field', (b: Body) => (container(b).expose = 'ingress'), 'body.containers[0].expose', 'additionalProperties', /not a field Tycho knows/],
    ['a volume not in the pvc:// shape', (b: Body) => (container(b).volumes = ['/data']), 'body.containers[0].volumes[0]', 'format:pvc-volume', /is not pvc:\/\/CLAIM\/SUBPATH:\/path/],
    ['17 GPUs', (b: Body) => (container(b).limits = [{ gpus: 17 }]), 'body.containers[0].limits[0].gpus', 'maximum', /at most 16/],
  ])('%s', async (_what, patch, field, rule, words) => {
    expectInvalid(await call(live.server.url, '/system/start', patched(patch)), field, rule, words);
  });

  it('reports every broken field at once', async () => {
    const r = await call(live.server.url, '/system/start', { name: 'Bad', containers: [{ image: 'ok', ports: [{ containerPort: 0 }], env: ['=x'] }] });
    expect(r.status).toBe(400);
    expect(r.json.result.errors.map((e: { field: string }) => e.field)).toEqual(['body.name', 'body.containers[0].ports[0].containerPort', 'body.containers[0].env[0]']);
  });

  it('a bad query option or owner header', async () => {
    expectInvalid(await call(live.server.url, '/system/start?wait=perhaps', originalBody('qs')), 'query.wait', 'type', /true or false/);
    expectInvalid(await call(live.server.url, '/system/start?timeout=0', originalBody('qs')), 'query.timeout', 'minimum', /at least 1/);
    expectInvalid(await call(live.server.url, '/system/start', originalBody('hdr'), { headers: { 'X-Tycho-Owner': 'a b' } }), 'header.X-Tycho-Owner', 'format:owner', /not a valid owner/);
  });
});

describe('bodies that are not JSON, or too large', () => {
  it('invalid JSON: 400 with the envelope', async () => {
    const r = await call(live.server.url, '/system/start', undefined, { raw: '{"name": "x", "containers": [', headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ status: 'error', result: { code: 'usage' }, message: expect.stringMatching(/^The request body is not valid JSON/) });
  });

  it.each([
    ['text/plain', 'text/plain;charset=UTF-8', /this one was "text\/plain;charset=UTF-8"/],
    ['a form (what curl -d sends)', 'application/x-www-form-urlencoded', /this one was "application\/x-www-form-urlencoded"/],
    ['no content type at all', undefined, /sent without a Content-Type/],
  ])('a JSON body sent as %s: 415 in one sentence, nothing read', async (_what, type, words) => {
    const r = await post(`${live.server.url}/system/start`, { headers: type ? { 'Content-Type': type } : {}, body: JSON.stringify(originalBody('as-text')) });
    expect(r.status).toBe(415);
    expect(r.json).toEqual({ status: 'error', result: { error: r.json.message, code: 'usage' }, message: expect.stringMatching(/^The request body must be JSON sent with "Content-Type: application\/json" \(.*\)\.$/) });
    expect(r.json.message).toMatch(words);
  });

  it('JSON in another charset: 415', async () => {
    const r = await call(live.server.url, '/system/status', {}, { headers: { 'Content-Type': 'application/json; charset=latin1' } });
    expect(r.status).toBe(415);
    expect(r.json.message).toBe('The request body must be JSON in UTF-8 (this one declares charset latin1).');
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ])('a %s-encoded body: 415, as the README promises', async (encoding, compress) => {
    const r = await post(`${live.server.url}/system/start`, {
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
      body: compress(Buffer.from(JSON.stringify(originalBody('compressed')))),
    });
    expect(r.status).toBe(415);
    expect(r.json).toMatchObject({ status: 'error', result: { code: 'usage' }, message: `The request body must be sent uncompressed, without Content-Encoding (this one is ${encoding}).` });
  });

  it('a body over 64 kB: 413 with the envelope', async () => {
    const huge = patched((b) => (container(b).env = Array.from({ length: 2000 }, (_, i) => `VAR_${i}=${'x'.repeat(40)}`)));
    const r = await call(live.server.url, '/system/start', huge);
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ status: 'error', result: { error: 'The request body is larger than 64 kB.', code: 'usage' }, message: 'The request body is larger than 64 kB.' });
  });
});

describe('keys every object has: refused like any other unknown field', () => {
  // Raw JSON text: in a JS object literal "__proto__" would set the prototype, not add a key.
  const withKey = (key: string, where: 'top' | 'container') => {
    const b = JSON.stringify(originalBody('proto-key'));
    return where === 'top' ? b.replace(/^\{/, `{"${key}": {"polluted": true}, `) : b.replace('"containers":[{', `"containers":[{"${key}": "x", `);
  };

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('%s at the top and in a container: 400 naming the field', async (key) => {
    for (const [where, field] of [
      ['top', `body.${key}`],
      ['container', `body.containers[0].${key}`],
    ] as const) {
      const r = await call(live.server.url, '/system/start', undefined, { raw: withKey(key, where), headers: { 'Content-Type': 'application/json' } });
      expectInvalid(r, field, 'additionalProperties', /is not a field Tycho knows here/);
    }
  });

  it('"__proto__" in a delete or status body: 400', async () => {
    for (const path of ['/system/delete', '/system/status']) {
      const r = await call(live.server.url, path, undefined, { raw: '{"name": "x", "__proto__": {"name": "y"}}', headers: { 'Content-Type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(r.json.result.errors).toEqual([expect.objectContaining({ field: 'body.__proto__', rule: 'additionalProperties' })]);
    }
  });
});

describe('delete and status', () => {
  it.each([
    ['/system/delete', {}, 'body.name', 'required'],
    ['/system/delete', { name: 'No_Such' }, 'body.name', 'format:system-name'],
    ['/system/delete', { name: 'x', force: true }, 'body.force', 'additionalProperties'],
    ['/system/status', { name: 5 }, 'body.name', 'type'],
    ['/system/status', { all: true }, 'body.all', 'additionalProperties'],
  ])('%s %j', async (path, body, field, rule) => {
    const r = await call(live.server.url, path, body);
    expect(r.status).toBe(400);
    expect(r.json.result.errors).toEqual([expect.objectContaining({ field, rule })]);
  });
});

describe('routes and methods that do not exist', () => {
  it('GET on an API route: 405 with Allow: POST', async () => {
    const r = await call(live.server.url, '/system/start', undefined, { method: 'GET' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(r.json).toMatchObject({ status: 'error', result: { code: 'usage' }, message: expect.stringContaining('POST /system/start') });
  });

  it('an unknown API route: 404 with the envelope', async () => {
    const r = await call(live.server.url, '/system/reboot', { name: 'x' });
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ status: 'error', message: expect.stringContaining('POST /system/start, /system/delete, /system/extend, /system/status, /system/logs and /system/restart') });
  });
});
