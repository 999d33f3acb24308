/**
 * Terminal output of command results: one entry per command, as text and as --json. The
 * mapped type makes a new command fail to compile until it has both; a command registered at
 * run time is shown through its own `text` (and as its result, for --json).
 */
import { age, stateText, urlWarning } from '../commands/format.js';
import { commandModule, type CommandName, type CommandResult, type ResultOf } from '../commands/registry.js';
import type { SystemInfo } from '../k8s/spec.js';

export function systemJson(s: SystemInfo): Record<string, unknown> {
  return {
    name: s.name,
    namespace: s.namespace,
    url: s.url,
    ready: s.ready,
    stage: s.stage,
    ...(s.reason ? { reason: s.reason } : {}),
    image: s.image,
    ports: s.ports,
    owner: s.owner,
    origin: s.origin,
    created: s.created,
    expires: s.expires,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function systemsTable(systems: SystemInfo[]): string {
  if (systems.length === 0) return 'No systems are running.';
  return table([['NAME', 'STATE', 'URL', 'IMAGE', 'OWNER', 'AGE'], ...systems.map((s) => [s.name, stateText(s), s.url ?? '-', s.image, s.owner, age(s.created)])]);
}

interface CliRenderer<R> {
  text(r: R): string;
  json(r: R): unknown;
  /** A line for stderr next to the answer, when there is something to warn about. */
  warning?(r: R): string | undefined;
}

const RENDERERS: { [K in CommandName]: CliRenderer<ResultOf<K>> } = {
  up: {
    text({ system: s }) {
      if (s.url) return s.url;
      // A LoadBalancer is Ready before the cloud has handed out its address.
      return s.ready
        ? `${s.name} is ready, but its Service has no address yet; \`tycho status ${s.name}\` shows the URL once it has one.`
        : `${s.name} is ${stateText(s)}; \`tycho status ${s.name}\` shows its URL once it is ready.`;
    },
    json({ system }) {
      // What was opened before the answer (as REST's start result says it).
      const c = system.urlCheck;
      return { ...systemJson(system), ...(c ? { url_verified: c.verified, url_checked: c.checked } : {}) };
    },
    warning: ({ system }) => urlWarning(system),
  },
  down: {
    text: ({ system }) => `Deleted system ${system.name}`,
    json: ({ system }) => ({ name: system.name, deleted: true }),
  },
  extend: {
    text: ({ system, capped }) => `Extended ${system.name}: it now expires at ${system.expires ?? 'no set time'}${capped ? " (the most allowed: the operator's maximum TTL)" : ''}.`,
    json: ({ system, capped }) => ({ name: system.name, expires: system.expires, capped }),
  },
  status: {
    text: ({ systems }) => systemsTable(systems),
    json: (r) => (r.name ? systemJson(r.systems[0]!) : r.systems.map(systemJson)),
  },
  list: {
    text: ({ systems }) => systemsTable(systems),
    json: ({ systems }) => systems.map(systemJson),
  },
  logs: {
    // As the container wrote it (redacted); the CLI adds the final newline.
    text: ({ text }) => text.replace(/\n$/, ''),
    json: ({ name, pod, tail, previous, text, redacted }) => ({ name, pod, tail, previous, text, redacted }),
    warning: ({ redacted }) => (redacted ? `${redacted} secret${redacted === 1 ? '' : 's'} replaced by [REDACTED].` : undefined),
  },
  restart: {
    text: ({ system }) => `Restarting ${system.name}: its pod is being replaced.`,
    json: ({ system }) => ({ name: system.name, restarting: true }),
  },
  help: {
    text: ({ text }) => text,
    json: ({ text }) => ({ help: text }),
  },
};

function rendererOf<R extends CommandResult>(r: R): CliRenderer<R> {
  // RENDERERS[kind] takes exactly that kind's result; TypeScript cannot follow it through the union.
  if (Object.hasOwn(RENDERERS, r.kind)) return RENDERERS[r.kind] as unknown as CliRenderer<R>;
  const text = commandModule(r.kind as string)?.text;
  return { text: (x) => text?.(x) ?? JSON.stringify(x), json: (x) => x };
}

export function resultText(r: CommandResult): string {
  return rendererOf(r).text(r);
}

export function resultJson(r: CommandResult): unknown {
  return rendererOf(r).json(r);
}

export function resultWarning(r: CommandResult): string | undefined {
  return rendererOf(r).warning?.(r);
}
