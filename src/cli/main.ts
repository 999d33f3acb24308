#!/usr/bin/env node
/**
 * `tycho`: the command line front end. Talks to the cluster of the current kubeconfig like
 * kubectl does, or to a Tycho server with -s URL.
 */
import { userInfo } from 'node:os';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import dotenv from 'dotenv';
import { parseCommand } from '../commands/parser.js';
import type { Caller, RunContext } from '../commands/command.js';
import { commandModule, runCommand } from '../commands/registry.js';
import { FORMATS } from '../api/formats.js';
import { STAGE_WORDS } from '../commands/format.js';
import { ConfigError, loadLauncherConfig, type LauncherConfig } from '../config.js';
import { isTychoError, ClusterUnreachable, UsageError } from '../k8s/errors.js';
import { Launcher, launcherOptionsFrom } from '../k8s/launcher.js';
import { configuredCluster, fromFile, resolveNamespace } from '../k8s/kubeconfig.js';
import type { SystemLauncher } from '../k8s/system-launcher.js';
import { localKubeconfigPath } from '../local/paths.js';
import { createAuditTrail, type AuditTrail } from '../audit.js';
import { DeploymentEvents } from '../k8s/events.js';
import { createLogger, LEVELS, type Level } from '../log.js';
import { RemoteCommands } from './remote.js';
import { EXIT_CODES } from './exit-codes.js';
import { resultJson, resultText, resultWarning } from './render.js';

const PREFIX = 'tycho ';

/**
 * Who runs this CLI: TYCHO_OWNER, else the login name. It is recorded as the owner of what `up`
 * launches and as who tore a system down, so it is checked like any owner (the REST API's
 * X-Tycho-Owner): a name the server would refuse is refused here, before the cluster is asked.
 */
function cliUser(): string {
  const given = process.env.TYCHO_OWNER;
  const user = given || userInfo().username;
  const why = FORMATS.owner!.why(user);
  if (!why) return user;
  const sentence = given ? `TYCHO_OWNER ${why}` : `Your login name ${why.replace(/; use /, '; set TYCHO_OWNER to a name of ')}`;
  // Not the command's usage line: the command was fine, the name is not.
  throw new UsageError(sentence, '');
}

/** The cluster of the kubeconfig (or the local one), and the namespace the systems live in. */
function directCluster(namespace: string | undefined, cfg: LauncherConfig) {
  const chosen = configuredCluster() ?? (existsSync(localKubeconfigPath()) ? fromFile(localKubeconfigPath()) : undefined);
  if (!chosen) {
    throw new ClusterUnreachable(
      'No cluster is configured: set KUBECONFIG (or ~/.kube/config), start the local one with `npm start`, or use -s URL to talk to a Tycho server.',
    );
  }
  return { kc: chosen.kc, namespace: resolveNamespace(chosen.kc, namespace ?? cfg.namespace) };
}

function directLauncher(cluster: ReturnType<typeof directCluster>, cfg: LauncherConfig): SystemLauncher {
  // One process per command: it follows its one system with one watch, not a view (one-watch.ts).
  return new Launcher(cluster.kc, { ...launcherOptionsFrom(cfg, cluster.namespace), oneWatch: true });
}

/**
 * The CLI's own log level: TYCHO_LOG_LEVEL, else `warn`. A person at a terminal reads the
 * progress words and the result; the JSON audit line (info) is for a pipeline that asks for it.
 */
function cliLogLevel(): Level {
  const v = process.env.TYCHO_LOG_LEVEL as Level | undefined;
  return v && LEVELS.includes(v) ? v : 'warn';
}

/**
 * Direct mode audits as the server does (src/audit.ts): the Event on the Deployment, and the same
 * structured line on stderr (where a CLI's log goes) at TYCHO_LOG_LEVEL=info. Its uid comes from
 * the Deployment the command read or made: a CLI has no view to ask.
 */
