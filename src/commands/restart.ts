/**
 * `restart`: replace a system's pod, as `kubectl rollout restart` does (k8s/rollout-restart.ts):
 * a fresh container, the same Deployment, Service and URL. For a notebook whose kernel is stuck,
 * or an app that needs a clean start after a crash. Only its owner or an admin may, as for `down`.
 */
import type { SystemInfo } from '../k8s/spec.js';
import { checkName } from '../k8s/validate.js';
import { authorizeChange } from '../policy/owner.js';
import { restartBinding } from '../api/bindings/restart.js';
import { NAME_FLAG, nameFlagOrWord, type CommandModule, type FlagReader } from './command.js';

export interface RestartInput {
  kind: 'restart';
  name: string;
}

export interface RestartResult {
  kind: 'restart';
  /** The system as it was when the restart was asked; its new pod follows. */
  system: SystemInfo;
}

export const restartCommand: CommandModule<'restart', RestartInput, RestartResult> = {
  name: 'restart',
  usage: 'restart -n NAME',
  summary: "Replace NAME's pod with a fresh one (as kubectl rollout restart does); its URL stays the same.",
  flags: [NAME_FLAG],
  read(r: FlagReader) {
    const name = nameFlagOrWord(r);
    if (name === undefined) r.refuse('Say which system to restart with -n NAME.');
    r.check(checkName(name));
    return { kind: 'restart', name };
  },
  async run(input, ctx) {
    if (!ctx.caller.isAdmin) await authorizeChange(ctx.launcher, ctx.caller, input.name, 'restart');
    return { kind: 'restart', system: await ctx.launcher.restart(input.name, ctx.caller.owner.id) };
  },
  text: (r) => `Restarting ${r.system.name}: its pod is being replaced.`,
  rest: restartBinding,
};
