/**
 * The OpenAPI 3 document of the REST API, served at GET /openapi.json and rendered by Swagger
 * UI at /apidocs/. Its schemas are the TypeBox definitions of wire.ts (and of the commands'
 * REST bindings), the same ones the request validator (validate-request.ts) compiles with ajv
 * and the TypeScript types come from. Its /system/* operations are made from the commands'
 * REST bindings (rest-binding.ts), in the registry's order; this file adds what every
 * operation shares, the health probes and the overview.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import type { AnyCommandModule } from '../commands/command.js';
import { commandModules, registryGeneration } from '../commands/registry.js';
import type { TychoErrorCode } from '../k8s/errors.js';
import { EXAMPLE_START } from './bindings/start.js';
import { HTTP_STATUS } from './envelope.js';
import { isServed, type Example, type RestBinding } from './rest-binding.js';
import { CPU_RULES, EXAMPLE_NAME, MEMORY_RULES, OWNER_HEADER, OwnerHeader, WIRE_SCHEMAS } from './wire.js';

/** A JSON Schema as the document holds it (plain JSON, refs into components). */
export type JsonSchema = Record<string, unknown>;

export interface Parameter {
  name: string;
  in: 'query' | 'header';
  required?: boolean;
  description: string;
  schema: JsonSchema;
}

interface MediaType {
  schema: JsonSchema;
  examples?: Record<string, { summary: string; value: unknown }>;
}

export interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  parameters?: Parameter[];
  requestBody?: { required: boolean; description?: string; content: { 'application/json': MediaType } };
  responses: Record<string, { description: string; content?: { 'application/json': MediaType } }>;
  security?: Record<string, string[]>[];
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<'get' | 'post', Operation>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

export const SCHEMA_REF_PREFIX = '#/components/schemas/';

/** A TypeBox schema as the document shows it: plain JSON, no $id, references into components. */
export function documentSchema(schema: TSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema), (key, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const { $id: _id, ...rest } = value as Record<string, unknown>;
      if (typeof rest.$ref === 'string' && !rest.$ref.startsWith('#')) rest.$ref = `${SCHEMA_REF_PREFIX}${rest.$ref}`;
      return rest;
    }
    return value;
  }) as JsonSchema;
}

const ref = (name: string): JsonSchema => ({ $ref: `${SCHEMA_REF_PREFIX}${name}` });

export { EXAMPLE_NAME, EXAMPLE_START };

const json = (schemaName: string, examples: Record<string, Example>) => ({
  'application/json': { schema: ref(schemaName), examples },
});

const errorExample = (code: TychoErrorCode, message: string, extra: Record<string, unknown> = {}) => ({
  status: 'error',
  result: { error: message, code, ...extra },
  message,
});

const ERR = {
  invalid: errorExample('usage', 'The request is not valid: body.containers[0].limits[0].memory: The memory amount "lots" is not valid; use e.g. "512Mi", "1Gi" or "512M".', {
    errors: [{ field: 'body.containers[0].limits[0].memory', rule: 'format:memory-quantity', message: 'body.containers[0].limits[0].memory: The memory amount "lots" is not valid; use e.g. "512Mi", "1Gi" or "512M".' }],
  }),
  unauthorized: errorExample('unauthorized', 'This Tycho server needs an API token: send "Authorization: Bearer <token>" with the value of TYCHO_API_TOKEN.'),
  tooLarge: errorExample('usage', 'The request body is larger than 64 kB.'),
  crossSite: errorExample('forbidden', 'Requests from web pages of another site are refused (Origin "https://evil.example"); call the API from a program, or from Swagger UI at /apidocs/ on this server.'),
  notJson: errorExample('usage', 'The request body must be JSON sent with "Content-Type: application/json" (this one was "text/plain").'),
  unreachable: errorExample('cluster_unreachable', 'Tycho cannot reach Kubernetes (ECONNREFUSED) to list Deployments; check that the cluster is up and the kubeconfig points at it.'),
};

