/**
 * What one command is: its flags (with aliases and help), how its typed input is read from
 * them, its handler, its typed result and its REST operation. Each command lives in its own
 * module (up.ts, down.ts, …); the parser, the usage text, the REST routes and their OpenAPI
 * document, the CLI's verbs and remote mode, and the Slack command and buttons are all driven
 * by them (registry.ts lists them).
 */
import type { RestSpec } from '../api/rest-binding.js';
import type { Origin, Owner, SystemInfo } from '../k8s/spec.js';
import type { SystemLauncher, UpOptions } from '../k8s/system-launcher.js';
import type { PolicyFor } from './policy.js';
import type { AccessPolicy } from '../policy/rules.js';
import type { AuditTrail } from '../audit.js';
import { strayWords } from './recorded.js';

export interface FlagSpec {
  /** The long name, as in --name. */
  name: string;
  /** Other spellings; the one-letter one is what messages show (-n). */
  aliases?: readonly string[];
  /**
   * `value`: given once; `repeated`: collected every time it is given (-e A=1 -e B=2);
   * `switch`: on or off.
   */
  takes: 'value' | 'repeated' | 'switch';
  /** Its values are masked in the command Tycho records (-e KEY=***). */
  secret?: boolean;
  /** Its line in `help COMMAND`: the flag as shown, and what it does. */
  help?: { label: string; text: string };
}

/** The flag every command that names one system shares. */
export const NAME_FLAG: FlagSpec = {
  name: 'name',
  aliases: ['n'],
  takes: 'value',
  help: { label: '-n, --name NAME', text: 'lower-case letters, digits and "-", starting with a letter (max 63)' },
};

/** The parsed words of one command, for its module's `read`. */
export interface FlagReader {
  /** A flag given at most once; undefined when absent. An empty value is refused. */
  single(flag: string): string | undefined;
  /** How messages name the flag: its one-letter form when it has one (-e), else --secret-env. */
  shown(flag: string): string;
  /** A repeatable flag's values, in order. */
  many(flag: string): string[];
  /** The words after the command that belong to no flag (consumed by taking them). */
  words: string[];
  /** Refuses the command with this sentence and the command's usage line. */
  refuse(why: string): never;
  /** refuse(why) when a check found something wrong. */
  check(why: string | null): void;
}

export interface Caller {
  owner: Owner;
  origin: Origin;
  /** Admins may tear down anyone's system; everyone else only their own. */
  isAdmin: boolean;
}

export interface RunContext extends UpOptions {
  launcher: SystemLauncher;
  caller: Caller;
  /** Prefix for help text: "/tycho " or "tycho ". */
  prefix: string;
  /** The operator's launch limits for this caller; null when none apply (see policy.ts). */
  policy: PolicyFor;
  /** The command as typed, env values masked (Parsed.recorded), kept on the objects for later inspection. */
  originalText?: string;
  /** Extra annotations for `up` (e.g. the Slack thread). */
  annotations?: Record<string, string>;
  /**
   * Called once every check of a command that changes a system has passed, with the system as
   * it is, just before the change: Slack takes the buttons away and marks the root message
   * first. Throwing here stops the command; nothing has changed yet.
   */
  beforeChange?: (system: SystemInfo) => Promise<void>;
  /**
   * Who may do what (src/policy): checked on every command by runCommand. Unset: no such rules
   * here (the CLI in remote mode, whose server applies its own).
   */
  access?: AccessPolicy;
  /** The Slack channel the request came from: policy channels.allow, list.scope, the audit line. */
  channel?: string;
  /** The front end as the audit line names it (slack, slack-button, rest, cli); default from the caller's origin. */
  via?: string;
  /** Where the audit line (and the Deployment's Event) of a mutating command goes; unset: nowhere (the CLI in direct mode). */
  audit?: AuditTrail;
}

export interface CommandModule<Name extends string, Input extends { kind: Name }, Result extends { kind: Name }> {
  name: Name;
  /** The usage after the prefix, e.g. "down -n NAME". */
  usage: string;
  /** One sentence for `help`. */
  summary: string;
  flags: readonly FlagSpec[];
  /** Needs no cluster: Slack answers it in the ack itself, and the CLI runs it without a server. */
  answeredAtOnce?: boolean;
  /** `--up` as well as `up`: the original Tycho client's spelling of this command. */
  legacyFlag?: boolean;
  /** The typed input from the parsed words; bad input is refused through the reader. */
  read(flags: FlagReader): Input;
  run(input: Input, ctx: RunContext): Promise<Result>;
  /**
   * The result in plain words, for a front end that has no renderer of its own for this
   * command (the built-in commands each have one per front end; a command registered at run
   * time may have none).
   */
  text?(result: Result): string;
  /**
   * Its REST operation (POST /system/…): the route, its OpenAPI entry and the CLI's remote mode
   * are made from it. Without one the command is not offered over REST.
   */
  rest?: RestSpec<Input, Result>;
}

/** Any command module, whatever its input and result (what the registry holds). */
// Methods are compared bivariantly, so every CommandModule<K, I, R> is one of these.
export type AnyCommandModule = CommandModule<string, { kind: string }, { kind: string }>;

/** Words left after the flags are a mistake for every command that takes none. */
export function refuseStrayWords(r: FlagReader): void {
  if (r.words.length) r.refuse(`Unexpected "${strayWords(r.words)}"; values go after their flag, e.g. -n NAME.`);
}

/** `down jupyter-ds` as well as `down -n jupyter-ds`: the name as a plain word too. */
export function nameFlagOrWord(r: FlagReader): string | undefined {
  let name = r.single('name');
  if (name === undefined && r.words.length === 1) name = r.words.shift();
  refuseStrayWords(r);
  return name;
}
