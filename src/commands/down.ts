/** `down`: tear a system down. Only its owner or an admin may. */
import { authorizeChange, type ChangeVerb } from '../policy/owner.js';
import type { SystemInfo } from '../k8s/spec.js';
import type { SystemLauncher } from '../k8s/system-launcher.js';
import { NAME_FLAG, nameFlagOrWord, type Caller, type CommandModule, type FlagReader } from './command.js';
import { checkName } from '../k8s/validate.js';
import { deleteBinding } from '../api/bindings/delete.js';

export interface DownInput {
  kind: 'down';
  name: string;
}

export interface DownResult {
  kind: 'down';
  /** The system as it was when the teardown began. */
  system: SystemInfo;
}

/**
 * Checks that the caller may tear the system down (or, with `action`, change it otherwise:
 * "extend"); returns the system as it is now. The rule itself is policy/owner.ts's.
 */
export function authorizeTeardown(launcher: SystemLauncher, caller: Caller, name: string, action: ChangeVerb = 'tear down'): Promise<SystemInfo> {
  return authorizeChange(launcher, caller, name, action);
}

export const downCommand: CommandModule<'down', DownInput, DownResult> = {
  name: 'down',
  usage: 'down -n NAME',
  summary: 'Tear down NAME: its Deployment, Pods and Service.',
  flags: [NAME_FLAG],
  legacyFlag: true,
  read(r: FlagReader) {
    const name = nameFlagOrWord(r);
    if (name === undefined) r.refuse('Say which system to tear down with -n NAME.');
    r.check(checkName(name));
    return { kind: 'down', name };
  },
  async run(input, ctx) {
    // An admin's teardown needs no look first, unless the front end acts on the system before it goes.
    if (!ctx.caller.isAdmin || ctx.beforeChange) {
      const system = await authorizeTeardown(ctx.launcher, ctx.caller, input.name);
      await ctx.beforeChange?.(system);
    }
    return { kind: 'down', system: await ctx.launcher.down(input.name, ctx.caller.owner.id) };
  },
  rest: deleteBinding,
};
