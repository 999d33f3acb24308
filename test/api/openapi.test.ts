/**
 * The OpenAPI document is the single source of truth, so it must be internally sound: it is
 * valid OpenAPI (checked by a maintained validator), every format it names exists, and every
 * example it publishes passes its own schema.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { FORMATS } from '../../src/api/formats.js';
import { componentName, EXAMPLE_START, openApiDocument, type JsonSchema } from '../../src/api/openapi.js';
import { validateRequest, validateValue, operationFor } from '../../src/api/validate-request.js';
import { TYCHO_ERROR_CODES } from '../../src/k8s/errors.js';
import { STAGES } from '../../src/k8s/spec.js';

const resolveRef = (ref: string): JsonSchema => openApiDocument().components.schemas[componentName(ref)]!;

function allSchemas(): JsonSchema[] {
  const out: JsonSchema[] = Object.values(openApiDocument().components.schemas);
  for (const item of Object.values(openApiDocument().paths)) {
    for (const op of Object.values(item)) {
      for (const p of op.parameters ?? []) out.push(p.schema);
      if (op.requestBody) out.push(op.requestBody.content['application/json'].schema);
      for (const r of Object.values(op.responses)) if (r.content) out.push(r.content['application/json'].schema);
    }
  }
  return out;
}

it('is a valid OpenAPI 3.0 document, as a maintained validator reads it', async () => {
  const result = await new Validator().validate(structuredClone(openApiDocument()) as unknown as Parameters<Validator["validate"]>[0]);
  expect(result.errors).toBeUndefined();
  expect(result.valid).toBe(true);
});

it('uses only formats the validator knows', () => {
  const formats = new Set<string>();
  const walk = (s: unknown): void => {
    if (!s || typeof s !== 'object') return;
    const o = s as Record<string, unknown>;
    if (typeof o.format === 'string') formats.add(o.format);
    for (const [k, v] of Object.entries(o)) if (k !== 'example' && k !== 'examples') (Array.isArray(v) ? v : [v]).forEach(walk);
  };
  allSchemas().forEach(walk);
  // date-time is ajv-formats' own; the rest are Tycho's shared checks.
  expect([...formats].filter((f) => !(f in FORMATS) && f !== 'date-time')).toEqual([]);
});

it('takes its enums from the code: stages and error codes', () => {
  const props = (name: string) => resolveRef(`#/components/schemas/${name}`).properties as Record<string, JsonSchema>;
  expect(props('StatusItem').stage!.enum).toEqual([...STAGES]);
  expect(props('ErrorResult').code!.enum).toEqual([...TYCHO_ERROR_CODES]);
});

it('resolves every $ref', () => {
  const refs = JSON.stringify(openApiDocument()).match(/"\$ref":"[^"]+"/g) ?? [];
  expect(refs.length).toBeGreaterThan(0);
  for (const r of refs) expect(() => resolveRef(JSON.parse(`{${r}}`).$ref)).not.toThrow();
});

it('lists the system operations (extend and logs too), each with an example request and example answers', () => {
  const ops = Object.entries(openApiDocument().paths).flatMap(([path, item]) => Object.entries(item).map(([m, op]) => ({ path, m, op })));
  expect(ops.filter((o) => o.op.tags.includes('system')).map((o) => `${o.m.toUpperCase()} ${o.path}`)).toEqual(['POST /system/start', 'POST /system/delete', 'POST /system/extend', 'POST /system/status', 'POST /system/logs', 'POST /system/restart']);
  for (const { op } of ops) {
    for (const [code, r] of Object.entries(op.responses)) {
      expect(`${op.operationId} ${code}: ${Object.keys(r.content?.['application/json'].examples ?? {}).length > 0}`).toBe(`${op.operationId} ${code}: true`);
    }
  }
});

it('accepts every request example it publishes, and the original body exactly as the issue gives it', () => {
  for (const item of Object.values(openApiDocument().paths)) {
    for (const op of Object.values(item)) {
      for (const ex of Object.values(op.requestBody?.content['application/json'].examples ?? {})) {
        expect(validateRequest(op, { body: ex.value, query: {}, header: () => undefined }).errors).toEqual([]);
      }
    }
  }
  expect(EXAMPLE_START.containers[0]!.command).toEqual(['start.sh', 'jupyter', 'lab', "--LabApp.token=''"]);
});

it('publishes answer examples that match their own schemas', () => {
  for (const item of Object.values(openApiDocument().paths)) {
    for (const op of Object.values(item)) {
      for (const [code, r] of Object.entries(op.responses)) {
        const media = r.content?.['application/json'];
        for (const [exName, ex] of Object.entries(media?.examples ?? {})) {
          const errors = validateValue(ex.value, media!.schema, `${op.operationId} ${code} ${exName}`);
          expect(errors).toEqual([]);
        }
      }
    }
  }
});

it('states the memory-unit conversion', () => {
  const memory = String((resolveRef('#/components/schemas/Limits').properties as Record<string, JsonSchema>).memory!.description);
  expect(memory).toMatch(/512M.*512,000,000 bytes/);
  expect(memory).toMatch(/512Mi.*536,870,912 bytes/);
  expect(openApiDocument().info.description).toContain('memory:');
});

describe('the validator, on the start operation', () => {
  const op = operationFor('/system/start', 'post');
  const check = (body: unknown, query: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    validateRequest(op, { body, query, header: (n) => headers[n] }).errors;
  const body = (patch: (b: typeof EXAMPLE_START) => void) => {
    const b = structuredClone(EXAMPLE_START);
    patch(b);
    return b;
  };

  it('names the field and the rule', () => {
    expect(check(body((b) => ((b.containers[0]!.ports[0] as { containerPort: unknown }).containerPort = '8888')))).toEqual([
      { field: 'body.containers[0].ports[0].containerPort', rule: 'type', message: 'body.containers[0].ports[0].containerPort must be a whole number (got a string).' },
    ]);
    expect(check({ containers: [] })).toEqual([
      { field: 'body.name', rule: 'required', message: 'body.name is required.' },
      { field: 'body.containers', rule: 'minItems', message: 'body.containers must have at least 1 item (got 0).' },
    ]);
  });

  it('uses the shared checks for names, images, env and quantities', () => {
    expect(check(body((b) => (b.name = 'Jupyter_DS')))[0]).toMatchObject({ field: 'body.name', rule: 'format:system-name', message: expect.stringContaining('try "jupyter-ds"') });
    expect(check(body((b) => (b.containers[0]!.image = 'Bad Image')))[0]).toMatchObject({ rule: 'format:image' });
    expect(check(body((b) => (b.containers[0]!.env = ['NOEQUALS'])))[0]).toMatchObject({ field: 'body.containers[0].env[0]', rule: 'format:env-pair' });
    expect(check(body((b) => (b.containers[0]!.limits = [{ cpus: '0.3', memory: 'lots' }])))[0]).toMatchObject({ rule: 'format:memory-quantity' });
  });

  it('accepts the original\'s units and Kubernetes ones, numbers for cpus, and null lists', () => {
    for (const limits of [
      { cpus: '0.3', memory: '512M' },
      { cpus: '500m', memory: '512Mi' },
      { cpus: 2, memory: '1Gi' },
      { cpus: 0.5, memory: '512MB', gpus: '0' },
    ]) {
      expect(check(body((b) => (b.containers[0]!.limits = [limits as { cpus: string; memory: string }])))).toEqual([]);
    }
    expect(check(body((b) => Object.assign(b.containers[0]!, { env: null, command: null, limits: null })))).toEqual([]);
    expect(check(body((b) => Object.assign(b.containers[0]!, { command: [] })))).toEqual([]);
  });

  it('rejects what it does not know, and says which fields there are', () => {
    expect(check(body((b) => Object.assign(b.containers[0]!, { expose: 'ingress' })))[0]).toMatchObject({
      field: 'body.containers[0].expose',
      rule: 'additionalProperties',
      message: expect.stringContaining('the fields are name, image, command, env, secret_env, volumes, limits, ports'),
    });
    // Volumes in the original's shape only.
    expect(check(body((b) => Object.assign(b.containers[0]!, { volumes: ['/data'] })))[0]).toMatchObject({
      field: 'body.containers[0].volumes[0]',
      rule: 'format:pvc-volume',
      message: 'body.containers[0].volumes[0]: The volume "/data" is not pvc://CLAIM/SUBPATH:/path (SUBPATH optional, :ro for read-only).',
    });
    expect(check(body((b) => Object.assign(b.containers[0]!, { volumes: ['pvc://shared-data/alice:/home/jovyan/work', 'pvc://datasets:/data:ro'] })))).toEqual([]);
    expect(check(body((b) => b.containers.push(b.containers[0]!)))[0]).toMatchObject({ field: 'body.containers', rule: 'maxItems' });
    expect(check(EXAMPLE_START, { wait: 'maybe' })[0]).toMatchObject({ field: 'query.wait', rule: 'type' });
    expect(check(EXAMPLE_START, { wait: 'false', timeout: '30' })).toEqual([]);
    expect(check(EXAMPLE_START, { verbose: '1' })[0]).toMatchObject({ field: 'query.verbose', rule: 'additionalProperties' });
    expect(check(EXAMPLE_START, {}, { 'X-Tycho-Owner': 'a b' })[0]).toMatchObject({ field: 'header.X-Tycho-Owner', rule: 'format:owner' });
  });

  it('reports each broken field once, at its first broken rule', () => {
    const errors = check({ name: 5, containers: 'x', extra: true });
    expect(errors.map((e) => `${e.field} ${e.rule}`)).toEqual(['body.name type', 'body.containers type', 'body.extra additionalProperties']);
  });
});
