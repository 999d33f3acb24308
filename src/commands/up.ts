/**
 * `up`: launch an image as a named system and answer with it once it is ready (or at once,
 * without waiting). The launch request read here is the one model every front end fills in:
 * the parser from flags, the REST API from the original's start body (api/bindings/start.ts).
 */
import { EXPOSE_MODES, exposeOfServiceType, type ExposeMode, type LaunchSpec, type ServiceType, type SystemInfo, type VolumeMount } from '../k8s/spec.js';
import type { UpOptions } from '../k8s/system-launcher.js';
import { checkCpu, checkEnv, checkEnvNames, checkGpu, checkImage, checkMemory, checkName, checkPort, checkVolume, checkVolumes, parseEnvPair, parseVolume } from '../k8s/validate.js';
import { NAME_FLAG, refuseStrayWords, type Caller, type CommandModule, type FlagReader, type FlagSpec, type RunContext } from './command.js';
import { startBinding } from '../api/bindings/start.js';
import { checkDuration, checkTtl } from '../k8s/expiry.js';
import { UsageError } from '../k8s/errors.js';
import { usageLine } from './usage.js';
import { enforceLaunchPolicy } from './policy.js';
import { splitShellWords, UnclosedQuote } from './shell-words.js';

/** What a person asks to launch, whichever front end they used. */
export interface LaunchRequest {
  name: string;
  image: string;
  ports: number[];
  command?: string[];
  env: { name: string; value: string }[];
  /** Stored in a Secret and referenced from the pod, never written in plain text (--secret-env). */
  secretEnv?: { name: string; value: string }[];
  cpu?: string;
  memory?: string;
  gpu?: number;
  /** --expose, or --service-type (its older spelling, in Service types). Unset: the operator's default. */
  expose?: ExposeMode;
  /** --volume CLAIM:/path[:ro], repeatable. */
  volumes?: VolumeMount[];
  /** --ttl 2h: how long it lives; unset, the operator's default (TYCHO_DEFAULT_TTL). */
  ttl?: string;
}

/** --ttl, shared by `up` and `extend`. */
export const TTL_FLAG: FlagSpec = { name: 'ttl', takes: 'value', help: { label: '    --ttl 2h', text: "how long it lives, e.g. 90m, 8h, 1d12h (default and maximum: the operator's)" } };

/**
 * A --ttl over the operator's maximum is bad input, refused before anything is made. Only where
 * the launcher applies the rules itself: the CLI's remote launcher leaves them to its server.
 */
export function enforceMaxTtl(ttl: string | undefined, ctx: Pick<RunContext, 'launcher' | 'prefix'>, command: 'up' | 'extend'): void {
  const rules = ctx.launcher.expiry;
  if (ttl === undefined || !rules) return;
  const why = checkTtl(ttl, rules);
  if (why) throw new UsageError(why, usageLine(command, ctx.prefix));
}

export interface UpInput {
  kind: 'up';
  args: LaunchRequest;
}

export interface UpResult {
  kind: 'up';
  system: SystemInfo;
}

const SERVICE_TYPES: Record<string, ServiceType> = { nodeport: 'NodePort', loadbalancer: 'LoadBalancer', clusterip: 'ClusterIP' };

