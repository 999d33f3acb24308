/**
 * The OpenAPI 3 document of the REST API: the one source of truth. It is served at
 * GET /openapi.json, rendered by Swagger UI at /apidocs/, and the request validator
 * (validate-request.ts) checks every body, query and header against these very schemas.
 * Change a rule here and both the docs and the checks change.
 */
import type { Schema } from './schema.js';
import { OWNER_HEADER } from './wire.js';

export interface Parameter {
  name: string;
  in: 'query' | 'header';
  required?: boolean;
  description: string;
  schema: Schema;
}

interface MediaType {
  schema: Schema;
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
    schemas: Record<string, Schema>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

export const EXAMPLE_NAME = 'jupyter-data-science-3425';

/** The body the original client sends, exactly as the issue gives it. */
export const EXAMPLE_START = {
  name: EXAMPLE_NAME,
  containers: [
    {
      name: 'jupyter-data-science-3425-c',
      image: 'jupyter/datascience-notebook',
      command: ['start.sh', 'jupyter', 'lab', "--LabApp.token=''"],
      env: ['A=1'],
      limits: [{ cpus: '0.3', memory: '512M' }],
      ports: [{ containerPort: 8888 }],
    },
  ],
};

const MEMORY_RULES =
  'A Kubernetes quantity, passed to Kubernetes unchanged: binary suffixes Ki, Mi, Gi, Ti are powers of 1024 ' +
  '("512Mi" = 536,870,912 bytes); decimal suffixes k, M, G, T are powers of 1000, so the original\'s "512M" ' +
  'is 512,000,000 bytes (about 488Mi). A trailing "B" is dropped ("512MB" = "512M"); a bare number is bytes.';
const CPU_RULES =
  'Cores, as a decimal ("0.3" = 300 millicores, "2") or in millicores ("500m"); a JSON number such as 0.5 is accepted too.';

const envelope = (status: 'success' | 'error', result: Schema, description: string): Schema => ({
  type: 'object',
  description,
  required: ['status', 'result', 'message'],
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: [status] },
    result,
    message: { type: 'string', description: 'One sentence for a person.' },
  },
});

