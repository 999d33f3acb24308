/**
 * Every command, by name. Adding one means a module like up.ts, one line in each list here,
 * and its renderers (README, "Adding a command"); the mapped types below make the compiler
 * point at every renderer table that lacks it.
 */
import type { CommandModule, RunContext } from './command.js';
import { downCommand, type DownInput, type DownResult } from './down.js';
import { helpCommand, type HelpInput, type HelpResult } from './help.js';
import { listCommand, type ListInput, type ListResult } from './list.js';
import { statusCommand, type StatusInput, type StatusResult } from './status.js';
import { upCommand, type UpInput, type UpResult } from './up.js';

/** A command's typed input, as the parser (or a REST route) builds it. */
export type Command = UpInput | DownInput | StatusInput | ListInput | HelpInput;
/** A command's typed result, which each front end renders. */
export type CommandResult = UpResult | DownResult | StatusResult | ListResult | HelpResult;
export type CommandName = Command['kind'];
export type InputOf<K extends CommandName> = Extract<Command, { kind: K }>;
export type ResultOf<K extends CommandName> = Extract<CommandResult, { kind: K }>;

/** In the order `help` lists them. */
export const COMMAND_NAMES: readonly CommandName[] = ['up', 'down', 'status', 'list', 'help'];

type Modules = { [K in CommandName]: CommandModule<K, InputOf<K>, ResultOf<K>> };
// Built on first use: the modules import this file (help lists the others), so nothing here
// may touch them while the imports are still being evaluated.
let modules: Modules | undefined;

export function commandModule<K extends CommandName>(name: K): Modules[K] {
  modules ??= { up: upCommand, down: downCommand, status: statusCommand, list: listCommand, help: helpCommand };
  return modules[name];
}

/** Runs a command for any front end; the result's type follows the command's. */
export function runCommand<C extends Command>(cmd: C, ctx: RunContext): Promise<ResultOf<C['kind']>> {
  // One module per kind, so its run takes exactly this input; TypeScript cannot follow that through K.
  const module = commandModule(cmd.kind) as unknown as CommandModule<C['kind'], C, ResultOf<C['kind']>>;
  return module.run(cmd, ctx);
}