/** The launch request with who asked, as the launcher takes it. */
export function toLaunchSpec(args: LaunchRequest, caller: Caller, extra: { originalText?: string; annotations?: Record<string, string> } = {}): LaunchSpec {
  const resources = {
    ...(args.cpu ? { cpu: args.cpu } : {}),
    ...(args.memory ? { memory: args.memory } : {}),
    ...(args.gpu ? { gpu: args.gpu } : {}),
  };
  return {
    name: args.name,
    image: args.image,
    ports: args.ports,
    ...(args.command ? { command: args.command } : {}),
    env: args.env,
    ...(args.secretEnv?.length ? { secretEnv: args.secretEnv } : {}),
    resources,
    ...(args.expose ? { expose: args.expose } : {}),
    ...(args.volumes?.length ? { volumes: args.volumes } : {}),
    ...(args.ttl !== undefined ? { ttl: args.ttl } : {}),
    owner: caller.owner,
    origin: caller.origin,
    ...(extra.originalText ? { originalCommand: extra.originalText } : {}),
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
}

function read(r: FlagReader): UpInput {
  const name = r.single('name');
  refuseStrayWords(r);
  if (name === undefined) r.refuse('A launch needs a name: add -n NAME.');
  r.check(checkName(name));
  const image = r.single('container');
  if (image === undefined) r.refuse('A launch needs an image: add -c IMAGE.');
  r.check(checkImage(image));
  const portsRaw = r.many('port').flatMap((p) => p.split(',')).filter((p) => p !== '');
  if (portsRaw.length === 0) r.refuse('A launch needs the port the app listens on: add -p PORT.');
  for (const p of portsRaw) r.check(checkPort(p));
  const ports = [...new Set(portsRaw.map(Number))];
  const pairs = (flag: string) => {
    const given = r.many(flag);
    if (given.includes('')) r.refuse(`${r.shown(flag)} needs a KEY=VALUE after it.`);
    for (const e of given) r.check(checkEnv(e));
    return given.map(parseEnvPair);
  };
  const up: LaunchRequest = { name, image, ports, env: pairs('env') };
  const secretEnv = pairs('secret-env');
  if (secretEnv.length) up.secretEnv = secretEnv;
  r.check(checkEnvNames(up.env, secretEnv));
  const command = r.single('command');
  if (command !== undefined) {
    try {
      up.command = splitShellWords(command);
    } catch (e) {
      if (e instanceof UnclosedQuote) r.refuse(`In --command, ${e.message}.`);
      throw e;
    }
  }
  const cpu = r.single('cpu');
  if (cpu !== undefined) (r.check(checkCpu(cpu)), (up.cpu = cpu));
  const memory = r.single('memory');
  if (memory !== undefined) (r.check(checkMemory(memory)), (up.memory = memory));
  const gpu = r.single('gpu');
  if (gpu !== undefined) (r.check(checkGpu(gpu)), (up.gpu = Number(gpu)));
  const expose = r.single('expose');
  const type = r.single('service-type');
  if (expose !== undefined && type !== undefined) r.refuse('Give --expose or --service-type (its older spelling), not both.');
  if (expose !== undefined) {
    const m = EXPOSE_MODES.find((x) => x === expose.toLowerCase());
    if (!m) r.refuse(`"${expose}" is not a way to expose a system; use one of ${EXPOSE_MODES.join(', ')}.`);
    up.expose = m;
  }
  if (type !== undefined) {
    const t = SERVICE_TYPES[type.toLowerCase()];
    if (!t) r.refuse(`The service type "${type}" is not one of NodePort, LoadBalancer, ClusterIP.`);
    up.expose = exposeOfServiceType(t);
  }
  const volumes = r.many('volume');
  if (volumes.includes('')) r.refuse('--volume needs CLAIM:/path after it.');
  for (const v of volumes) r.check(checkVolume(v));
  if (volumes.length) {
    up.volumes = volumes.map(parseVolume);
    r.check(checkVolumes(up.volumes));
  }
  const ttl = r.single('ttl');
  if (ttl !== undefined) (r.check(checkDuration(ttl)), (up.ttl = ttl));
  return { kind: 'up', args: up };
}

async function run(input: UpInput, ctx: RunContext): Promise<UpResult> {
  enforceLaunchPolicy(input.args, ctx.policy, ctx.prefix);
  enforceMaxTtl(input.args.ttl, ctx, 'up');
  const spec = toLaunchSpec(input.args, ctx.caller, { ...(ctx.originalText ? { originalText: ctx.originalText } : {}), ...(ctx.annotations ? { annotations: ctx.annotations } : {}) });
  const opts: UpOptions = {};
  if (ctx.wait !== undefined) opts.wait = ctx.wait;
  if (ctx.onProgress) opts.onProgress = ctx.onProgress;
  if (ctx.timeoutSeconds !== undefined) opts.timeoutSeconds = ctx.timeoutSeconds;
  if (ctx.launchId) opts.launchId = ctx.launchId;
  return { kind: 'up', system: await ctx.launcher.up(spec, opts) };
}

type UpCommand = CommandModule<'up', UpInput, UpResult>;

export const upCommand: UpCommand = {
  name: 'up',
  usage: 'up -n NAME -c IMAGE -p PORT [--command "CMD ARGS"] [-e KEY=VALUE]... [--secret-env KEY=VALUE]... [--cpu 500m] [--memory 1Gi] [--gpu 1] [--expose MODE] [--volume CLAIM:/path[:ro]]... [--ttl 2h]',
  summary: 'Launch IMAGE as NAME and answer with its URL once it is ready.',
  flags: [
    NAME_FLAG,
    { name: 'container', aliases: ['c', 'image', 'i'], takes: 'value', help: { label: '-c, --image IMAGE', text: 'an image reference, e.g. jupyter/datascience-notebook (also --container)' } },
    { name: 'port', aliases: ['p'], takes: 'repeated', help: { label: '-p, --port PORT', text: 'the port the app listens on (repeat for more)' } },
    { name: 'command', takes: 'value', help: { label: '    --command "CMD ARGS"', text: "replaces the image's CMD; split like a shell, never run by one" } },
    { name: 'env', aliases: ['e'], takes: 'repeated', secret: true, help: { label: '-e, --env KEY=VALUE', text: 'an environment variable (repeatable); anyone who can read the Deployment sees it' } },
    { name: 'secret-env', takes: 'repeated', secret: true, help: { label: '    --secret-env KEY=VALUE', text: 'an environment variable kept in a Secret, never shown (repeatable)' } },
    { name: 'cpu', takes: 'value', help: { label: '    --cpu 500m', text: 'cpu for the app (default request 250m, limit 1)' } },
    { name: 'memory', takes: 'value', help: { label: '    --memory 1Gi', text: 'memory for the app (default request 512Mi, limit 1Gi)' } },
    { name: 'gpu', takes: 'value', help: { label: '    --gpu 1', text: 'NVIDIA GPUs' } },
    { name: 'expose', takes: 'value', help: { label: '    --expose MODE', text: "ingress (an https:// host name), nodeport, loadbalancer or cluster; the default is the operator's" } },
    { name: 'service-type', takes: 'value', help: { label: '    --service-type TYPE', text: 'the older spelling: NodePort, LoadBalancer or ClusterIP' } },
    { name: 'volume', takes: 'repeated', help: { label: '    --volume CLAIM:/path[:ro]', text: 'mount an existing PersistentVolumeClaim (repeatable; :ro read-only)' } },
    TTL_FLAG,
  ],
  legacyFlag: true,
  read,
  run,
  rest: startBinding,
};