const schemas: Record<string, Schema> = {
  SystemName: {
    type: 'string',
    minLength: 1,
    maxLength: 63,
    format: 'system-name',
    pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
    description: 'The system\'s name: lower-case letters, digits and "-", starting with a letter and ending with a letter or digit, at most 63 characters. It names the Deployment and the Service.',
    example: EXAMPLE_NAME,
  },
  Limits: {
    type: 'object',
    additionalProperties: false,
    description: `What the container may use. Each amount given is both the Kubernetes request and the limit. Without limits Tycho requests 250m cpu and 512Mi memory and caps them at 1 cpu and 1Gi.`,
    properties: {
      cpus: { anyOf: [{ type: 'string', format: 'cpu-quantity' }, { type: 'number', format: 'cpu-quantity' }], description: CPU_RULES, example: '0.3' },
      memory: { type: 'string', format: 'memory-quantity', description: MEMORY_RULES, example: '512M' },
      gpus: {
        anyOf: [{ type: 'string', format: 'gpu-count' }, { type: 'integer', minimum: 0, maximum: 16 }],
        description: 'Whole NVIDIA GPUs (nvidia.com/gpu); "0" or 0 means none.',
        example: '0',
      },
    },
  },
  Container: {
    type: 'object',
    required: ['image', 'ports'],
    additionalProperties: false,
    properties: {
      name: { type: 'string', minLength: 1, maxLength: 253, description: 'The key of this container in the answer\'s `containers` map. Defaults to the system\'s name.', example: 'jupyter-data-science-3425-c' },
      image: { type: 'string', minLength: 1, maxLength: 255, format: 'image', description: 'An image reference, e.g. "jupyter/datascience-notebook:latest".', example: 'jupyter/datascience-notebook' },
      command: {
        type: 'array',
        nullable: true,
        maxItems: 256,
        items: { type: 'string', maxLength: 4096 },
        description: 'An argv that replaces the image\'s CMD (its ENTRYPOINT is kept). Never run through a shell. [] or null keeps the image\'s CMD.',
        example: ['start.sh', 'jupyter', 'lab', "--LabApp.token=''"],
      },
      env: {
        type: 'array',
        nullable: true,
        maxItems: 256,
        items: { type: 'string', format: 'env-pair', maxLength: 8192 },
        description: 'Environment variables as KEY=VALUE strings, or null. Their values are part of the Deployment: anyone who can read Deployments in the namespace sees them. Use `secret_env` for passwords and tokens.',
        example: ['A=1'],
      },
      secret_env: {
        type: 'array',
        nullable: true,
        maxItems: 256,
        items: { type: 'string', format: 'env-pair', maxLength: 8192 },
        description:
          'Tycho\'s addition: environment variables as KEY=VALUE strings whose values are kept in a Secret named after the system (owned by its Deployment, so removed with it) and read by the pod through secretKeyRef. The values are never written to the Deployment, its annotations, logs or Slack. A name may not also be in `env`. Needs the opt-in secret-env RBAC component; without it the start is refused with 403 and nothing is created.',
        example: ['DB_PASSWORD=hunter2'],
      },
      volumes: {
        type: 'array',
        nullable: true,
        maxItems: 32,
        items: { type: 'string', format: 'pvc-volume', maxLength: 1024 },
        description:
          'Existing PersistentVolumeClaims to mount, in the original\'s shape "pvc://CLAIM/SUBPATH:/path" (SUBPATH, a directory inside the claim, is optional); Tycho\'s addition: a trailing ":ro" mounts it read-only. A claim that does not exist is refused before anything is created; Tycho never creates or deletes claims. The operator may allow only claims whose names start with TYCHO_VOLUME_CLAIM_PREFIX.',
        example: ['pvc://shared-data/alice:/home/jovyan/work', 'pvc://shared-datasets:/data:ro'],
      },
      limits: { type: 'array', nullable: true, maxItems: 1, items: ref('Limits'), description: 'At most one entry (the original sent a list of one).' },
      ports: {
        type: 'array',
        minItems: 1,
        maxItems: 16,
        description: 'The ports the app listens on. The first is the one the answer\'s `url` and `port` point at.',
        items: {
          type: 'object',
          required: ['containerPort'],
          additionalProperties: false,
          properties: { containerPort: { type: 'integer', minimum: 1, maximum: 65535, example: 8888 } },
        },
      },
    },
  },
  StartRequest: {
    type: 'object',
    required: ['name', 'containers'],
    additionalProperties: false,
    properties: {
      name: ref('SystemName'),
      containers: { type: 'array', minItems: 1, maxItems: 1, items: ref('Container'), description: 'Exactly one container: Tycho runs one container per system.' },
    },
  },
  NameRequest: {
    type: 'object',
    required: ['name'],
    additionalProperties: false,
    properties: { name: ref('SystemName') },
  },
  StatusRequest: {
    type: 'object',
    additionalProperties: false,
    description: '{"name": ...} for one system, {} (or no body) for all.',
    properties: { name: ref('SystemName') },
  },
  ContainerPort: {
    type: 'object',
    required: ['port'],
    additionalProperties: false,
    properties: { port: { type: 'integer', nullable: true, description: 'The NodePort of the first port (the Service port for service types without NodePorts).' } },
  },
  StartResult: {
    type: 'object',
    required: ['containers', 'container_map', 'url'],
    additionalProperties: false,
    properties: {
      containers: { type: 'object', additionalProperties: ref('ContainerPort'), description: 'Container name → {port}.' },
      container_map: { type: 'object', additionalProperties: ref('ContainerPort'), description: 'The same map as `containers`: the original\'s published examples used both spellings.' },
      url: { type: 'string', nullable: true, description: 'Where the app answers. null only when started with wait=false and no address is known yet.' },
      url_verified: { type: 'boolean', description: 'Whether Tycho got an HTTP answer from the URL (or, when it runs inside the cluster, from the Service) before replying. false is not a failure: the message says why. Absent with wait=false.' },
      url_checked: { type: 'string', enum: ['public', 'cluster', 'none'], description: 'What was opened: the URL handed out, the Service\'s in-cluster address, or nothing (TYCHO_URL_CHECK=off).' },
    },
  },
  StatusItem: {
    type: 'object',
    required: ['name', 'image', 'url', 'port', 'ready', 'owner', 'created', 'expires', 'namespace', 'stage', 'reason', 'ports', 'origin'],
    additionalProperties: false,
    properties: {
      name: { type: 'string' },
      image: { type: 'string' },
      url: { type: 'string', nullable: true },
      port: { type: 'integer', nullable: true, description: 'The NodePort of the first port.' },
      ready: { type: 'boolean' },
      owner: { type: 'string', description: 'Who started it: the X-Tycho-Owner header, a Slack user, or a CLI user.' },
      created: { type: 'string', description: 'ISO 8601 time.' },
      expires: { type: 'string', nullable: true, description: 'ISO 8601 time after which it may be removed, or null.' },
      namespace: { type: 'string' },
      stage: { type: 'string', enum: ['created', 'scheduled', 'pulling', 'started', 'ready', 'unready', 'terminating', 'failed'] },
      reason: { type: 'string', nullable: true, description: 'Why it is not ready, in words; null when ready.' },
      ports: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer' }, nodePort: { type: 'integer' } } } },
      origin: { type: 'string', enum: ['api', 'cli', 'slack', ''] },
    },
  },
  FieldError: {
    type: 'object',
    required: ['field', 'rule', 'message'],
    properties: { field: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } },
  },
  ErrorResult: {
    type: 'object',
    required: ['error', 'code'],
    additionalProperties: false,
    properties: {
      error: { type: 'string', description: 'What went wrong and what to do; the original client prints this.' },
      code: {
        type: 'string',
        enum: ['usage', 'name_in_use', 'not_found', 'forbidden', 'unauthorized', 'not_owner', 'image_pull_failed', 'crash_looping', 'container_config', 'unschedulable', 'timeout', 'cluster_unreachable', 'invalid_spec', 'claim_unavailable', 'internal'],
      },
      errors: { type: 'array', items: ref('FieldError'), description: 'For invalid requests: every broken rule, each naming its field.' },
      left_in_place: { type: 'string', description: 'A failed start whose objects were kept for inspection (TYCHO_ON_FAILURE=keep): delete this system when done.' },
    },
  },
  StartResponse: envelope('success', ref('StartResult'), 'The system is up.'),
  DeleteResponse: envelope('success', { type: 'object', nullable: true, description: 'Always null.' }, 'The system is gone.'),
  StatusResponse: envelope('success', { type: 'array', items: ref('StatusItem') }, 'The systems asked for.'),
  ErrorResponse: envelope('error', ref('ErrorResult'), 'Any failure. The HTTP status tells the kind; the envelope is the same as on success.'),
};

