/**
 * Between the wire format (wire.ts) and Tycho's own model, both ways, in one place: the
 * server reads start bodies into the launch request every front end builds and writes systems
 * as status items; the CLI's remote mode writes launch requests as start bodies and reads
 * status items back into systems.
 */
import type { LaunchRequest } from '../commands/up.js';
import { UsageError } from '../k8s/errors.js';
import { ORIGINS, type Origin, type Stage, type SystemInfo } from '../k8s/spec.js';
import { checkEnvNames, checkVolumes, normaliseMemory, parseEnvPair, parseWireVolume, wireVolume } from '../k8s/validate.js';
import type { StartRequest, StartResult, StatusItem, WireLimits } from './wire.js';

/**
 * The original's start body → the launch request, the same structure the CLI and Slack parsers
 * produce. Runs only on bodies the schema has accepted, so every field here has already passed
 * the shared checks in src/k8s/validate.ts (through the schema's formats).
 */
export function launchRequestFromBody(body: StartRequest): LaunchRequest {
  const c = body.containers[0]!;
  const args: LaunchRequest = {
    name: body.name,
    image: c.image,
    // Duplicates would give the Service two ports with one number, which Kubernetes rejects.
    ports: [...new Set(c.ports.map((p) => p.containerPort))],
    env: (c.env ?? []).map(parseEnvPair),
  };
  const secretEnv = (c.secret_env ?? []).map(parseEnvPair);
  if (secretEnv.length > 0) args.secretEnv = secretEnv;
  // The one rule across two fields, which the schema cannot say.
  const clash = checkEnvNames(args.env, secretEnv);
  if (clash) throw new UsageError(clash, '');
  if (c.command && c.command.length > 0) args.command = c.command;
  if (body.ttl !== undefined) args.ttl = body.ttl;
  if (c.volumes?.length) {
    args.volumes = c.volumes.map(parseWireVolume);
    // Two mounts on one path: a rule across items, which the schema cannot say.
    const twice = checkVolumes(args.volumes);
    if (twice) throw new UsageError(twice, '');
  }
  const limits = c.limits?.[0];
  if (limits?.cpus !== undefined) args.cpu = String(limits.cpus).trim();
  if (limits?.memory !== undefined) args.memory = normaliseMemory(limits.memory);
  const gpus = limits?.gpus === undefined ? 0 : Number(String(limits.gpus).trim());
  if (gpus > 0) args.gpu = gpus;
  return args;
}

/** The launch request → the start body a Tycho server reads back into the same request. */
export function startBodyFor(spec: LaunchRequest): StartRequest {
  const limits: WireLimits = {
    ...(spec.cpu !== undefined ? { cpus: spec.cpu } : {}),
    ...(spec.memory !== undefined ? { memory: spec.memory } : {}),
    ...(spec.gpu ? { gpus: spec.gpu } : {}),
  };
  return {
    name: spec.name,
    containers: [
      {
        name: spec.name,
        image: spec.image,
        command: spec.command ?? [],
        env: (spec.env ?? []).map((e) => `${e.name}=${e.value}`),
        // Only when used, so a server that predates the field still accepts every other start.
        ...(spec.secretEnv?.length ? { secret_env: spec.secretEnv.map((e) => `${e.name}=${e.value}`) } : {}),
        limits: Object.keys(limits).length ? [limits] : [],
        ...(spec.volumes?.length ? { volumes: spec.volumes.map(wireVolume) } : {}),
        ports: spec.ports.map((containerPort) => ({ containerPort })),
      },
    ],
    // Only when asked, like secret_env: the server applies its own default and maximum.
    ...(spec.ttl !== undefined ? { ttl: spec.ttl } : {}),
  };
}

function firstPort(s: SystemInfo): number | null {
  // Reached at https://HOST/: the port the original client should use is the ingress's.
  if (s.host) return 443;
  const p = s.ports[0];
  return p ? (p.nodePort ?? p.port) : null;
}

export function startResult(body: StartRequest, s: SystemInfo): StartResult {
  const key = body.containers[0]!.name ?? body.name;
  const map = { [key]: { port: firstPort(s) } };
  return {
    containers: map,
    container_map: { [key]: { port: firstPort(s) } },
    url: s.url,
    ...(s.urlCheck ? { url_verified: s.urlCheck.verified, url_checked: s.urlCheck.checked } : {}),
  };
}

const isOrigin = (o: string): o is Origin => (ORIGINS as readonly string[]).includes(o);

export function statusItem(s: SystemInfo): StatusItem {
  return {
    name: s.name,
    image: s.image,
    url: s.url,
    port: firstPort(s),
    ready: s.ready,
    owner: s.owner,
    created: s.created,
    expires: s.expires,
    namespace: s.namespace,
    stage: s.stage,
    reason: s.reason ?? null,
    ports: s.ports,
    origin: isOrigin(s.origin) ? s.origin : '',
  };
}

/** statusItem's inverse, for the CLI's remote mode: what the wire does not carry stays empty. */
export function systemFromStatusItem(s: StatusItem): SystemInfo {
  return {
    name: s.name,
    namespace: s.namespace,
    image: s.image,
    ports: s.ports,
    url: s.url,
    ready: s.ready,
    stage: s.stage satisfies Stage,
    ...(s.reason !== null ? { reason: s.reason } : {}),
    owner: s.owner,
    ownerId: '',
    origin: s.origin,
    created: s.created,
    expires: s.expires,
    annotations: {},
  };
}
