/**
 * The one command language. Slack hands us one string; the CLI hands us argv. Both end up
 * here and come out as a typed Command, or a UsageError with one sentence and the usage line.
 */
import yargsParser from 'yargs-parser';
import { UsageError } from '../k8s/errors.js';
import { EXPOSE_MODES, exposeOfServiceType, type ExposeMode, type ServiceType, type VolumeMount } from '../k8s/spec.js';
import { checkCpu, checkEnv, checkEnvNames, checkGpu, checkImage, checkMemory, checkName, checkPort, checkVolume, checkVolumes, parseEnvPair, parseVolume } from '../k8s/validate.js';
import { recordedCommand } from './recorded.js';
import { takeFlags } from './repeated-flags.js';
import { splitShellWords, UnclosedQuote } from './shell-words.js';
import { COMMAND_NAMES, overviewUsage, usageLine, type CommandName } from './usage.js';

export interface UpArgs {
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
  /** --expose, or --service-type (its older spelling, in Service types). */
  expose?: ExposeMode;
  /** --volume CLAIM:/path[:ro], repeatable. */
  volumes?: VolumeMount[];
}

/** Options only the CLI understands; Slack users may not pick namespaces or servers. */
export interface CliOptions {
  json: boolean;
  namespace?: string;
  server?: string;
  wait: boolean;
  timeout?: number;
}

export type Command =
  | { kind: 'up'; args: UpArgs }
  | { kind: 'down'; name: string }
  | { kind: 'status'; name?: string }
  | { kind: 'list' }
  | { kind: 'help'; topic?: CommandName };

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

const SERVICE_TYPES: Record<string, ServiceType> = { nodeport: 'NodePort', loadbalancer: 'LoadBalancer', clusterip: 'ClusterIP' };

const FLAGS_BY_COMMAND: Record<CommandName, string[]> = {
  up: ['name', 'container', 'port', 'command', 'env', 'secret-env', 'cpu', 'memory', 'gpu', 'expose', 'service-type', 'volume'],
  down: ['name'],
  status: ['name'],
  list: [],
  help: [],
};
const CLI_FLAGS = ['json', 'namespace', 'server', 'no-wait', 'timeout'];
/** The original Tycho client said `--up -n … -c … -p …`; accept its spellings. */
const LEGACY_VERBS: CommandName[] = ['up', 'down', 'status', 'list'];

const ALIASES: Record<string, string[]> = {
  name: ['n'],
  container: ['c', 'image', 'i'],
  port: ['p'],
  env: ['e'],
  server: ['s'],
  help: ['h'],
};

function shortFlag(flag: string): string {
  const alias = ALIASES[flag]?.find((a) => a.length === 1);
  return alias ? `-${alias}` : `--${flag}`;
}

/**
 * Every spelling yargs-parser reads as this flag: each name and alias with one dash or two
 * (`-e`, `--e`, `-env`, `--env`), so none slips past the scan, and so past the masking.
 */
function spellings(flags: readonly string[]): Record<string, string[]> {
  return Object.fromEntries(flags.map((f) => [f, [f, ...(ALIASES[f] ?? [])].flatMap((n) => [`-${n}`, `--${n}`])]));
}
/** The flags people repeat, collected in one pass before yargs-parser (see repeated-flags.ts). */
const REPEATABLE = spellings(['env', 'secret-env', 'port', 'volume']);
/** The flags whose values are never recorded. */
const SECRET_VALUED = spellings(['env', 'secret-env']);