const json = (schemaName: string, examples: Record<string, { summary: string; value: unknown }>) => ({
  'application/json': { schema: ref(schemaName), examples },
});

const errorExample = (code: string, message: string, extra: Record<string, unknown> = {}) => ({
  status: 'error',
  result: { error: message, code, ...extra },
  message,
});

const ERR = {
  invalid: errorExample('usage', 'The request is not valid: body.containers[0].limits[0].memory: The memory amount "lots" is not valid; use e.g. "512Mi", "1Gi" or "512M".', {
    errors: [{ field: 'body.containers[0].limits[0].memory', rule: 'format:memory-quantity', message: 'body.containers[0].limits[0].memory: The memory amount "lots" is not valid; use e.g. "512Mi", "1Gi" or "512M".' }],
  }),
  unauthorized: errorExample('unauthorized', 'This Tycho server needs an API token: send "Authorization: Bearer <token>" with the value of TYCHO_API_TOKEN.'),
  notFound: errorExample('not_found', `There is no system named "${EXAMPLE_NAME}".`),
  inUse: errorExample('name_in_use', `The name "${EXAMPLE_NAME}" is already in use by alice since 2025-01-01T12:00:00.000Z. Pick another name, or tear that one down first.`),
  tooLarge: errorExample('usage', 'The request body is larger than 64 kB.'),
  crossSite: errorExample('forbidden', 'Requests from web pages of another site are refused (Origin "https://evil.example"); call the API from a program, or from Swagger UI at /apidocs/ on this server.'),
  notJson: errorExample('usage', 'The request body must be JSON sent with "Content-Type: application/json" (this one was "text/plain").'),
  podFailed: errorExample('image_pull_failed', 'The image "jupyter/no-such-image" could not be pulled. Check its name and tag, and that the cluster can reach its registry (ErrImagePull: not found)'),
  unreachable: errorExample('cluster_unreachable', 'Tycho cannot reach Kubernetes (ECONNREFUSED) to list Deployments; check that the cluster is up and the kubeconfig points at it.'),
  timeout: errorExample('timeout', `"${EXAMPLE_NAME}" was not ready after 300 s (last seen: pulling the image).`),
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

const ownerHeader: Parameter = {
  name: OWNER_HEADER,
  in: 'header',
  required: false,
  description: 'Who the system belongs to, as shown by `status` and in Slack. Defaults to "api". The CLI\'s remote mode sends the local user name.',
  schema: { type: 'string', format: 'owner', example: 'alice' },
};

// Either a bearer token or nothing (loopback callers of a server without TYCHO_API_TOKEN).
const SECURITY: Record<string, string[]>[] = [{ bearerAuth: [] }, {}];

export const openApiDocument: OpenApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'Tycho',
    version: '1.0.0',
    description: [
      'Launch a container image on Kubernetes and get its URL; tear it down again.',
      '',
      'Wire-compatible with the original Tycho (2019): every call is POST with a JSON body, and every answer is the envelope `{"status": "success"|"error", "result": ..., "message": "..."}`, whatever the HTTP status.',
      '',
      '**HTTP status codes.** 201 started, 200 deleted/status; 400 invalid body (names the field and rule; nothing is created); 401 missing/wrong token or non-loopback caller without a token; 403 request from another site\'s web page, a Host name not allowed without a token, or Kubernetes RBAC/quota refusing Tycho; 404 unknown name; 405 wrong method; 409 name in use; 413 body over 64 kB; 415 body not `application/json` in UTF-8, or compressed; 422 the system was created but cannot run (image pull failure, crash loop, bad container config, unschedulable) or Kubernetes rejected the object; 500 unexpected; 503 Kubernetes unreachable; 504 not ready in time.',
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
    '/system/start': {
      post: {
        operationId: 'startSystem',
        tags: ['system'],
        summary: 'Start a system',
        description: 'Creates a Deployment and a Service named after the system and, unless wait=false, answers once the app is ready, with its URL.',
        security: SECURITY,
        parameters: [
          { name: 'wait', in: 'query', required: false, description: 'Wait until the app is ready (default). With false, answer as soon as the objects exist.', schema: { type: 'boolean', default: true } },
          { name: 'timeout', in: 'query', required: false, description: 'Seconds to wait for readiness; defaults to the server\'s TYCHO_READY_TIMEOUT.', schema: { type: 'integer', minimum: 1, maximum: 3600 } },
          ownerHeader,
        ],
        requestBody: {
          required: true,
          content: json('StartRequest', {
            original: { summary: 'What the original client sends', value: EXAMPLE_START },
            minimal: { summary: 'Only what is required', value: { name: 'hello', containers: [{ image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
          }),
        },
        responses: {
          '201': {
            description: 'Started (and ready, unless wait=false).',
            content: json('StartResponse', {
              started: {
                summary: 'Started',
                value: {
                  status: 'success',
                  result: {
                    containers: { 'jupyter-data-science-3425-c': { port: 30812 } },
                    container_map: { 'jupyter-data-science-3425-c': { port: 30812 } },
                    url: 'http://10.0.0.5:30812',
                  },
                  message: `Started system ${EXAMPLE_NAME}`,
                },
              },
            }),
          },
          ...COMMON_ERRORS,
          '409': errorResponse('The name is in use.', ERR.inUse),
          '422': errorResponse('The system cannot run as asked; it is kept for inspection unless TYCHO_ON_FAILURE=delete.', ERR.podFailed),
          '504': errorResponse('The app was not ready in time.', ERR.timeout),
        },
      },
    },
    '/system/delete': {
      post: {
        operationId: 'deleteSystem',
        tags: ['system'],
        summary: 'Delete a system',
        description: 'Removes the system\'s Deployment, Pods and Service, and answers once they are gone.',
        security: SECURITY,
        requestBody: { required: true, content: json('NameRequest', { byName: { summary: 'By name', value: { name: EXAMPLE_NAME } } }) },
        responses: {
          '200': { description: 'Deleted.', content: json('DeleteResponse', { deleted: { summary: 'Deleted', value: { status: 'success', result: null, message: `Deleted system ${EXAMPLE_NAME}` } } }) },
          ...COMMON_ERRORS,
          '404': errorResponse('There is no system with that name.', ERR.notFound),
        },
      },
    },
    '/system/status': {
      post: {
        operationId: 'systemStatus',
        tags: ['system'],
        summary: 'Status of one system or all',
        description: 'With a name, a list of that one system (404 if unknown); with {} or no body, every system Tycho runs in its namespace.',
        security: SECURITY,
        requestBody: {
          required: false,
          content: json('StatusRequest', {
            all: { summary: 'Every system', value: {} },
            one: { summary: 'One system', value: { name: EXAMPLE_NAME } },
          }),
        },
        responses: {
          '200': {
            description: 'The systems.',
            content: json('StatusResponse', {
              one: {
                summary: 'One ready system',
                value: {
                  status: 'success',
                  result: [
                    {
                      name: EXAMPLE_NAME,
                      image: 'jupyter/datascience-notebook',
                      url: 'http://10.0.0.5:30812',
                      port: 30812,
                      ready: true,
                      owner: 'alice',
                      created: '2025-01-01T12:00:00.000Z',
                      expires: null,
                      namespace: 'tycho',
                      stage: 'ready',
                      reason: null,
                      ports: [{ port: 8888, nodePort: 30812 }],
                      origin: 'api',
                    },
                  ],
                  message: 'Found 1 system',
                },
              },
            }),
          },
          ...COMMON_ERRORS,
          '404': errorResponse('There is no system with that name.', ERR.notFound),
        },
      },
    },
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
    schemas,
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'The value of TYCHO_API_TOKEN on the server. Not needed from the server\'s own machine when no token is set.' },
    },
  },
};

/** Resolves "#/components/schemas/X" in this document. */
export function resolveRef(refPath: string): Schema {
  const m = /^#\/components\/schemas\/([\w-]+)$/.exec(refPath);
  const s = m ? openApiDocument.components.schemas[m[1]!] : undefined;
  if (!s) throw new Error(`The API schema refers to "${refPath}", which it does not define.`);
  return s;
}