function directAudit(cluster: () => ReturnType<typeof directCluster>, err: NodeJS.WritableStream): AuditTrail {
  const log = createLogger({ level: cliLogLevel(), write: (line) => err.write(`${line}\n`) }).child({ component: 'audit' });
  let events: DeploymentEvents | undefined;
  return createAuditTrail({
    log,
    events: { record: (d, e) => (events ??= new DeploymentEvents(cluster().kc, cluster().namespace, log)).record(d, e) },
  });
}

export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  dotenv.config({ quiet: true });
  let json = argv.includes('--json');
  try {
    const { command, cli, recorded } = parseCommand(argv, { frontEnd: 'cli', prefix: PREFIX });
    json = cli.json;
    // A command that needs no cluster (help) needs no owner, config or server either.
    const local = commandModule(command.kind)?.answeredAtOnce === true;
    const user = local ? '' : cliUser();
    const caller: Caller = { owner: { id: `cli:${user}`, display: user }, origin: 'cli', isAdmin: true };
    // Chosen (and configured) on first use, so `tycho help` works without any cluster or config.
    let cfg: LauncherConfig | undefined;
    const config = () => (cfg ??= loadLauncherConfig());
    const server = local ? undefined : (cli.server ?? config().serverUrl);
    let chosen: ReturnType<typeof directCluster> | undefined;
    const cluster = () => (chosen ??= directCluster(cli.namespace, config()));
    // A server audits what it is asked; in direct mode this process is the one that acts.
    const audit = server || local ? undefined : directAudit(cluster, err);
    const ctx: RunContext = {
      launcher: lazyLauncher(() => directLauncher(cluster(), config())),
      caller,
      prefix: PREFIX,
      // Direct mode applies the launch limits of this environment; a Tycho server applies its own.
      policy: server || local ? null : config().policy,
      // The rules of the policy file and environment here; a server applies its own.
      ...(server || local ? {} : { access: config().access }),
      originalText: recorded,
      ...(audit ? { audit } : {}),
      wait: cli.wait,
      ...(cli.timeout ? { timeoutSeconds: cli.timeout } : {}),
      ...(json ? {} : { onProgress: (stage) => err.write(`… ${STAGE_WORDS[stage] ?? stage}\n`) }),
    };
    // Remote mode asks the server to run the command, through its REST binding.
    const result = server
      ? await new RemoteCommands(server, config().apiToken).run(command, ctx)
      : await runCommand(command, ctx).finally(() => audit?.settled());
    out.write(`${json ? JSON.stringify(resultJson(result), null, 2) : resultText(result)}\n`);
    const warning = resultWarning(result);
    if (warning && !json) err.write(`tycho: warning: ${warning}\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`tycho: ${e.message}\n`);
      return 2;
    }
    const te = isTychoError(e) ? e : undefined;
    const code = te ? EXIT_CODES[te.code] : 1;
    const message = te ? te.message : 'Something unexpected went wrong; run again with TYCHO_DEBUG=1 for details.';
    if (!te && process.env.TYCHO_DEBUG) err.write(`${(e as Error)?.stack ?? String(e)}\n`);
    if (json) out.write(`${JSON.stringify({ error: { code: te?.code ?? 'internal', message } }, null, 2)}\n`);
    else {
      err.write(`tycho: ${message}\n`);
      if (e instanceof UsageError && e.usage) err.write(`${e.usage}\n`);
      if (te?.leftInPlace) err.write(`It is left in place for inspection; remove it with: tycho down ${te.leftInPlace}\n`);
    }
    return code;
  }
}

/**
 * The launcher, made when a command first calls one of its methods (any method, so a method
 * added to SystemLauncher needs nothing here): `tycho help` never touches a cluster.
 */
function lazyLauncher(make: () => SystemLauncher): SystemLauncher {
  let made: SystemLauncher | undefined;
  return new Proxy({} as SystemLauncher, {
    get(_target, method) {
      made ??= make();
      const value = Reflect.get(made, method, made) as unknown;
      return typeof value === 'function' ? value.bind(made) : value;
    },
  });
}

function isMainModule(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

// Only when run as a program, so tests can import main().
if (isMainModule()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    () => process.exit(1),
  );
}
