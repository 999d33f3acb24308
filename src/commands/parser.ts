/**
 * The one command language. Slack hands us one string; the CLI hands us argv. Both end up
 * here and come out as a typed Command, or a UsageError with one sentence and the usage line.
 * Which commands there are, and what each accepts (its flags, its input), is in its own module
 * (registry.ts); this file only finds the command and its flags, and the options of the CLI.
 */
import yargsParser from 'yargs-parser';
import { UsageError } from '../k8s/errors.js';
import { checkName } from '../k8s/validate.js';
import type { FlagReader, FlagSpec } from './command.js';
import { recordedCommand } from './recorded.js';
import { commandModule, commandModules, registryGeneration, type Command } from './registry.js';
import { takeFlags } from './repeated-flags.js';
import { splitShellWords, UnclosedQuote } from './shell-words.js';
import { overviewUsage, usageLine } from './usage.js';

export type { Command } from './registry.js';
export type { LaunchRequest } from './up.js';

/** Options only the CLI understands; Slack users may not pick namespaces or servers. */
export interface CliOptions {
  json: boolean;
  namespace?: string;
  server?: string;
  wait: boolean;
  timeout?: number;
}

export interface Parsed {
  command: Command;
  cli: CliOptions;
  /** The command as typed, with -e and --secret-env values masked: what may be recorded on the objects. */
  recorded: string;
}

export type FrontEnd = 'cli' | 'slack';

export interface ParseOptions {
  frontEnd: FrontEnd;
  /** What precedes a command in the usage line: "/tycho " in Slack, "tycho " in a terminal. */
  prefix: string;
}

const CLI_FLAGS: readonly FlagSpec[] = [
  { name: 'json', takes: 'switch' },
  { name: 'namespace', takes: 'value' },
  { name: 'server', aliases: ['s'], takes: 'value' },
  { name: 'no-wait', takes: 'switch' },
  { name: 'timeout', takes: 'value' },
];
const CLI_FLAG_NAMES = CLI_FLAGS.map((f) => f.name);
const HELP_FLAG: FlagSpec = { name: 'help', aliases: ['h'], takes: 'switch' };

/**
 * Every spelling yargs-parser reads as this flag: each name and alias with one dash or two
 * (`-e`, `--e`, `-env`, `--env`), so none slips past the scan, and so past the masking.
 */
function spellings(flags: readonly FlagSpec[]): Record<string, string[]> {
  return Object.fromEntries(flags.map((f) => [f.name, [f.name, ...(f.aliases ?? [])].flatMap((n) => [`-${n}`, `--${n}`])]));
}

interface FlagTables {
  /** Which registry this was built from (registry.ts): a command registered since makes it stale. */
  generation: number;
  commands: string[];
  /** The original Tycho client said `--up -n … -c … -p …`: the commands that take that spelling. */
  legacyVerbs: string[];
  byCommand: Record<string, string[]>;
  switches: string[];
  aliases: Record<string, string[]>;
  values: string[];
  /** The flags people repeat, collected in one pass before yargs-parser (see repeated-flags.ts). */
  repeatable: Record<string, string[]>;
  /** The flags whose values are never recorded. */
  secretValued: Record<string, string[]>;
}

let tables: FlagTables | undefined;
/** From the command modules, on first use (they are loaded lazily, see registry.ts). */
function flagTables(): FlagTables {
  if (tables?.generation === registryGeneration()) return tables;
  const modules = commandModules();
  const byName = new Map<string, FlagSpec>();
  for (const f of [...modules.flatMap((m) => m.flags), ...CLI_FLAGS, HELP_FLAG]) byName.set(f.name, f);
  const all = [...byName.values()];
  const legacyVerbs = modules.filter((m) => m.legacyFlag).map((m) => m.name);
  tables = {
    generation: registryGeneration(),
    commands: modules.map((m) => m.name),
    legacyVerbs,
    byCommand: Object.fromEntries(modules.map((m) => [m.name, m.flags.map((f) => f.name)])),
    switches: [...all.filter((f) => f.takes === 'switch').map((f) => f.name), ...legacyVerbs],
    aliases: Object.fromEntries(all.filter((f) => f.aliases?.length).map((f) => [f.name, [...f.aliases!]])),
    values: all.filter((f) => f.takes === 'value').map((f) => f.name),
    repeatable: spellings(all.filter((f) => f.takes === 'repeated')),
    secretValued: spellings(all.filter((f) => f.secret)),
  };
  return tables;
}

const orList = (xs: readonly string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);

function shortFlag(flag: string): string {
  const alias = flagTables().aliases[flag]?.find((a) => a.length === 1);
  return alias ? `-${alias}` : `--${flag}`;
}

