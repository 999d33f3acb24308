/** `list`: every system Tycho runs here (in Slack under list.scope: channel, those launched from the asking channel). */
import type { SystemInfo } from '../k8s/spec.js';
import { listCall } from '../api/bindings/status.js';
import { visibleSystems } from '../policy/enforce.js';
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
    return { kind: 'list', systems: visibleSystems(await ctx.launcher.list(), ctx) };
  },
  rest: listCall,
};
