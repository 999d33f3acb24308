/**
 * Only a system's owner or an admin may change it: tear it down, extend it. One function for
 * every command and button that changes an existing system (down, extend, their buttons).
 */
import { NotOwner } from '../k8s/errors.js';
import type { SystemInfo } from '../k8s/spec.js';
import type { SystemLauncher } from '../k8s/system-launcher.js';
import type { Caller } from '../commands/command.js';

/** `read the logs of`: a log is posted where a channel reads it, so it is the owner's to show (commands/logs.ts). */
export type ChangeVerb = 'tear down' | 'extend' | 'read the logs of' | 'restart';

/** Checks that the caller may change the system; returns the system as it is now (NotFound when there is none). */
export async function authorizeChange(launcher: SystemLauncher, caller: Caller, name: string, verb: ChangeVerb): Promise<SystemInfo> {
  const system = await launcher.status(name);
  if (!caller.isAdmin && system.ownerId !== caller.owner.id) throw new NotOwner(name, system.owner, system.ownerId, verb);
  return system;
}