export function parseCommand(input: string | string[], opts: ParseOptions): Parsed {
  const prefix = opts.prefix;
  let words: string[];
  try {
    words = typeof input === 'string' ? splitShellWords(input) : input;
  } catch (e) {
    if (e instanceof UnclosedQuote) throw new UsageError(`In your command, ${e.message}.`, overviewUsage(prefix));
    throw e;
  }

  const repeated = takeFlags(words, REPEATABLE);
  const recorded = recordedCommand(prefix, words, SECRET_VALUED);
  const argv = yargsParser.detailed(repeated.rest, {
    alias: ALIASES,
    string: ['name', 'container', 'command', 'cpu', 'memory', 'gpu', 'expose', 'service-type', 'namespace', 'server', 'timeout'],
    boolean: ['json', 'no-wait', 'help', ...LEGACY_VERBS],
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
  const legacy = LEGACY_VERBS.filter((v) => a[v] === true);
  let cmd: CommandName | undefined;
  if (legacy.length > 1) throw new UsageError(`Give one command, not ${legacy.map((v) => `--${v}`).join(' and ')}.`, overviewUsage(prefix));
  if (legacy.length === 1) cmd = legacy[0];
  else if (positionals.length > 0) {
    const word = positionals.shift()!.toLowerCase();
    if (!(COMMAND_NAMES as string[]).includes(word)) {
      throw new UsageError(`"${word}" is not a Tycho command; use one of ${COMMAND_NAMES.join(', ')}.`, overviewUsage(prefix));
    }
    cmd = word as CommandName;
  } else if (a.help === true) cmd = 'help';
  if (!cmd) throw new UsageError('Say what to do: up, down, status, list or help.', overviewUsage(prefix));
  const usage = usageLine(cmd, prefix);

  // Unknown or misplaced flags.
  const allowed = new Set([...FLAGS_BY_COMMAND[cmd], ...LEGACY_VERBS, 'help', '_', ...(opts.frontEnd === 'cli' ? CLI_FLAGS : ['no-wait'])]);
  for (const key of Object.keys(a)) {
    if (allowed.has(key)) continue;
    const known = Object.values(FLAGS_BY_COMMAND).some((f) => f.includes(key)) || CLI_FLAGS.includes(key);
    const flag = key.length === 1 ? `-${key}` : `--${key}`;
    throw new UsageError(
      known
        ? opts.frontEnd !== 'cli' && CLI_FLAGS.includes(key)
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

  if (cmd === 'help') {
    const topic = positionals.shift()?.toLowerCase();
    if (topic && !(COMMAND_NAMES as string[]).includes(topic)) fail(`There is no command "${topic}"; use one of ${COMMAND_NAMES.join(', ')}.`);
    if (positionals.length) fail(`Unexpected "${positionals.join(' ')}".`);
    return { command: topic ? { kind: 'help', topic: topic as CommandName } : { kind: 'help' }, cli, recorded };
  }
  if (a.help === true) return { command: { kind: 'help', topic: cmd }, cli, recorded };

  // down/status accept the name as a plain word too: `down jupyter-ds`.
  let name = single('name');
  if (name === undefined && (cmd === 'down' || cmd === 'status') && positionals.length === 1) name = positionals.shift();
  if (positionals.length) fail(`Unexpected "${positionals.join(' ')}"; values go after their flag, e.g. -n NAME.`);

  switch (cmd) {
    case 'list':
      return { command: { kind: 'list' }, cli, recorded };
    case 'status':
      if (name !== undefined) fail(checkName(name));
      return { command: name === undefined ? { kind: 'status' } : { kind: 'status', name }, cli, recorded };
    case 'down':
      if (name === undefined) fail('Say which system to tear down with -n NAME.');
      fail(checkName(name!));
      return { command: { kind: 'down', name: name! }, cli, recorded };
    case 'up': {
      if (name === undefined) fail('A launch needs a name: add -n NAME.');
      fail(checkName(name!));
      const image = single('container');
      if (image === undefined) fail('A launch needs an image: add -c IMAGE.');
      fail(checkImage(image!));
      const portsRaw = many('port').flatMap((p) => p.split(',')).filter((p) => p !== '');
      if (portsRaw.length === 0) fail('A launch needs the port the app listens on: add -p PORT.');
      for (const p of portsRaw) fail(checkPort(p));
      const ports = [...new Set(portsRaw.map(Number))];
      const pairs = (flag: string) => {
        const given = many(flag);
        if (given.includes('')) fail(`${shortFlag(flag)} needs a KEY=VALUE after it.`);
        for (const e of given) fail(checkEnv(e));
        return given.map(parseEnvPair);
      };
      const up: UpArgs = { name: name!, image: image!, ports, env: pairs('env') };
      const secretEnv = pairs('secret-env');
      if (secretEnv.length) up.secretEnv = secretEnv;
      fail(checkEnvNames(up.env, secretEnv));
      const command = single('command');
      if (command !== undefined) {
        try {
          up.command = splitShellWords(command);
        } catch (e) {
          if (e instanceof UnclosedQuote) fail(`In --command, ${e.message}.`);
          throw e;
        }
      }
      const cpu = single('cpu');
      if (cpu !== undefined) (fail(checkCpu(cpu)), (up.cpu = cpu));
      const memory = single('memory');
      if (memory !== undefined) (fail(checkMemory(memory)), (up.memory = memory));
      const gpu = single('gpu');
      if (gpu !== undefined) (fail(checkGpu(gpu)), (up.gpu = Number(gpu)));
      const expose = single('expose');
      const type = single('service-type');
      if (expose !== undefined && type !== undefined) fail('Give --expose or --service-type (its older spelling), not both.');
      if (expose !== undefined) {
        const m = EXPOSE_MODES.find((x) => x === expose.toLowerCase());
        if (!m) fail(`"${expose}" is not a way to expose a system; use one of ${EXPOSE_MODES.join(', ')}.`);
        up.expose = m;
      }
      if (type !== undefined) {
        const t = SERVICE_TYPES[type.toLowerCase()];
        if (!t) fail(`The service type "${type}" is not one of NodePort, LoadBalancer, ClusterIP.`);
        up.expose = exposeOfServiceType(t!);
      }
      const volumes = many('volume');
      if (volumes.includes('')) fail('--volume needs CLAIM:/path after it.');
      for (const v of volumes) fail(checkVolume(v));
      if (volumes.length) {
        up.volumes = volumes.map(parseVolume);
        fail(checkVolumes(up.volumes));
      }
      return { command: { kind: 'up', args: up }, cli, recorded };
    }
  }
}
