/**
 * The audit trail: every mutating action (up, down, extend, a button's teardown), allowed or
 * refused, is one structured log line, written once when its outcome is known (the command
 * layer writes it: src/policy/enforce.ts), and, where the system's Deployment exists, one
 * Kubernetes Event on it (src/k8s/events.ts). A line says who (the caller's identity:
 * slack:U…, api:NAME, cli:NAME), from where (the front end, and the Slack channel), what (the
 * action, the system, the image), which rule decided, and the result.
 *
 * What it never holds: tokens, and env values. The command as typed is not in it at all (its
 * masked copy is on the Deployment: commands/recorded.ts); only the image and the name are.
 */
import type { Logger } from './log.js';
import type { DeploymentEvents } from './k8s/events.js';
import { EXPIRED_BY } from './k8s/labels.js';
import { isTychoError } from './k8s/errors.js';

export type AuditResult = 'done' | 'refused' | 'failed';

export interface AuditEntry {
  /** The command: up, down, extend, restart; `expire` for the reaper's removal. */
  action: string;
  /** The caller's identity, as recorded on the systems it owns: slack:U…, api:NAME, cli:NAME. */
  who: string;
  /** The front end: slack (slash command), slack-button, rest, cli; `reaper` for an expiry. */
  via: string;
  /** The Slack channel the request came from. */
  channel?: string;
  system?: string;
  image?: string;
  /** The policy key that decided (images.allow, systems.maxPerUser, owner, admins, …); `policy` when every rule passed. */
  rule: string;
  result: AuditResult;
  /** The error code, when refused or failed. */
  code?: string;
  /** The sentence the caller was told, when refused. */
  reason?: string;
}

export interface AuditTrail {
  /** The uid of the system's Deployment as known now (taken before an action that removes it). */
  uidOf(name: string): string | undefined;
  /** Writes the line, and the Event when the Deployment exists (uid: taken before, or looked up). */
  record(entry: AuditEntry, uid?: string): void;
  /** Resolves once every Event begun so far is written (or given up): a CLI waits before it exits. */
  settled(): Promise<void>;
}

const EVENT_REASONS: Record<string, string> = { up: 'Launched', down: 'TornDown', extend: 'Extended', restart: 'Restarted', expire: 'Expired' };

export interface AuditTrailDeps {
  log: Pick<Logger, 'info' | 'warn'>;
  /** Where the Events go; without it, only the line. */
  events?: Pick<DeploymentEvents, 'record'>;
  /** The uid of a system's Deployment as the live view holds it. */
  uidOf?: (name: string) => string | undefined;
  /** Waits (on the live view's cache) for a just-created Deployment's uid; undefined if it does not come. */
  awaitUid?: (name: string) => Promise<string | undefined>;
}

function eventMessage(e: AuditEntry): string {
  const where = e.channel ? `${e.via} in ${e.channel}` : e.via;
  const outcome = e.result === 'done' ? 'done' : `${e.result}${e.code ? ` (${e.code})` : ''}`;
  return `${e.action} by ${e.who} via ${where}: ${outcome}; rule: ${e.rule}${e.reason ? `. ${e.reason}` : ''}`;
}

export function createAuditTrail(deps: AuditTrailDeps): AuditTrail {
  const log = deps.log;
  const pending = new Set<Promise<unknown>>();
  return {
    async settled() {
      await Promise.all([...pending]);
    },
    uidOf: (name) => deps.uidOf?.(name),
    record(entry, uid) {
      log.info('audit', { audit: entry });
      const { events } = deps;
      if (!events || !entry.system) return;
      const name = entry.system;
      const event = {
        type: entry.result === 'done' ? ('Normal' as const) : ('Warning' as const),
        reason: entry.result === 'done' ? (EVENT_REASONS[entry.action] ?? 'Changed') : entry.result === 'refused' ? 'Refused' : 'Failed',
        message: eventMessage(entry),
      };
      const known = uid ?? deps.uidOf?.(name);
      // A launch just made its Deployment; the live view has it a moment later.
      const found = known ? Promise.resolve(known) : entry.action === 'up' && entry.result === 'done' ? (deps.awaitUid?.(name) ?? Promise.resolve(undefined)) : Promise.resolve(undefined);
      const writing = found
        .then((u) => (u ? events.record({ name, uid: u }, event) : undefined))
        .catch((e: unknown) => log.warn('could not record the Event on the Deployment', { system: name, error: e instanceof Error ? e.message : String(e) }))
        .finally(() => pending.delete(writing));
      pending.add(writing);
    },
  };
}

/**
 * The reaper's removal of an expired system (k8s/reaper.ts), audited as the commands are: one
 * line and an `Expired` Event, written by the replica that marked and removed it (the mark is
 * the lock, so two replicas audit it once). The uid is taken before the system goes.
 */
export async function auditedExpiry(audit: AuditTrail, name: string, remove: () => Promise<unknown>): Promise<void> {
  const uid = audit.uidOf(name);
  const entry = { action: 'expire', who: EXPIRED_BY, via: 'reaper', system: name, rule: 'expiry' } as const;
  try {
    await remove();
    audit.record({ ...entry, result: 'done' }, uid);
  } catch (e) {
    audit.record({ ...entry, result: 'failed', code: isTychoError(e) ? e.code : 'internal' }, uid);
    throw e;
  }
}
