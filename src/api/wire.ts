/**
 * The REST API's wire format, defined once with TypeBox. From these schemas come the
 * TypeScript types (shared by the server and the CLI's remote mode), the OpenAPI document
 * (openapi.ts: its components.schemas) and the request validation (validate-request.ts, with
 * ajv). Enums come from the code's own constants (stages, origins, error codes).
 *
 * Each named schema has an `$id`; schemas refer to each other by it (`ref`), and openapi.ts
 * turns those into `#/components/schemas/…`. `format` names Tycho's own checks (formats.ts).
 */
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { TYCHO_ERROR_CODES } from '../k8s/errors.js';
import { ORIGINS, STAGES, URL_CHECKS } from '../k8s/spec.js';

/** The header that names the person a system belongs to (the CLI sends the local user). */
export const OWNER_HEADER = 'X-Tycho-Owner';

/** A reference to a named schema, typed as that schema. */
function ref<T extends TSchema>(schema: T): TUnsafe<Static<T>> {
  if (!schema.$id) throw new Error('Only a schema with an $id can be referred to.');
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id));
}

/** OpenAPI 3.0's `nullable` (ajv reads it too); the type admits null. */
function nullable<T extends TSchema>(schema: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<Static<T> | null>({ ...schema, ...options, nullable: true });
}

/** A JSON object used as a map (OpenAPI 3.0 knows additionalProperties, not patternProperties). */
const map = <T extends TSchema>(values: T, description: string) => Type.Unsafe<Record<string, Static<T>>>({ type: 'object', additionalProperties: values, description });

const literals = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });

export const EXAMPLE_NAME = 'jupyter-data-science-3425';

export const MEMORY_RULES =
  'A Kubernetes quantity, passed to Kubernetes unchanged: binary suffixes Ki, Mi, Gi, Ti are powers of 1024 ' +
  '("512Mi" = 536,870,912 bytes); decimal suffixes k, M, G, T are powers of 1000, so the original\'s "512M" ' +
  'is 512,000,000 bytes (about 488Mi). A trailing "B" is dropped ("512MB" = "512M"); a bare number is bytes.';
export const CPU_RULES =
  'Cores, as a decimal ("0.3" = 300 millicores, "2") or in millicores ("500m"); a JSON number such as 0.5 is accepted too.';

export const SystemName = Type.String({
  $id: 'SystemName',
  minLength: 1,
  maxLength: 63,
  format: 'system-name',
  pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
  description: 'The system\'s name: lower-case letters, digits and "-", starting with a letter and ending with a letter or digit, at most 63 characters. It names the Deployment and the Service.',
  example: EXAMPLE_NAME,
});

export const Limits = Type.Object(
  {
    cpus: Type.Optional(
      Type.Union([Type.String({ format: 'cpu-quantity' }), Type.Number({ format: 'cpu-cores' })], { description: CPU_RULES, example: '0.3' }),
    ),
    memory: Type.Optional(Type.String({ format: 'memory-quantity', description: MEMORY_RULES, example: '512M' })),
    gpus: Type.Optional(
      Type.Union([Type.String({ format: 'gpu-count' }), Type.Integer({ minimum: 0, maximum: 16 })], {
        description: 'Whole NVIDIA GPUs (nvidia.com/gpu); "0" or 0 means none.',
        example: '0',
      }),
    ),
  },
  {
    $id: 'Limits',
    additionalProperties: false,
    description: 'What the container may use. Each amount given is both the Kubernetes request and the limit. Without limits Tycho requests 250m cpu and 512Mi memory and caps them at 1 cpu and 1Gi.',
  },
);

const envList = (description: string, example: string[]) =>
  nullable(Type.Array(Type.String({ format: 'env-pair', maxLength: 8192 }), { maxItems: 256 }), { description, example });

