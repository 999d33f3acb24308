/**
 * The policy, applied in the shared command layer: runCommand runs every command through
 * `underPolicy`, so Slack (commands and buttons), REST and the CLI get the same rules, the same
 * refusals and one audit line per mutating action.
 *
 * Which rules apply to whom:
 * - a Slack user: all of them; an admin (admins, TYCHO_ADMINS) is exempt from all but the image
 *   allowlist;
 * - a REST caller holding the token (a portal acting for the person named in X-Tycho-Owner): the
 *   image allowlist, and the launch limits and system counts (per X-Tycho-Owner) unless
 *   TYCHO_API_TOKEN_UNLIMITED; it may change any system (the portal decides who may);
 * - the CLI in direct mode (a kubeconfig, which could do all of this with kubectl): the same as
 *   REST, with this environment's policy; in remote mode, the server's.
 */
import type { AuditEntry } from '../audit.js';
import { AlreadyTerminating, isTychoError, NotOwner, PolicyRefused, UsageError, type TychoError } from '../k8s/errors.js';
import { ANN_SLACK_CHANNEL } from '../k8s/labels.js';
import type { SystemInfo } from '../k8s/spec.js';
import type { RunContext } from '../commands/command.js';
import { launchPolicyRefusal } from '../commands/policy.js';
import type { UpInput } from '../commands/up.js';
import { usageLine } from '../commands/usage.js';
import { checkChannel, checkCounts, checkImage, checkUser, inScope, type Refusal } from './rules.js';

/** The commands that change something: each is audited, allowed or refused. */
const MUTATING: ReadonlySet<string> = new Set(['up', 'down', 'extend', 'restart']);

export const isMutating = (kind: string): boolean => MUTATING.has(kind);

type Verdict = { allowed: true; rule: string } | { allowed: false; rule: string; error: TychoError };

const refused = (r: Refusal): Verdict => ({ allowed: false, rule: r.rule, error: new PolicyRefused(r.rule, r.message) });

/** Any command's input, a module registered at run time's too. */
type Command = { kind: string };

const isUp = (cmd: Command): cmd is UpInput => cmd.kind === 'up';

/** The system a command names (up's new one, or the one it changes). */
function systemOf(cmd: Command): string | undefined {
  const c = cmd as { name?: string; args?: { name?: string } };
  return c.name ?? c.args?.name;
}

/** Checks every rule that applies to this command and caller; never throws for a refusal. */
export async function decide(cmd: Command, ctx: RunContext): Promise<Verdict> {
  const { access, caller } = ctx;
  const slackUser = caller.origin === 'slack' && !caller.isAdmin;
  if (access && slackUser && cmd.kind !== 'help') {
    const r = checkChannel(ctx.channel, access) ?? checkUser(caller.owner.id.replace(/^slack:/, ''), access);
    if (r) return refused(r);
  }
  if (isUp(cmd)) {
    const image = access && checkImage(cmd.args.image, access);
    if (image) return refused(image);
    const limit = launchPolicyRefusal(cmd.args, ctx.policy);
    if (limit) return { allowed: false, rule: limit.rule, error: new UsageError(limit.message, usageLine('up', ctx.prefix)) };
    // Counted from what the launcher lists (the live view's cache in a server): no request of its own.
    if (access && ctx.policy && (access.maxPerUser !== null || access.maxTotal !== null)) {
      const counts = checkCounts(caller.owner.id, await ctx.launcher.list(), access);
      if (counts) return refused(counts);
    }
    return { allowed: true, rule: caller.isAdmin && caller.origin === 'slack' ? 'admins' : 'policy' };
  }
  if (isMutating(cmd.kind)) return { allowed: true, rule: !caller.isAdmin ? 'owner' : caller.origin === 'slack' ? 'admins' : 'trusted client' };
  return { allowed: true, rule: 'policy' };
}

const VIA = { slack: 'slack', api: 'rest', cli: 'cli' } as const;

function entryOf(cmd: Command, ctx: RunContext, rule: string, result: AuditEntry['result'], e?: unknown): AuditEntry {
  const system = systemOf(cmd);
  const code = isTychoError(e) ? e.code : e === undefined ? undefined : 'internal';
  return {
    action: cmd.kind,
    who: ctx.caller.owner.id,
    via: ctx.via ?? VIA[ctx.caller.origin],
    ...(ctx.channel ? { channel: ctx.channel } : {}),
    ...(system ? { system } : {}),
    ...(isUp(cmd) ? { image: cmd.args.image } : {}),
    rule,
    result,
    ...(code ? { code } : {}),
    ...(result === 'refused' && e instanceof Error ? { reason: e.message } : {}),
  };
}

/** A refusal of the rules here, the owner check of the command itself, or of the system's state (on its way out). */
const isRefusal = (e: unknown) => e instanceof PolicyRefused || e instanceof NotOwner || e instanceof AlreadyTerminating;
const refusalRule = (e: unknown) => (e instanceof NotOwner ? 'owner' : e instanceof AlreadyTerminating ? 'already_terminating' : (e as PolicyRefused).rule);

/**
 * Runs a command under the policy: a refusal throws before anything is done; a mutating
 * command's outcome (done, refused, failed) is written to the audit trail once.
 */
export async function underPolicy<R>(cmd: Command, ctx: RunContext, run: () => Promise<R>): Promise<R> {
  const mutating = isMutating(cmd.kind);
  const name = systemOf(cmd);
  // Taken before the action: a teardown's Event goes on the Deployment it removes.
  const uid = mutating && name ? ctx.audit?.uidOf(name) : undefined;
  const record = (rule: string, result: AuditEntry['result'], e?: unknown, known = uid) => {
    if (mutating) ctx.audit?.record(entryOf(cmd, ctx, rule, result, e), known);
  };
  let verdict: Verdict;
  try {
    verdict = await decide(cmd, ctx);
  } catch (e) {
    record('policy', 'failed', e);
    throw e;
  }
  if (!verdict.allowed) {
    record(verdict.rule, 'refused', verdict.error);
    throw verdict.error;
  }
  try {
    const result = await run();
    // Without a view to ask before (a CLI), the Deployment the command read or made names itself.
    record(verdict.rule, 'done', undefined, uid ?? (result as { system?: SystemInfo } | undefined)?.system?.uid);
    return result;
  } catch (e) {
    if (isRefusal(e)) record(refusalRule(e), 'refused', e);
    else record(verdict.rule, 'failed', e);
    throw e;
  }
}

/**
 * A front end's own check before it answers (Slack's ack, a button before it touches messages):
 * a refusal is audited here and thrown; an allowed request is audited later, by runCommand. When
 * it cannot decide (the systems could not be counted), it lets the request on: runCommand decides
 * again, and its failure is told the way that front end tells failures (a Slack ack cannot wait).
 */
export async function precheck(cmd: Command, ctx: RunContext): Promise<void> {
  const verdict = await decide(cmd, ctx).catch(() => undefined);
  if (!verdict || verdict.allowed) return;
  if (isMutating(cmd.kind)) ctx.audit?.record(entryOf(cmd, ctx, verdict.rule, 'refused', verdict.error), systemOf(cmd) ? ctx.audit.uidOf(systemOf(cmd)!) : undefined);
  throw verdict.error;
}

/** `list` and `status` without a name under list.scope: channel, for a caller in Slack. */
export function visibleSystems(systems: SystemInfo[], ctx: Pick<RunContext, 'access' | 'channel'>): SystemInfo[] {
  return ctx.access ? inScope(systems, ctx.access, ctx.channel, (s) => s.annotations[ANN_SLACK_CHANNEL]) : systems;
}
