/** The usage lines and help text, from the command modules. Every bad-input message ends with a usage line. */
import type { FlagSpec } from './command.js';
import { COMMAND_NAMES, commandModule, type CommandName } from './registry.js';

export function usageLine(cmd: CommandName, prefix: string): string {
  return `Usage: ${prefix}${commandModule(cmd).usage}`;
}

/** When we cannot tell which command was meant, show them all. */
export function overviewUsage(prefix: string): string {
  return `Usage: ${prefix}${COMMAND_NAMES.join('|')} …  (try "${prefix}help")`;
}

const HELP_COLUMN = 25;

function flagLine(f: FlagSpec): string[] {
  if (!f.help) return [];
  const { label, text } = f.help;
  return [`${label.length < HELP_COLUMN ? label.padEnd(HELP_COLUMN) : `${label}  `}${text}`];
}

export function helpText(prefix: string, topic?: CommandName): string {
  if (topic) {
    const m = commandModule(topic);
    return [usageLine(topic, prefix), m.summary, ...m.flags.flatMap(flagLine)].join('\n');
  }
  return [
    'Tycho launches a container image on Kubernetes and gives you its URL.',
    '',
    ...COMMAND_NAMES.map((c) => `${prefix}${commandModule(c).usage}\n    ${commandModule(c).summary}`),
  ].join('\n');
}
