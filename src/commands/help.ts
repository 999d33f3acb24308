/** `help [COMMAND]`: the usage of every command, or the details of one. Needs no cluster. */
import type { CommandModule, FlagReader } from './command.js';
import { COMMAND_NAMES, type CommandName } from './registry.js';
import { helpText } from './usage.js';

export interface HelpInput {
  kind: 'help';
  topic?: CommandName;
}

export interface HelpResult {
  kind: 'help';
  text: string;
}

export const helpCommand: CommandModule<'help', HelpInput, HelpResult> = {
  name: 'help',
  usage: 'help [COMMAND]',
  summary: 'Show this help, or the help of one command.',
  flags: [],
  answeredAtOnce: true,
  read(r: FlagReader) {
    const topic = r.words.shift()?.toLowerCase();
    if (topic && !(COMMAND_NAMES as readonly string[]).includes(topic)) r.refuse(`There is no command "${topic}"; use one of ${COMMAND_NAMES.join(', ')}.`);
    if (r.words.length) r.refuse(`Unexpected "${r.words.join(' ')}".`);
    return topic ? { kind: 'help', topic: topic as CommandName } : { kind: 'help' };
  },
  async run(input, ctx) {
    return { kind: 'help', text: helpText(ctx.prefix, input.topic) };
  },
};
