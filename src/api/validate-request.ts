/**
 * Checks a request (body, query, headers) against its operation in the OpenAPI document with
 * ajv, so the published schema and the enforced rules are one and the same. Tycho's own checks
 * (names, images, quantities: formats.ts) are ajv formats. ajv's errors are turned into the
 * sentences Tycho has always given: each names its field and the rule, and each field is
 * reported once, at its first broken rule, in the order of the request's own fields.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { FORMATS } from './formats.js';
import { componentName, namedSchemas, openApiDocument, type JsonSchema, type Operation } from './openapi.js';
import type { FieldError } from './wire.js';
import { shortened } from '../k8s/errors.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

function compiler(): Ajv {
  // ownProperties: keys such as "constructor" or "toString" are never taken from the prototype.
  const ajv = new Ajv({ allErrors: true, verbose: true, ownProperties: true, strict: true, strictRequired: false });
  addFormats(ajv, ['date-time']);
  for (const [name, check] of Object.entries(FORMATS)) {
    const passes = (v: string | number) => check.why(v) === null;
    ajv.addFormat(name, check.type === 'number' ? { type: 'number', validate: (v: number) => passes(v) } : { type: 'string', validate: (v: string) => passes(v) });
  }
  ajv.addKeyword({ keyword: 'example', schemaType: ['string', 'number', 'boolean', 'object', 'array', 'null'] });
  return ajv;
}

const ajv = compiler();
const compiled = new Map<JsonSchema, ValidateFunction>();

/**
 * Every named schema under its $id, which is how they refer to each other (and what
 * "#/components/schemas/<id>" in the document names); those of a command registered since the
 * last call are added too. JSON drops TypeBox's symbol keys.
 */
function addNamedSchemas(): void {
  for (const s of namedSchemas()) if (!ajv.getSchema(s.$id!)) ajv.addSchema(JSON.parse(JSON.stringify(s)) as object);
}

function validatorFor(schema: JsonSchema): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    addNamedSchemas();
    const target = typeof schema.$ref === 'string' ? ajv.getSchema(componentName(schema.$ref)) : ajv.compile(schema);
    if (!target) throw new Error(`The API document has no schema for ${JSON.stringify(schema)}.`);
    v = target;
    compiled.set(schema, v);
  }
  return v;
}

const A_OR_AN: Record<string, string> = { object: 'an object', array: 'a list', string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', null: 'null' };
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const got = (v: unknown) => A_OR_AN[typeOf(v)] ?? typeOf(v);
/** The types a schema (or the branches of its anyOf) admits, in words; null is not named (it means "none"). */
const kinds = (types: string[]) => types.filter((t) => t !== 'null').map((t) => A_OR_AN[t] ?? t).join(' or ');

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Where an error is, as a field name ("body.containers[0].env[1]"), and its position among the
 * request's fields (missing ones first, then in the order they were sent), for sorting.
 */
function locate(root: unknown, pointer: string, name: string): { field: string; order: number[] } {
  let field = name;
  let value = root;
  const order: number[] = [];
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value)) {
      field = child(field, Number(key));
      order.push(Number(key));
      value = value[Number(key)];
    } else {
      const obj = value as Record<string, unknown>;
      field = child(field, key);
      order.push(Object.keys(obj).indexOf(key));
      value = obj[key];
    }
  }
  return { field, order };
}

/** Within one field, the rule a person should hear about first (Tycho's own checks say what to do instead). */
const RULE_ORDER = ['type', 'required', 'additionalProperties', 'enum', 'minLength', 'format', 'maxLength', 'pattern', 'minimum', 'maximum', 'minItems', 'maxItems'];
const rank = (rule: string) => {
  const i = RULE_ORDER.indexOf(rule.startsWith('format:') ? 'format' : rule);
  return i < 0 ? RULE_ORDER.length : i;
};

interface Located extends FieldError {
  order: number[];
}

/** One ajv error in Tycho's words; undefined for errors that only echo another (anyOf's branches). */
function sentence(e: ErrorObject, root: unknown, name: string): Located | undefined {
  const at = locate(root, e.instancePath, name);
  const p = e.params as Record<string, unknown>;
  // A field error may quote what was sent (a name, an unknown key): cut to a readable length.
  const make = (field: string, rule: string, message: string, order = at.order): Located => ({ field: shortened(field), rule, message: shortened(message), order });
  const value = e.data;
  switch (e.keyword) {
    case 'type':
      return make(at.field, 'type', `${at.field} must be ${kinds(String(p.type).split(','))} (got ${got(value)}).`);
    case 'required': {
      const key = String(p.missingProperty);
      return make(child(at.field, key), 'required', `${child(at.field, key)} is required.`, [...at.order, -1]);
    }
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const where = child(at.field, key);
      const known = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
      return make(where, 'additionalProperties', `${where} is not a field Tycho knows here; the fields are ${known.join(', ')}.`, [...at.order, Object.keys(value as object).indexOf(key)]);
    }
    case 'enum':
      return make(at.field, 'enum', `${at.field} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}.`);
    case 'minLength':
      return make(at.field, 'minLength', p.limit === 1 ? `${at.field} must not be empty.` : `${at.field} must be at least ${plural(Number(p.limit), 'character')} long.`);
    case 'maxLength':
      return make(at.field, 'maxLength', `${at.field} must be at most ${plural(Number(p.limit), 'character')} long (got ${String(value).length}).`);
    case 'pattern':
      return make(at.field, 'pattern', `${at.field} must match the pattern ${String(p.pattern)}.`);
    case 'minimum':
      return make(at.field, 'minimum', `${at.field} must be at least ${String(p.limit)} (got ${String(value)}).`);
    case 'maximum':
      return make(at.field, 'maximum', `${at.field} must be at most ${String(p.limit)} (got ${String(value)}).`);
    case 'minItems':
      return make(at.field, 'minItems', `${at.field} must have at least ${plural(Number(p.limit), 'item')} (got ${(value as unknown[]).length}).`);
    case 'maxItems':
      return make(at.field, 'maxItems', `${at.field} must have at most ${plural(Number(p.limit), 'item')} (got ${(value as unknown[]).length}).`);
    case 'format': {
      const format = String(p.format);
      const why = FORMATS[format]?.why(value as string | number);
      return make(at.field, `format:${format}`, `${at.field}: ${why ?? `does not match the format ${format}.`}`);
    }
    default:
      return make(at.field, e.keyword, `${at.field} ${e.message ?? 'is not valid'}.`);
  }
}