const errorResponse = (description: string, example: unknown) => ({ description, content: json('ErrorResponse', { error: { summary: description, value: example } }) });

const COMMON_ERRORS = {
  '400': errorResponse('The body is not valid JSON or breaks a rule of the schema. Nothing was changed.', ERR.invalid),
  '401': errorResponse('No or wrong API token, or (without TYCHO_API_TOKEN) a caller that is not on the server\'s own machine.', ERR.unauthorized),
  '403': errorResponse(
    'A request from a web page of another site (its Origin is not this server), or, without TYCHO_API_TOKEN, one addressed to a name other than localhost, 127.0.0.1, [::1] or TYCHO_ALLOWED_HOSTS. Also Kubernetes refusing Tycho (RBAC, quota).',
    ERR.crossSite,
  ),
  '413': errorResponse('The body is larger than 64 kB.', ERR.tooLarge),
  '415': errorResponse('The body is not sent as `Content-Type: application/json` in UTF-8, or is compressed (Content-Encoding).', ERR.notJson),
  '500': errorResponse('An unexpected failure inside Tycho.', errorExample('internal', 'Something went wrong while trying to create the Deployment.')),
  '503': errorResponse('Kubernetes is unreachable or not answering.', ERR.unreachable),
};

const { description: ownerDescription, ...ownerSchema } = documentSchema(OwnerHeader);
const ownerHeader: Parameter = { name: OWNER_HEADER, in: 'header', required: false, description: String(ownerDescription), schema: ownerSchema };

/** The query parameters of an operation, from its TypeBox object. */
function queryParameters(query: TObject): Parameter[] {
  return Object.entries(documentSchema(query).properties as Record<string, JsonSchema>).map(([name, { description, ...schema }]) => ({
    name,
    in: 'query',
    required: false,
    description: String(description),
    schema,
  }));
}

// Either a bearer token or nothing (loopback callers of a server without TYCHO_API_TOKEN).
const SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, {}];

/** The commands offered over REST, each with its own route (in the registry's order). */
export function servedCommands(): { module: AnyCommandModule; rest: RestBinding<{ kind: string }, { kind: string }> }[] {
  return commandModules().flatMap((module) => (isServed(module.rest) ? [{ module, rest: module.rest }] : []));
}

/** One command's operation, from its binding. */
function operationOf(rest: RestBinding<unknown, unknown>): Operation {
  const { doc } = rest;
  const parameters = [...(rest.query ? queryParameters(rest.query) : []), ...(doc.owner ? [ownerHeader] : [])];
  const schemaId = (s: TSchema) => {
    if (!s.$id) throw new Error(`The REST binding of ${rest.path} names a schema without an $id.`);
    return s.$id;
  };
  const failures = Object.fromEntries((doc.errors ?? []).map((e) => [String(HTTP_STATUS[e.code]), errorResponse(e.description, errorExample(e.code, e.message))]));
  return {
    operationId: doc.operationId,
    tags: ['system'],
    summary: doc.summary,
    description: doc.description,
    security: SECURITY,
    ...(parameters.length ? { parameters } : {}),
    requestBody: { required: rest.bodyRequired, content: json(schemaId(rest.body), doc.requestExamples) },
    responses: {
      [String(doc.success.status)]: { description: doc.success.description, content: json(schemaId(doc.success.schema), doc.success.examples) },
      ...COMMON_ERRORS,
      ...failures,
    },
  };
}

/** Every named schema: wire.ts's, then those the bindings bring, each once (by $id). */
export function namedSchemas(): TSchema[] {
  const byId = new Map<string, TSchema>(WIRE_SCHEMAS.map((s) => [s.$id!, s]));
  for (const { rest } of servedCommands()) {
    for (const s of [rest.body, rest.doc.success.schema, ...(rest.schemas ?? [])]) if (s.$id && !byId.has(s.$id)) byId.set(s.$id, s);
  }
  return [...byId.values()];
}

let built: { generation: number; document: OpenApiDocument } | undefined;

