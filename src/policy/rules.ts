/**
 * Who may do what, as the operator wrote it in the policy file (policy-file.ts) and the
 * environment: the rules the command layer checks on every mutating action (enforce.ts).
 * Each check here is a pure function of the request and the policy, and a refusal is one
 * sentence naming the rule by its key in the policy file, so a person knows what to ask for.
 */
import type { SystemInfo } from '../k8s/spec.js';
import { imageAllowed, type ImageRule } from './images.js';

export type ListScope = 'namespace' | 'channel';

export interface AccessPolicy {
  /** Slack channel IDs Tycho takes commands in; null: any channel it is in. */
  channels: readonly string[] | null;
  /** Slack user IDs who may use Tycho; null: anyone in those channels. Admins always may. */
  users: readonly string[] | null;
  /** Images must fall under one of these; null: any image. */
  images: readonly ImageRule[] | null;
  /** Systems one person may have at once; null: no limit. */
  maxPerUser: number | null;
  /** Systems Tycho may run at once in its namespace; null: no limit. */
  maxTotal: number | null;
  /** What `list` (and `status` without a name) shows a Slack caller: every system, or those launched from the asking channel. */
  listScope: ListScope;
}

export const OPEN_POLICY: AccessPolicy = { channels: null, users: null, images: null, maxPerUser: null, maxTotal: null, listScope: 'namespace' };

/** A rule's key in the policy file: what each refusal and audit line names. */
export type RuleName = 'channels.allow' | 'users.allow' | 'images.allow' | 'systems.maxPerUser' | 'systems.maxTotal' | 'owner' | `limits.${string}`;

export interface Refusal {
  rule: RuleName;
  /** One sentence ending with "(policy: RULE)". */
  message: string;
}

const orList = (xs: readonly string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

export function checkChannel(channel: string | undefined, p: AccessPolicy): Refusal | null {
  if (!p.channels || (channel && p.channels.includes(channel))) return null;
  return { rule: 'channels.allow', message: 'Tycho does not take commands in this channel; use one of the channels it serves, or ask an admin (policy: channels.allow).' };
}

export function checkUser(userId: string, p: AccessPolicy): Refusal | null {
  if (!p.users || p.users.includes(userId)) return null;
  return { rule: 'users.allow', message: 'You are not among the people who may use Tycho here; ask an admin to add you (policy: users.allow).' };
}

export function checkImage(image: string, p: AccessPolicy): Refusal | null {
  if (!p.images || imageAllowed(image, p.images)) return null;
  return { rule: 'images.allow', message: `Images must come from ${orList(p.images.map((r) => r.text))} (policy: images.allow).` };
}

/** Systems that still count: one being torn down is on its way out. */
const counted = (systems: readonly SystemInfo[]) => systems.filter((s) => s.stage !== 'terminating');

/** The caller's and everyone's systems against the maxima, before a launch adds one. */
export function checkCounts(ownerId: string, systems: readonly SystemInfo[], p: AccessPolicy): Refusal | null {
  const live = counted(systems);
  if (p.maxPerUser !== null) {
    const mine = live.filter((s) => s.ownerId === ownerId).length;
    if (mine >= p.maxPerUser) {
      return { rule: 'systems.maxPerUser', message: `You already have ${plural(mine, 'system')}, the most one person may have here; tear one down first (policy: systems.maxPerUser).` };
    }
  }
  if (p.maxTotal !== null && live.length >= p.maxTotal) {
    return { rule: 'systems.maxTotal', message: `Tycho already runs ${plural(live.length, 'system')}, the most it may run here; tear one down first, or ask an admin (policy: systems.maxTotal).` };
  }
  return null;
}

/** `list` for a Slack caller under `list.scope: channel`: only the systems launched from that channel. */
export function inScope(systems: SystemInfo[], p: AccessPolicy, channel: string | undefined, channelOf: (s: SystemInfo) => string | undefined): SystemInfo[] {
  if (p.listScope !== 'channel' || channel === undefined) return systems;
  return systems.filter((s) => channelOf(s) === channel);
}