export function parseCommand(input: string | string[], opts: ParseOptions): Parsed {
  const prefix = opts.prefix;
  let words: string[];
  try {
    words = typeof input === 'string' ? splitShellWords(input) : input;
  } catch (e) {
    if (e instanceof UnclosedQuote) throw new UsageError(`In your command, ${e.message}.`, overviewUsage(prefix));
    throw e;
  }

  const flags = flagTables();
  const repeated = takeFlags(words, flags.repeatable);
  const recorded = recordedCommand(prefix, words, flags.secretValued);
  const argv = yargsParser.detailed(repeated.rest, {
    alias: flags.aliases,
    string: flags.values,
    boolean: flags.switches,
    configuration: {
      'camel-case-expansion': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': true,
      'flatten-duplicate-arrays': true,
      'strip-aliased': true,
      'greedy-arrays': false,
      'short-option-groups': false,
      // Only --no-wait is a negation; `--no-name` must read as an unknown flag, not "no name".
      'boolean-negation': false,
    },
  });
  if (argv.error) throw new UsageError(`Could not read the command: ${argv.error.message}.`, overviewUsage(prefix));
  const a = { ...(argv.argv as Record<string, unknown> & { _: (string | number)[] }), ...Object.fromEntries(repeated.values) };
  const positionals = a._.map(String);

  // Which command? The first word, or the original client's --up/--down flags.
  const legacy = flags.legacyVerbs.filter((v) => a[v] === true);
  let cmd: string | undefined;
  if (legacy.length > 1) throw new UsageError(`Give one command, not ${legacy.map((v) => `--${v}`).join(' and ')}.`, overviewUsage(prefix));
  if (legacy.length === 1) cmd = legacy[0];
  else if (positionals.length > 0) {
    const word = positionals.shift()!.toLowerCase();
    if (!flags.commands.includes(word)) {
      throw new UsageError(`"${word}" is not a Tycho command; use one of ${flags.commands.join(', ')}.`, overviewUsage(prefix));
    }
    cmd = word;
  } else if (a.help === true) cmd = 'help';
  if (!cmd) throw new UsageError(`Say what to do: ${orList(flags.commands)}.`, overviewUsage(prefix));
  const usage = usageLine(cmd, prefix);

  // Unknown or misplaced flags.
  const allowed = new Set([...flags.byCommand[cmd]!, ...flags.legacyVerbs, 'help', '_', ...(opts.frontEnd === 'cli' ? CLI_FLAG_NAMES : ['no-wait'])]);
  for (const key of Object.keys(a)) {
    if (allowed.has(key)) continue;
    const known = Object.values(flags.byCommand).some((f) => f.includes(key)) || CLI_FLAG_NAMES.includes(key);
    const flag = key.length === 1 ? `-${key}` : `--${key}`;
    throw new UsageError(
      known
        ? opts.frontEnd !== 'cli' && CLI_FLAG_NAMES.includes(key)
          ? `The option ${flag} only works in the command-line tool.`
          : `The option ${flag} does not apply to "${cmd}".`
        : `${flag} is not an option Tycho knows.`,
      usage,
    );
  }

  const single = (flag: string): string | undefined => {
    const v = a[flag];
    if (v === undefined) return undefined;
    const values = Array.isArray(v) ? v : [v];
    if (values.length > 1) throw new UsageError(`Give ${shortFlag(flag)} only once.`, usage);
    const s = String(values[0]);
    if (s === '') throw new UsageError(`${shortFlag(flag)} needs a value.`, usage);
    return s;
  };
  const many = (flag: string): string[] => {
    const v = a[flag];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map(String);
  };
  const fail = (why: string | null) => {
    if (why) throw new UsageError(why, usage);
  };

  const cli: CliOptions = { json: a.json === true, wait: a['no-wait'] !== true };
  const ns = single('namespace');
  if (ns !== undefined) {
    fail(checkName(ns)?.replace('The name', 'The namespace') ?? null);
    cli.namespace = ns;
  }
  const server = single('server');
  if (server !== undefined && ns !== undefined) fail('--namespace does not apply with -s: the Tycho server decides the namespace.');
  if (server !== undefined) {
    if (!/^https?:\/\/[^\s/]+/.test(server)) fail(`The server "${server}" is not a URL; write e.g. http://tycho.example.org:3000.`);
    cli.server = server.replace(/\/+$/, '');
  }
  const timeout = single('timeout');
  if (timeout !== undefined) {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1) fail(`The timeout "${timeout}" is not a whole number of seconds.`);
    cli.timeout = Number(timeout);
  }

  // `up --help` asks for help on up; `help --help` is just help.
  if (cmd !== 'help' && a.help === true) return { command: { kind: 'help', topic: cmd }, cli, recorded };
  const reader: FlagReader = {
    single,
    many,
    words: positionals,
    shown: shortFlag,
    refuse(why: string): never {
      throw new UsageError(why, usage);
    },
    check: fail,
  };
  // A command registered at run time is outside the Command union: its front ends show it through its own `text`.
  return { command: commandModule(cmd)!.read(reader) as Command, cli, recorded };
}
