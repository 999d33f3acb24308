/**
 * Checks a request (body, query, headers) against its operation in the OpenAPI document,
 * so the published schema and the enforced rules are one and the same.
 */
import { FORMATS } from './formats.js';
import { openApiDocument, resolveRef, type Operation } from './openapi.js';
import { validate, type ValidateOptions } from './schema.js';
import type { FieldError } from './wire.js';

const OPTIONS: ValidateOptions = { resolve: resolveRef, formats: FORMATS };

export function operationFor(path: string, method: 'get' | 'post'): Operation {
  const op = openApiDocument.paths[path]?.[method];
  if (!op) throw new Error(`The API document has no ${method.toUpperCase()} ${path}.`);
  return op;
}

/** Query strings arrive as text; read "true"/"false" and whole numbers as what the schema expects. */
function coerceQuery(raw: unknown, type: string | undefined): unknown {
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
    errors.push(...validate(value, p.schema, field, OPTIONS));
    if (p.in === 'query') query[p.name] = value;
  }
  const bodySpec = op.requestBody;
  if (bodySpec) {
    if (req.body === undefined) {
      if (bodySpec.required) errors.push({ field: 'body', rule: 'required', message: 'body is required: send a JSON object (see /openapi.json for its fields).' });
    } else {
      errors.push(...validate(req.body, bodySpec.content['application/json'].schema, 'body', OPTIONS));
    }
  }
  return { errors, query };
}
