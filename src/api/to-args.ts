/**
 * The original's start body → the command layer's UpArgs, the same structure the CLI and
 * Slack parsers produce. Runs only on bodies the schema has accepted, so every field here has
 * already passed the shared checks in src/k8s/validate.ts (through the schema's formats).
 */
import type { Caller } from '../commands/handlers.js';
import type { UpArgs } from '../commands/parser.js';
import { UsageError } from '../k8s/errors.js';
import { checkEnvNames, checkVolumes, normaliseMemory, parseEnvPair, parseWireVolume } from '../k8s/validate.js';
import type { StartRequest, StatusItem, StartResult } from './wire.js';
import type { SystemInfo } from '../k8s/spec.js';

export function startToUpArgs(body: StartRequest): UpArgs {
  const c = body.containers[0]!;
  const args: UpArgs = {
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

export function apiCaller(owner: string): Caller {
  // The API has one kind of caller: whoever holds the token (or sits on the machine). Like
  // the CLI with a kubeconfig, such a caller may tear down any system.
  return { owner: { id: `api:${owner}`, display: owner }, origin: 'api', isAdmin: true };
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
    origin: s.origin,
  };
}
