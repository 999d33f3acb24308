/**
 * `extend`: keep a system longer. Its expiry moves by --ttl (else the operator's default TTL),
 * added to what is left and capped at now + the maximum (k8s/expiry.ts). Only its owner or an
 * admin may, as for `down`.
 */
import type { SystemInfo } from '../k8s/spec.js';
import { checkDuration } from '../k8s/expiry.js';
import { checkName } from '../k8s/validate.js';
import { NAME_FLAG, nameFlagOrWord, type CommandModule, type FlagReader } from './command.js';
import { authorizeTeardown } from './down.js';
import { enforceMaxTtl, TTL_FLAG } from './up.js';
import { extendBinding } from '../api/bindings/extend.js';

export interface ExtendInput {
  kind: 'extend';
  name: string;
  /** As typed (e.g. "1h"); unset: the default TTL. */
  ttl?: string;
  /** A button's: the expiry it was made for, so a second click of it extends nothing (no flag). */
  from?: string;
  /**
   * A button's: the ts of the message it sits on. A thread's expiry warning is then retired in the
   * extend's own write (the click updates that message itself, saying who and to when), so the
   * thread's reconciler does not update it a second time.
   */
  retires?: string;
}

export interface ExtendResult {
  kind: 'extend';
  /** The system with its new expiry. */
  system: SystemInfo;
  /** The operator's maximum cut the extension short. */
  capped: boolean;
  /** Nothing done: it was already extended since the button was made. */
  already?: boolean;
}

export const extendCommand: CommandModule<'extend', ExtendInput, ExtendResult> = {
  name: 'extend',
  usage: 'extend -n NAME [--ttl 1h]',
  summary: "Keep NAME longer: its expiry moves by --ttl (default: the operator's default TTL), up to the maximum.",
  flags: [NAME_FLAG, TTL_FLAG],
  read(r: FlagReader) {
    const ttl = r.single('ttl');
    const name = nameFlagOrWord(r);
    if (name === undefined) r.refuse('Say which system to extend with -n NAME.');
    r.check(checkName(name));
    if (ttl === undefined) return { kind: 'extend', name };
    r.check(checkDuration(ttl));
    return { kind: 'extend', name, ttl };
  },
  async run(input, ctx) {
    enforceMaxTtl(input.ttl, ctx, 'extend');
    if (!ctx.caller.isAdmin) await authorizeTeardown(ctx.launcher, ctx.caller, input.name, 'extend');
    const { system, capped, already } = await ctx.launcher.extend(input.name, { ...(input.ttl !== undefined ? { ttl: input.ttl } : {}), ...(input.from !== undefined ? { from: input.from } : {}), ...(input.retires !== undefined ? { retires: input.retires } : {}), by: ctx.caller.owner.id });
    return { kind: 'extend', system, capped, ...(already ? { already } : {}) };
  },
  rest: extendBinding,
};
