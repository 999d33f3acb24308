/**
 * A validator for the small subset of JSON Schema (OpenAPI 3.0 flavour) that openapi.ts
 * uses. It is small enough to read in one go, which is why there is no ajv here: ajv would
 * need its own OpenAPI adapter (`nullable`, `$ref` into components) and its messages
 * ("must match format ...") would still need rewriting into sentences that name the rule.
 *
 * SUPPORTED_KEYWORDS lists everything implemented; a test walks the whole document and
 * fails on any other keyword, so the published schema can never promise a check that is
 * not made.
 */
import type { FieldError } from './wire.js';

export type SchemaType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';

export interface Schema {
  $ref?: string;
  type?: SchemaType;
  nullable?: boolean;
  anyOf?: readonly Schema[];
  enum?: readonly unknown[];
  properties?: Readonly<Record<string, Schema>>;
  required?: readonly string[];
  /** false: no other fields; a schema: every other field's value (a map). */
  additionalProperties?: boolean | Schema;
  minProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** A named check from FormatCheckers: Tycho's own rules (names, images, quantities). */
  format?: string;
  minimum?: number;
  maximum?: number;
  // Documentation only.
  title?: string;
  description?: string;
  example?: unknown;
  default?: unknown;
}

export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  '$ref', 'type', 'nullable', 'anyOf', 'enum', 'properties', 'required', 'additionalProperties', 'minProperties',
  'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum',
  'title', 'description', 'example', 'default',
]);

/** Returns null when the value is fine, else one sentence saying what is wrong. */
export type FormatChecker = (value: string | number) => string | null;
export type FormatCheckers = Readonly<Record<string, FormatChecker>>;

export interface ValidateOptions {
  /** Resolves "#/components/schemas/X". */
  resolve: (ref: string) => Schema;
  formats: FormatCheckers;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, t: SchemaType): boolean {
  const actual = typeOf(v);
  return actual === t || (t === 'number' && actual === 'integer');
}

const A_OR_AN: Record<string, string> = { object: 'an object', array: 'a list', string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', null: 'null' };
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Checks `value` against `schema`. `path` names the value in messages ("body"). Within one
 * value the checks stop at the first broken rule, so a person sees the cause, not its echoes;
 * across fields every problem is reported.
 */
export function validate(value: unknown, schema: Schema, path: string, opts: ValidateOptions): FieldError[] {
  const s = schema.$ref ? opts.resolve(schema.$ref) : schema;
  const fail = (rule: string, text: string): FieldError[] => [{ field: path, rule, message: `${path} ${text}` }];

  if (value === null && s.nullable) return [];
  if (s.anyOf) {
    const branches = s.anyOf.map((b) => (b.$ref ? opts.resolve(b.$ref) : b));
    // Report against the branch whose type fits, so "512X" gets the quantity rule, not "must be a number".
    const fitting = branches.filter((b) => !b.type || matchesType(value, b.type));
    if (fitting.length === 0) {
      const kinds = branches.map((b) => (b.type ? A_OR_AN[b.type] : 'a value')).join(' or ');
      return fail('type', `must be ${kinds} (got ${A_OR_AN[typeOf(value)] ?? typeOf(value)}).`);
    }
    let first: FieldError[] = [];
    for (const b of fitting) {
      const errs = validate(value, b, path, opts);
      if (errs.length === 0) return [];
      if (first.length === 0) first = errs;
    }
    return first;
  }
  if (s.type && !matchesType(value, s.type)) {
    return fail('type', `must be ${A_OR_AN[s.type]} (got ${A_OR_AN[typeOf(value)] ?? typeOf(value)}).`);
  }
  if (s.enum && !s.enum.includes(value)) {
    return fail('enum', `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}.`);
  }
  if (typeof value === 'string') return validateString(value, s, path, opts, fail);
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) return fail('minimum', `must be at least ${s.minimum} (got ${value}).`);
    if (s.maximum !== undefined && value > s.maximum) return fail('maximum', `must be at most ${s.maximum} (got ${value}).`);
    return checkFormat(value, s, path, opts);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) return fail('minItems', `must have at least ${plural(s.minItems, 'item')} (got ${value.length}).`);
    if (s.maxItems !== undefined && value.length > s.maxItems) return fail('maxItems', `must have at most ${plural(s.maxItems, 'item')} (got ${value.length}).`);
    const items = s.items;
    return items ? value.flatMap((v, i) => validate(v, items, child(path, i), opts)) : [];
  }
  if (value !== null && typeof value === 'object') return validateObject(value as Record<string, unknown>, s, path, opts, fail);
  return [];
}

