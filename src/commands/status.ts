/** `status`: one system (with -n), or all of them. */
import type { SystemInfo } from '../k8s/spec.js';
import { checkName } from '../k8s/validate.js';
import { statusBinding } from '../api/bindings/status.js';
import { visibleSystems } from '../policy/enforce.js';
import { NAME_FLAG, nameFlagOrWord, type CommandModule, type FlagReader } from './command.js';

export interface StatusInput {
  kind: 'status';
  name?: string;
}

export interface StatusResult {
  kind: 'status';
  /** Exactly one when a name was asked for. */
  systems: SystemInfo[];
  name?: string;
}

export const statusCommand: CommandModule<'status', StatusInput, StatusResult> = {
  name: 'status',
  usage: 'status [-n NAME]',
  summary: 'Show one system, or all of them: ready or not (and why), URL, image, owner, age.',
  flags: [NAME_FLAG],
  legacyFlag: true,
  read(r: FlagReader) {
    const name = nameFlagOrWord(r);
    if (name === undefined) return { kind: 'status' };
    r.check(checkName(name));
    return { kind: 'status', name };
  },
  async run(input, ctx) {
    return input.name
      ? { kind: 'status', systems: [await ctx.launcher.status(input.name)], name: input.name }
      : { kind: 'status', systems: visibleSystems(await ctx.launcher.list(), ctx) };
  },
  rest: statusBinding,
};
