/** The usage lines and help text, from the command modules. Every bad-input message ends with a usage line. */
import type { FlagSpec } from './command.js';
import { commandModule, commandModules } from './registry.js';

export function usageLine(cmd: string, prefix: string): string {
  return `Usage: ${prefix}${commandModule(cmd)?.usage ?? cmd}`;
}

/** When we cannot tell which command was meant, show them all. */
export function overviewUsage(prefix: string): string {
  return `Usage: ${prefix}${commandModules().map((m) => m.name).join('|')} …  (try "${prefix}help")`;
}

const HELP_COLUMN = 25;

function flagLine(f: FlagSpec): string[] {
  if (!f.help) return [];
  const { label, text } = f.help;
  return [`${label.length < HELP_COLUMN ? label.padEnd(HELP_COLUMN) : `${label}  `}${text}`];
}

export function helpText(prefix: string, topic?: string): string {
  const m = topic === undefined ? undefined : commandModule(topic);
  if (m) return [usageLine(m.name, prefix), m.summary, ...m.flags.flatMap(flagLine)].join('\n');
  return [
    'Tycho launches a container image on Kubernetes and gives you its URL.',
    '',
    ...commandModules().map((c) => `${prefix}${c.usage}\n    ${c.summary}`),
  ].join('\n');
}
