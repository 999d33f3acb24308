/** `list`: every system Tycho runs here. */
import type { SystemInfo } from '../k8s/spec.js';
import { listCall } from '../api/bindings/status.js';
import { refuseStrayWords, type CommandModule, type FlagReader } from './command.js';

export interface ListInput {
  kind: 'list';
}

export interface ListResult {
  kind: 'list';
  systems: SystemInfo[];
}

export const listCommand: CommandModule<'list', ListInput, ListResult> = {
  name: 'list',
  usage: 'list',
  summary: 'List every system Tycho runs here.',
  flags: [],
  legacyFlag: true,
  read(r: FlagReader) {
    refuseStrayWords(r);
    return { kind: 'list' };
  },
  async run(_input, ctx) {
    return { kind: 'list', systems: await ctx.launcher.list() };
  },
  rest: listCall,
};