function validateString(value: string, s: Schema, path: string, opts: ValidateOptions, fail: (rule: string, text: string) => FieldError[]): FieldError[] {
  if (s.minLength !== undefined && value.length < s.minLength) {
    return fail('minLength', s.minLength === 1 ? 'must not be empty.' : `must be at least ${plural(s.minLength, 'character')} long.`);
  }
  // Tycho's own checks come before the generic length and pattern rules: their sentences
  // say what to do instead (e.g. suggest a valid name), which a pattern cannot.
  const formatErrors = checkFormat(value, s, path, opts);
  if (formatErrors.length) return formatErrors;
  if (s.maxLength !== undefined && value.length > s.maxLength) return fail('maxLength', `must be at most ${plural(s.maxLength, 'character')} long (got ${value.length}).`);
  if (s.pattern !== undefined && !new RegExp(s.pattern).test(value)) return fail('pattern', `must match the pattern ${s.pattern}.`);
  return [];
}

function checkFormat(value: string | number, s: Schema, path: string, opts: ValidateOptions): FieldError[] {
  if (!s.format) return [];
  const check = opts.formats[s.format];
  // A schema naming a check that does not exist is a programming error, never a pass.
  if (!check) throw new Error(`The API schema uses the unknown format "${s.format}".`);
  const why = check(value);
  return why ? [{ field: path, rule: `format:${s.format}`, message: `${path}: ${why}` }] : [];
}

function validateObject(
  value: Record<string, unknown>,
  s: Schema,
  path: string,
  opts: ValidateOptions,
  fail: (rule: string, text: string) => FieldError[],
): FieldError[] {
  const props = s.properties ?? {};
  const errors: FieldError[] = [];
  if (s.minProperties !== undefined && Object.keys(value).length < s.minProperties) return fail('minProperties', `must have at least ${plural(s.minProperties, 'field')}.`);
  // Own properties only, on both sides: JSON.parse makes "__proto__" an own key, and a plain
  // object inherits "constructor", "toString", … which must never count as declared fields.
  for (const key of s.required ?? []) {
    if (!Object.hasOwn(value, key) || value[key] === undefined) {
      const where = child(path, key);
      errors.push({ field: where, rule: 'required', message: `${where} is required.` });
    }
  }
  for (const [key, v] of Object.entries(value)) {
    const where = child(path, key);
    const ps = Object.hasOwn(props, key) ? props[key] : undefined;
    if (ps) errors.push(...validate(v, ps, where, opts));
    else if (typeof s.additionalProperties === 'object') errors.push(...validate(v, s.additionalProperties, where, opts));
    else if (s.additionalProperties === false) {
      const known = Object.keys(props);
      errors.push({ field: where, rule: 'additionalProperties', message: `${where} is not a field Tycho knows here; the fields are ${known.join(', ')}.` });
    }
  }
  return errors;
}

/** Every keyword used anywhere in a schema tree (example values are not descended into). */
export function keywordsUsed(schema: Schema, out = new Set<string>()): Set<string> {
  for (const [k, v] of Object.entries(schema)) {
    out.add(k);
    if (k === 'properties') for (const p of Object.values(v as Record<string, Schema>)) keywordsUsed(p, out);
    if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) keywordsUsed(v as Schema, out);
    if (k === 'anyOf') for (const b of v as Schema[]) keywordsUsed(b, out);
  }
  return out;
}
