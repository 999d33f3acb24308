/** `help [COMMAND]`: the usage of every command, or the details of one. Needs no cluster. */
import type { CommandModule, FlagReader } from './command.js';
import { commandNames } from './registry.js';
import { helpText } from './usage.js';
import { strayWords } from './recorded.js';

export interface HelpInput {
  kind: 'help';
  /** A command's name (a registered one's too). */
  topic?: string;
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
    if (topic && !commandNames().includes(topic)) r.refuse(`There is no command "${topic}"; use one of ${commandNames().join(', ')}.`);
    if (r.words.length) r.refuse(`Unexpected "${strayWords(r.words)}".`);
    return topic ? { kind: 'help', topic } : { kind: 'help' };
  },
  async run(input, ctx) {
    return { kind: 'help', text: helpText(ctx.prefix, input.topic) };
  },
};