export const Container = Type.Object(
  {
    name: Type.Optional(
      Type.String({ minLength: 1, maxLength: 253, description: 'The key of this container in the answer\'s `containers` map. Defaults to the system\'s name.', example: 'jupyter-data-science-3425-c' }),
    ),
    image: Type.String({ minLength: 1, maxLength: 255, format: 'image', description: 'An image reference, e.g. "jupyter/datascience-notebook:latest".', example: 'jupyter/datascience-notebook' }),
    command: Type.Optional(
      nullable(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 256 }), {
        description: 'An argv that replaces the image\'s CMD (its ENTRYPOINT is kept). Never run through a shell. [] or null keeps the image\'s CMD.',
        example: ['start.sh', 'jupyter', 'lab', "--LabApp.token=''"],
      }),
    ),
    env: Type.Optional(
      envList(
        'Environment variables as KEY=VALUE strings, or null. Their values are part of the Deployment: anyone who can read Deployments in the namespace sees them. Use `secret_env` for passwords and tokens.',
        ['A=1'],
      ),
    ),
    secret_env: Type.Optional(
      envList(
        'Tycho\'s addition: environment variables as KEY=VALUE strings whose values are kept in a Secret named after the system (owned by its Deployment, so removed with it) and read by the pod through secretKeyRef. The values are never written to the Deployment, its annotations, logs or Slack. A name may not also be in `env`. Needs the opt-in secret-env RBAC component; without it the start is refused with 403 and nothing is created.',
        ['DB_PASSWORD=hunter2'],
      ),
    ),
    volumes: Type.Optional(
      nullable(Type.Array(Type.String({ format: 'pvc-volume', maxLength: 1024 }), { maxItems: 32 }), {
        description:
          'Existing PersistentVolumeClaims to mount, in the original\'s shape "pvc://CLAIM/SUBPATH:/path" (SUBPATH, a directory inside the claim, is optional); Tycho\'s addition: a trailing ":ro" mounts it read-only. A claim that does not exist is refused before anything is created; Tycho never creates or deletes claims. The operator may allow only claims whose names start with TYCHO_VOLUME_CLAIM_PREFIX.',
        example: ['pvc://shared-data/alice:/home/jovyan/work', 'pvc://shared-datasets:/data:ro'],
      }),
    ),
    limits: Type.Optional(nullable(Type.Array(ref(Limits), { maxItems: 1 }), { description: 'At most one entry (the original sent a list of one).' })),
    ports: Type.Array(Type.Object({ containerPort: Type.Integer({ minimum: 1, maximum: 65535, example: 8888 }) }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 16,
      description: 'The ports the app listens on. The first is the one the answer\'s `url` and `port` point at.',
    }),
  },
  { $id: 'Container', additionalProperties: false },
);

export const StartRequest = Type.Object(
  {
    name: ref(SystemName),
    containers: Type.Array(ref(Container), { minItems: 1, maxItems: 1, description: 'Exactly one container: Tycho runs one container per system.' }),
    ttl: Type.Optional(
      Type.String({ format: 'duration', example: '2h', description: "How long the system lives (d, h, m, s: 2h, 90m, 1d12h); default TYCHO_DEFAULT_TTL, at most TYCHO_MAX_TTL. It is removed once it expires." }),
    ),
  },
  { $id: 'StartRequest', additionalProperties: false },
);

export const NameRequest = Type.Object({ name: ref(SystemName) }, { $id: 'NameRequest', additionalProperties: false });

export const ExtendRequest = Type.Object(
  {
    name: ref(SystemName),
    ttl: Type.Optional(Type.String({ format: 'duration', example: '1h', description: "How much longer it lives (d, h, m, s); default TYCHO_DEFAULT_TTL. Added to what is left, and never past now + TYCHO_MAX_TTL." })),
  },
  { $id: 'ExtendRequest', additionalProperties: false },
);

export const ExtendResult = Type.Object(
  {
    name: ref(SystemName),
    expires: Type.String({ format: 'date-time', description: 'The new expiry (ISO 8601): the system is removed then.' }),
    capped: Type.Boolean({ description: 'TYCHO_MAX_TTL cut the extension short.' }),
  },
  { $id: 'ExtendResult', additionalProperties: false },
);

export const StatusRequest = Type.Object(
  { name: Type.Optional(ref(SystemName)) },
  { $id: 'StatusRequest', additionalProperties: false, description: '{"name": ...} for one system, {} (or no body) for all.' },
);

export const ContainerPort = Type.Object(
  { port: nullable(Type.Integer(), { description: 'The NodePort of the first port (the Service port for service types without NodePorts; 443 for a system reached through an Ingress at https://HOST/).' }) },
  { $id: 'ContainerPort', additionalProperties: false },
);

export const StartResult = Type.Object(
  {
    containers: map(ref(ContainerPort), 'Container name → {port}.'),
    container_map: map(ref(ContainerPort), 'The same map as `containers`: the original\'s published examples used both spellings.'),
    url: nullable(Type.String(), { description: 'Where the app answers. null only when started with wait=false and no address is known yet.' }),
    url_verified: Type.Optional(
      Type.Boolean({
        description: 'Whether Tycho got an HTTP answer from the URL (or, when it runs inside the cluster, from the Service) before replying. false is not a failure: the message says why. Absent with wait=false.',
      }),
    ),
    url_checked: Type.Optional(literals(URL_CHECKS)),
  },
  { $id: 'StartResult', additionalProperties: false },
);

/**
 * One system in a status answer. The first eight fields are the ones the original names; the
 * rest let `tycho status -s URL` print exactly what direct mode prints.
 */
