/**
 * Every command, by name. Every front end is derived from this list: the parser's verbs (and
 * the original client's `--up` spellings), the usage and help text, the REST routes and their
 * OpenAPI paths (a module's `rest` binding), the CLI's remote mode, the Slack command and its
 * buttons. Adding a command means a module like up.ts, one line in BUILT_IN and in the unions
 * below, and its renderers (the CLI's and Slack's tables); the mapped types make the compiler
 * point at every renderer table that lacks it. A module registered at run time
 * (registerCommand) is offered by every front end too, shown through its own `text`.
 */
import { UsageError } from '../k8s/errors.js';
import type { AnyCommandModule, CommandModule, RunContext } from './command.js';
import { underPolicy } from '../policy/enforce.js';
import { downCommand, type DownInput, type DownResult } from './down.js';
import { extendCommand, type ExtendInput, type ExtendResult } from './extend.js';
import { helpCommand, type HelpInput, type HelpResult } from './help.js';
import { listCommand, type ListInput, type ListResult } from './list.js';
import { logsCommand, type LogsInput, type LogsResult } from './logs.js';
import { restartCommand, type RestartInput, type RestartResult } from './restart.js';
import { statusCommand, type StatusInput, type StatusResult } from './status.js';
import { upCommand, type UpInput, type UpResult } from './up.js';

/** A built-in command's typed input, as the parser (or a REST route) builds it. */
export type Command = UpInput | DownInput | ExtendInput | StatusInput | ListInput | LogsInput | RestartInput | HelpInput;
/** A built-in command's typed result, which each front end renders. */
export type CommandResult = UpResult | DownResult | ExtendResult | StatusResult | ListResult | LogsResult | RestartResult | HelpResult;
export type CommandName = Command['kind'];
export type InputOf<K extends CommandName> = Extract<Command, { kind: K }>;
export type ResultOf<K extends CommandName> = Extract<CommandResult, { kind: K }>;

type Modules = { [K in CommandName]: CommandModule<K, InputOf<K>, ResultOf<K>> };

/** In the order `help` lists them. Built on first use: the modules import this file (help lists the others). */
function builtIn(): AnyCommandModule[] {
  const modules: Modules = { up: upCommand, down: downCommand, extend: extendCommand, status: statusCommand, list: listCommand, logs: logsCommand, restart: restartCommand, help: helpCommand };
  return [modules.up, modules.down, modules.extend, modules.status, modules.list, modules.logs, modules.restart, modules.help];
}

let registered: Map<string, AnyCommandModule> | undefined;
let generation = 0;

function all(): Map<string, AnyCommandModule> {
  return (registered ??= new Map(builtIn().map((m) => [m.name, m])));
}

/**
 * Adds a command to every front end (or, with `replace`, swaps the module of one that exists,
 * keeping its place). Returns the undo. Front ends read the registry when they are built or
 * asked, so register before starting a server.
 */
export function registerCommand(module: AnyCommandModule, o: { replace?: boolean } = {}): () => void {
  const modules = all();
  const before = modules.get(module.name);
  if (before && !o.replace) throw new Error(`A command named "${module.name}" is registered already.`);
  if (!before && o.replace) throw new Error(`There is no command "${module.name}" to replace.`);
  if (!/^[a-z][a-z-]*$/.test(module.name)) throw new Error(`"${module.name}" cannot be a command name: lower-case letters and "-" only.`);
  modules.set(module.name, module);
  generation++;
  return () => {
    if (modules.get(module.name) !== module) return;
    if (before) modules.set(module.name, before);
    else modules.delete(module.name);
    generation++;
  };
}

/** Changes with every registration, so what is derived from the registry can be rebuilt when it is stale. */
export function registryGeneration(): number {
  return generation;
}

/** Every command's name, in the order `help` lists them. */
export function commandNames(): string[] {
  return [...all().keys()];
}

/** Every command's module, in the order `help` lists them. */
export function commandModules(): AnyCommandModule[] {
  return [...all().values()];
}

export function commandModule<K extends CommandName>(name: K): Modules[K];
export function commandModule(name: string): AnyCommandModule | undefined;
export function commandModule(name: string): AnyCommandModule | undefined {
  return all().get(name);
}

/** Runs a command for any front end; the result's type follows the command's. */
export function runCommand<C extends Command>(cmd: C, ctx: RunContext): Promise<ResultOf<C['kind']>>;
export function runCommand(cmd: { kind: string }, ctx: RunContext): Promise<{ kind: string }>;
export async function runCommand(cmd: { kind: string }, ctx: RunContext): Promise<{ kind: string }> {
  const module = all().get(cmd.kind);
  // Only reachable through a module unregistered between parsing and running.
  if (!module) throw new UsageError(`"${cmd.kind}" is not a Tycho command.`, '');
  // Every rule of the operator's policy, and the audit line of a mutating command, for every front end.
  return underPolicy(cmd, ctx, () => module.run(cmd, ctx));
}
