/**
 * The handlers behind every command, whichever front end it came from. They return data;
 * each front end renders it (Block Kit, JSON, terminal text).
 */
import { NotOwner } from '../k8s/errors.js';
import type { Backend, UpOptions } from '../k8s/backend.js';
import type { LaunchSpec, Origin, Owner, SystemInfo } from '../k8s/spec.js';
import type { Command, UpArgs } from './parser.js';
import { enforceLaunchPolicy, type PolicyFor } from './policy.js';
import { helpText } from './usage.js';

export interface Caller {
  owner: Owner;
  origin: Origin;
  /** Admins may tear down anyone's system; everyone else only their own. */
  isAdmin: boolean;
}

export type Outcome =
  | { kind: 'up'; system: SystemInfo }
  | { kind: 'down'; system: SystemInfo }
  | { kind: 'status'; systems: SystemInfo[]; name?: string }
  | { kind: 'help'; text: string };

export interface RunContext extends UpOptions {
  backend: Backend;
  caller: Caller;
  /** Prefix for help text: "/tycho " or "tycho ". */
  prefix: string;
  /** The operator's launch limits for this caller; null when none apply (see policy.ts). */
  policy: PolicyFor;
  /** The command as typed, env values masked (Parsed.recorded), kept on the objects for later inspection. */
  originalText?: string;
  /** Extra annotations for `up` (e.g. the Slack thread). */
  annotations?: Record<string, string>;
}

export function toLaunchSpec(args: UpArgs, caller: Caller, extra: { originalText?: string; annotations?: Record<string, string> } = {}): LaunchSpec {
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
    owner: caller.owner,
    origin: caller.origin,
    ...(extra.originalText ? { originalCommand: extra.originalText } : {}),
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  };
}

/** Checks that the caller may tear the system down; returns the system as it is now. */
export async function authorizeTeardown(backend: Backend, caller: Caller, name: string): Promise<SystemInfo> {
  const system = await backend.status(name);
  if (!caller.isAdmin && system.ownerId !== caller.owner.id) throw new NotOwner(name, system.owner, system.ownerId);
  return system;
}

export async function runCommand(cmd: Command, ctx: RunContext): Promise<Outcome> {
  switch (cmd.kind) {
    case 'help':
      return { kind: 'help', text: helpText(ctx.prefix, cmd.topic) };
    case 'list':
      return { kind: 'status', systems: await ctx.backend.list() };
    case 'status':
      return cmd.name
        ? { kind: 'status', systems: [await ctx.backend.status(cmd.name)], name: cmd.name }
        : { kind: 'status', systems: await ctx.backend.list() };
    case 'down':
      if (!ctx.caller.isAdmin) await authorizeTeardown(ctx.backend, ctx.caller, cmd.name);
      return { kind: 'down', system: await ctx.backend.down(cmd.name, ctx.caller.owner.id) };
    case 'up': {
      enforceLaunchPolicy(cmd.args, ctx.policy, ctx.prefix);
      const spec = toLaunchSpec(cmd.args, ctx.caller, { ...(ctx.originalText ? { originalText: ctx.originalText } : {}), ...(ctx.annotations ? { annotations: ctx.annotations } : {}) });
      const opts: UpOptions = {};
      if (ctx.wait !== undefined) opts.wait = ctx.wait;
      if (ctx.onProgress) opts.onProgress = ctx.onProgress;
      if (ctx.timeoutSeconds !== undefined) opts.timeoutSeconds = ctx.timeoutSeconds;
      return { kind: 'up', system: await ctx.backend.up(spec, opts) };
    }
  }
}