/**
 * anyOf: report against the branch whose type fits, so "512X" gets the quantity rule, not
 * "must be a number"; when no branch's type fits, one sentence naming the types there are.
 */
function withoutBranchEchoes(errors: ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  const branchOf = (e: ErrorObject) => anyOfs.find((a) => e !== a && e.instancePath === a.instancePath && e.schemaPath.startsWith(`${a.schemaPath}/`));
  for (const e of errors) {
    if (e.keyword === 'anyOf') {
      const branches = errors.filter((b) => branchOf(b) === e);
      const fitting = branches.filter((b) => b.keyword !== 'type');
      if (fitting.length > 0) out.push(...fitting);
      else {
        const types = (e.schema as { type?: string }[]).map((b) => b.type ?? 'value');
        out.push({ ...e, keyword: 'type', params: { type: types.join(',') } });
      }
      continue;
    }
    if (!branchOf(e)) out.push(e);
  }
  return out;
}

const compareOrder = (a: number[], b: number[]) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
};

/** Checks `value` against a schema of the document (`{ $ref }` or inline); `name` names it in messages ("body"). */
export function validateValue(value: unknown, schema: JsonSchema, name: string): FieldError[] {
  const validate = validatorFor(schema);
  if (validate(value)) return [];
  const located = withoutBranchEchoes(validate.errors ?? [])
    .map((e) => sentence(e, value, name))
    .filter((e): e is Located => e !== undefined);
  // One error per field, at the rule that matters most; fields in the order they were sent.
  const byField = new Map<string, Located>();
  for (const e of located) {
    const seen = byField.get(e.field);
    if (!seen || rank(e.rule) < rank(seen.rule)) byField.set(e.field, e);
  }
  return [...byField.values()].sort((a, b) => compareOrder(a.order, b.order)).map(({ field, rule, message }) => ({ field, rule, message }));
}

export function operationFor(path: string, method: 'get' | 'post'): Operation {
  const op = openApiDocument().paths[path]?.[method];
  if (!op) throw new Error(`The API document has no ${method.toUpperCase()} ${path}.`);
  return op;
}

/** Query strings arrive as text; read "true"/"false" and whole numbers as what the schema expects. */
function coerceQuery(raw: unknown, type: unknown): unknown {
  if (Array.isArray(raw)) return raw; // ?x=1&x=2: left as a list, which the type check rejects
  if (typeof raw !== 'string') return raw;
  if (type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

export interface RequestParts {
  body: unknown;
  query: Record<string, unknown>;
  header: (name: string) => string | undefined;
}

export interface CheckedRequest {
  errors: FieldError[];
  /** Query parameters after coercion, only those the operation declares. */
  query: Record<string, unknown>;
}

export function validateRequest(op: Operation, req: RequestParts): CheckedRequest {
  const errors: FieldError[] = [];
  const query: Record<string, unknown> = {};
  const declared = new Set((op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
  for (const key of Object.keys(req.query)) {
    if (!declared.has(key)) {
      errors.push({ field: `query.${key}`, rule: 'additionalProperties', message: `query.${key} is not a parameter of this call${declared.size ? `; it takes ${[...declared].join(', ')}` : ''}.` });
    }
  }
  for (const p of op.parameters ?? []) {
    const raw = p.in === 'query' ? req.query[p.name] : req.header(p.name);
    const field = `${p.in}.${p.name}`;
    if (raw === undefined) {
      if (p.required) errors.push({ field, rule: 'required', message: `${field} is required.` });
      continue;
    }
    const value = p.in === 'query' ? coerceQuery(raw, p.schema.type) : raw;
    errors.push(...validateValue(value, p.schema, field));
    if (p.in === 'query') query[p.name] = value;
  }
  const bodySpec = op.requestBody;
  if (bodySpec) {
    if (req.body === undefined) {
      if (bodySpec.required) errors.push({ field: 'body', rule: 'required', message: 'body is required: send a JSON object (see /openapi.json for its fields).' });
    } else {
      errors.push(...validateValue(req.body, bodySpec.content['application/json'].schema, 'body'));
    }
  }
  return { errors, query };
}