/** The document, made from the registry as it is now (and kept until a command is registered). */
export function openApiDocument(): OpenApiDocument {
  if (built?.generation !== registryGeneration()) built = { generation: registryGeneration(), document: buildDocument() };
  return built.document;
}

function buildDocument(): OpenApiDocument {
  const systemPaths = Object.fromEntries(servedCommands().map(({ rest }) => [rest.path, { post: operationOf(rest) }]));
  return {
    openapi: '3.0.3',
    info: {
      title: 'Tycho',
      version: '1.0.0',
      description: [
        'Launch a container image on Kubernetes and get its URL; tear it down again.',
        '',
        'Wire-compatible with the original Tycho (2019): every call is POST with a JSON body, and every answer is the envelope `{"status": "success"|"error", "result": ..., "message": "..."}`, whatever the HTTP status.',
        '',
        '**HTTP status codes.** 201 started, 200 deleted/status; 400 invalid body (names the field and rule; nothing is created); 401 missing/wrong token or non-loopback caller without a token; 403 request from another site\'s web page, a Host name not allowed without a token, or Kubernetes RBAC/quota refusing Tycho; 404 unknown name; 405 wrong method; 409 name in use; 410 torn down while the start waited for it; 413 body over 64 kB; 415 body not `application/json` in UTF-8, or compressed; 422 the system was created but cannot run (image pull failure, crash loop, bad container config, unschedulable) or Kubernetes rejected the object; 500 unexpected; 503 Kubernetes unreachable; 504 not ready in time.',
        '',
        '**Access.** With TYCHO_API_TOKEN set on the server, every /system/* call needs `Authorization: Bearer <token>`. Without it, only callers on the server\'s own machine (loopback) are accepted, and only when the request is addressed to localhost, 127.0.0.1, [::1] or a name in TYCHO_ALLOWED_HOSTS. Requests that a web page of another site makes the browser send (an `Origin` other than this server) are always refused.',
        '',
        `**Units.** memory: ${MEMORY_RULES} cpus: ${CPU_RULES}`,
      ].join('\n'),
    },
    tags: [
      { name: 'system', description: 'Start, delete and inspect systems.' },
      { name: 'health', description: 'Liveness and readiness probes (no token needed).' },
    ],
    paths: {
      ...systemPaths,
      '/healthz': {
        get: {
          operationId: 'healthz',
          tags: ['health'],
          summary: 'Liveness',
          description: 'Answers while the process runs.',
          responses: { '200': { description: 'Alive.', content: { 'application/json': { schema: { type: 'object' }, examples: { ok: { summary: 'Alive', value: { status: 'ok' } } } } } } },
        },
      },
      '/readyz': {
        get: {
          operationId: 'readyz',
          tags: ['health'],
          summary: 'Readiness',
          description: 'Answers 200 when Kubernetes is reachable with Tycho\'s credentials, else 503.',
          responses: {
            '200': { description: 'Ready.', content: { 'application/json': { schema: { type: 'object' }, examples: { ready: { summary: 'Ready', value: { status: 'ready' } } } } } },
            '503': { description: 'Kubernetes unreachable.', content: { 'application/json': { schema: { type: 'object' }, examples: { notReady: { summary: 'Not ready', value: { status: 'not ready', message: 'Tycho cannot reach Kubernetes (ECONNREFUSED) to reach the cluster; check that the cluster is up and the kubeconfig points at it.' } } } } } },
          },
        },
      },
    },
    components: {
      schemas: Object.fromEntries(namedSchemas().map((s) => [s.$id, documentSchema(s)])),
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'The value of TYCHO_API_TOKEN on the server. Not needed from the server\'s own machine when no token is set.' },
      },
    },
  };
}

/** The name of the component a "#/components/schemas/X" reference points at. */
export function componentName(refPath: string): string {
  const name = refPath.startsWith(SCHEMA_REF_PREFIX) ? refPath.slice(SCHEMA_REF_PREFIX.length) : undefined;
  if (!name || !openApiDocument().components.schemas[name]) throw new Error(`The API schema refers to "${refPath}", which it does not define.`);
  return name;
}