export const StatusItem = Type.Object(
  {
    name: Type.String(),
    image: Type.String(),
    url: nullable(Type.String()),
    port: nullable(Type.Integer(), { description: 'The NodePort of the first port (443 for a system reached through an Ingress).' }),
    ready: Type.Boolean(),
    owner: Type.String({ description: 'Who started it: the X-Tycho-Owner header, a Slack user, or a CLI user.' }),
    created: Type.String({ format: 'date-time', description: 'ISO 8601 time.' }),
    expires: nullable(Type.String({ format: 'date-time' }), { description: 'ISO 8601 time after which it may be removed, or null.' }),
    namespace: Type.String(),
    stage: literals(STAGES),
    reason: nullable(Type.String(), { description: 'Why it is not ready, in words; null when ready.' }),
    ports: Type.Array(Type.Object({ port: Type.Integer(), nodePort: Type.Optional(Type.Integer()) })),
    origin: literals([...ORIGINS, ''] as const),
  },
  { $id: 'StatusItem', additionalProperties: false },
);

export const FieldError = Type.Object(
  {
    /** Where in the request, e.g. "body.containers[0].limits[0].memory" or "header.X-Tycho-Owner". */
    field: Type.String(),
    /** The schema keyword broken, e.g. "type", "required", "format:memory-quantity". */
    rule: Type.String(),
    message: Type.String(),
  },
  { $id: 'FieldError' },
);

export const ErrorResult = Type.Object(
  {
    error: Type.String({ description: 'What went wrong and what to do; the original client prints this.' }),
    code: literals(TYCHO_ERROR_CODES),
    errors: Type.Optional(Type.Array(ref(FieldError), { description: 'For invalid requests: every broken rule, each naming its field.' })),
    left_in_place: Type.Optional(Type.String({ description: 'A failed start whose objects were kept for inspection (TYCHO_ON_FAILURE=keep): delete this system when done.' })),
  },
  { $id: 'ErrorResult', additionalProperties: false },
);

const envelope = <T extends TSchema>(id: string, status: 'success' | 'error', result: T, description: string) =>
  Type.Object(
    { status: literals([status]), result, message: Type.String({ description: 'One sentence for a person.' }) },
    { $id: id, additionalProperties: false, description },
  );

export const StartResponse = envelope('StartResponse', 'success', ref(StartResult), 'The system is up.');
export const DeleteResponse = envelope('DeleteResponse', 'success', nullable(Type.Object({}), { description: 'Always null.' }), 'The system is gone.');
export const ExtendResponse = envelope('ExtendResponse', 'success', ref(ExtendResult), 'The system lives longer.');
export const StatusResponse = envelope('StatusResponse', 'success', Type.Array(ref(StatusItem)), 'The systems asked for.');
export const ErrorResponse = envelope('ErrorResponse', 'error', ref(ErrorResult), 'Any failure. The HTTP status tells the kind; the envelope is the same as on success.');

/** The query of POST /system/start. */
export const StartQuery = Type.Object({
  wait: Type.Optional(Type.Boolean({ default: true, description: 'Wait until the app is ready (default). With false, answer as soon as the objects exist.' })),
  timeout: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, description: 'Seconds to wait for readiness; defaults to the server\'s TYCHO_READY_TIMEOUT.' })),
});
export type StartQuery = Static<typeof StartQuery>;

export const OwnerHeader = Type.String({
  format: 'owner',
  example: 'alice',
  description: 'Who asks: on a start, who the system belongs to, as shown by `status` and in Slack; on a delete, who tore it down, as Slack\'s closing reply says. Defaults to "api". The CLI\'s remote mode sends its user (TYCHO_OWNER, else the login name).',
});

/** Every named schema, in the order the document lists them. */
export const WIRE_SCHEMAS = [
  SystemName,
  Limits,
  Container,
  StartRequest,
  NameRequest,
  StatusRequest,
  ContainerPort,
  StartResult,
  StatusItem,
  FieldError,
  ErrorResult,
  StartResponse,
  DeleteResponse,
  StatusResponse,
  ErrorResponse,
] as const;

export type WireLimits = Static<typeof Limits>;
export type WireContainer = Static<typeof Container>;
export type StartRequest = Static<typeof StartRequest>;
export type NameRequest = Static<typeof NameRequest>;
export type ExtendRequest = Static<typeof ExtendRequest>;
export type ExtendResult = Static<typeof ExtendResult>;
export type StatusRequest = Static<typeof StatusRequest>;
export type StartResult = Static<typeof StartResult>;
export type StatusItem = Static<typeof StatusItem>;
export type FieldError = Static<typeof FieldError>;
export type ErrorResult = Static<typeof ErrorResult>;

/** Every answer, success or failure, whatever the HTTP status: the original client reads only this. */
export interface Envelope<T> {
  status: 'success' | 'error';
  result: T;
  message: string;
}
