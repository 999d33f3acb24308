/**
 * One coded error class per failure kind. The launcher and the command layer throw these;
 * each front end (Slack, REST, CLI) turns them into its own shape in exactly one place.
 * `message` is always a sentence a person can act on; it never holds a raw API body.
 */
export const TYCHO_ERROR_CODES = [
  'usage',
  'name_in_use',
  'not_found',
  'already_terminating',
  'torn_down',
  'forbidden',
  'unauthorized',
  'not_owner',
  'policy',
  'image_pull_failed',
  'crash_looping',
  'container_config',
  'unschedulable',
  'quota_exceeded',
  'timeout',
  'cluster_unreachable',
  'invalid_spec',
  'claim_unavailable',
  'rollback_incomplete',
  'internal',
] as const;

/** Every code, as the REST schema publishes it (src/api/wire.ts reads TYCHO_ERROR_CODES). */
export type TychoErrorCode = (typeof TYCHO_ERROR_CODES)[number];

export abstract class TychoError extends Error {
  abstract readonly code: TychoErrorCode;
  /**
   * Set when a launch failed and its objects were left for inspection (TYCHO_ON_FAILURE=keep):
   * the name of the system to tear down. Each front end words the hint its own way.
   */
  leftInPlace?: string;
  /**
   * Set when a launch failed half-way and what it made was undone (or is being undone): its
   * Deployment's uid, so the Slack front end can close that system's thread record with its own
   * failure reply (the reconciler then says nothing more of it).
   */
  undoneUid?: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A word of a person's input quoted back at more than 80 characters (a name, a port, a flag of
 * thousands) is cut to its start and end: the sentence around it stays one a person can read.
 */
const LONG_WORD = /\S{81,}/g;
/**
 * Control characters (a newline in an argv word) and bidirectional overrides quoted back are
 * shown escaped (`\n`, `\u202e`): the sentence stays on one line and reads in its own order.
 */
const INVISIBLE = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;
const escaped = (c: string) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** A quoted stretch of input (`"…"`) of more than 80 characters, spaces and all. */
const LONG_QUOTE = /"[^"]{81,}"/g;
/**
 * A sentence that quotes input, fit to show: control characters escaped, and a long quote or
 * word cut to its start and end. For every message that echoes what a person sent (the usage
 * errors here, the REST API's field errors).
 */
export const shortened = (message: string) =>
  message
    .replace(INVISIBLE, escaped)
    .replace(LONG_QUOTE, (q) => `${q.slice(0, 61)}…"`)
    .replace(LONG_WORD, (w) => `${w.slice(0, 60)}…${w.slice(-4)}`);

/** Bad input from a person: the front end shows this sentence and the usage line. */
export class UsageError extends TychoError {
  readonly code = 'usage' as const;
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(shortened(message));
  }
}

export class NameInUse extends TychoError {
  readonly code = 'name_in_use' as const;
  constructor(
    readonly systemName: string,
    readonly owner?: string,
    readonly since?: string,
    /** The owner's recorded identity ("slack:U…"), so a front end can tell a real Slack user from a typed name. */
    readonly ownerId?: string,
  ) {
    super(
      owner
        ? `The name "${systemName}" is already in use by ${owner}${since ? ` since ${since}` : ''}. Pick another name, or tear that one down first.`
        : `The name "${systemName}" is already taken by an object Tycho did not create. Pick another name.`,
    );
  }
}

export class NotFound extends TychoError {
  readonly code = 'not_found' as const;
  constructor(readonly systemName: string) {
    super(`There is no system named "${systemName}".`);
  }
}

/**
 * Someone tore the system down while its launch was still waiting for it to be ready. Not
 * `not_found`: the name was right and the system existed; someone else removed it.
 */
export class TornDownWhileLaunching extends TychoError {
  readonly code = 'torn_down' as const;
  constructor(readonly systemName: string) {
    super(`"${systemName}" was torn down while it was starting.`);
  }
}

export class Forbidden extends TychoError {
  readonly code = 'forbidden' as const;
}

/** A caller of Tycho's own front ends without the right credentials (API token, Slack owner). */
export class Unauthorized extends TychoError {
  readonly code = 'unauthorized' as const;
}

/** The failure kinds below come from the pod itself; `detail` holds the pod's own message. */
abstract class PodFailure extends TychoError {
  constructor(
    readonly systemName: string,
    readonly reason: string,
    readonly detail: string,
    summary: string,
  ) {
    super(detail ? `${summary} (${reason}: ${detail})` : `${summary} (${reason}).`);
  }
}

export class ImagePullFailed extends PodFailure {
  readonly code = 'image_pull_failed' as const;
  constructor(systemName: string, image: string, reason: string, detail: string) {
    super(systemName, reason, detail, `The image "${image}" could not be pulled. Check its name and tag, and that the cluster can reach its registry`);
  }
}

export class CrashLooping extends PodFailure {
  readonly code = 'crash_looping' as const;
  constructor(systemName: string, reason: string, detail: string) {
    super(systemName, reason, detail, `The container of "${systemName}" keeps exiting right after it starts. Check its command and logs`);
  }
}

export class ContainerConfigError extends PodFailure {
  readonly code = 'container_config' as const;
  constructor(systemName: string, reason: string, detail: string) {
    super(systemName, reason, detail, `The container of "${systemName}" could not be created from its configuration`);
  }
}

export class Unschedulable extends PodFailure {
  readonly code = 'unschedulable' as const;
  constructor(systemName: string, detail: string) {
    super(systemName, 'Unschedulable', detail, `No node can run "${systemName}" with the resources it asks for. Ask for less cpu, memory or gpu`);
  }
}

/**
 * The namespace's ResourceQuota or LimitRange refused the system's pod: the ReplicaSet could not
 * create it (FailedCreate), and no pod will come however long one waits. `detail` is the
 * refusal in Kubernetes' words, cut to the quota's own sentence (quota-refusal in pod-verdict.ts).
 */
export class QuotaExceeded extends TychoError {
  readonly code = 'quota_exceeded' as const;
  constructor(
    readonly systemName: string,
    readonly detail: string,
  ) {
    super(`The namespace's quota or limits refused the pod of "${systemName}": ${detail}.`);
  }
}

export class Timeout extends TychoError {
  readonly code = 'timeout' as const;
  constructor(
    readonly systemName: string,
    readonly seconds: number,
    readonly lastState: string,
  ) {
    super(`"${systemName}" was not ready after ${seconds} s (last seen: ${lastState}).`);
  }
}

export class ClusterUnreachable extends TychoError {
  readonly code = 'cluster_unreachable' as const;
}

/** The API server rejected an object Tycho built (e.g. an invalid quantity that slipped past the parser). */
export class InvalidSpec extends TychoError {
  readonly code = 'invalid_spec' as const;
}

/** A --volume claim that does not exist, or that the operator does not allow to be mounted. Nothing was created. */
export class ClaimUnavailable extends TychoError {
  readonly code = 'claim_unavailable' as const;
}

/**
 * A launch failed half-way, and Tycho could not remove what it had made within the time it
 * waits for that: the message says why the launch failed, exactly what is still in the cluster,
 * and how to remove it. `failure` is why the launch failed.
 */
export class RollbackIncomplete extends TychoError {
  readonly code = 'rollback_incomplete' as const;
  constructor(
    readonly systemName: string,
    readonly failure: TychoError,
    /** What is still in the cluster, e.g. 'the Deployment "x" (with its pods)'. */
    readonly left: string,
    seconds: number,
    /** A server goes on undoing it in the background; a CLI process that exits does not. */
    keepsTrying: boolean,
  ) {
    super(
      `${failure.message} Tycho could not remove what it had made within ${seconds} s: ${left} is still in the cluster. ` +
        `${keepsTrying ? 'Tycho keeps trying to remove it; to' : 'To'} remove it yourself once Kubernetes answers, tear "${systemName}" down (down ${systemName}).`,
    );
    this.leftInPlace = systemName;
  }
}

export class InternalError extends TychoError {
  readonly code = 'internal' as const;
}

export function isTychoError(e: unknown): e is TychoError {
  return e instanceof TychoError;
}

/** Someone other than the owner (or an admin) tried to change a system. */
export class NotOwner extends TychoError {
  readonly code = 'not_owner' as const;
  constructor(
    readonly systemName: string,
    readonly owner: string,
    /** The owner's recorded identity ("slack:U…"), so a front end can tell a real Slack user from a typed name. */
    readonly ownerId?: string,
    /** What was refused, as a verb: "tear down", "extend", "read the logs of". */
    action = 'tear down',
  ) {
    super(`Only ${owner || 'its owner'} or an admin can ${action} "${systemName}".`);
  }
}

/**
 * The operator's policy (src/policy) does not allow this request: an allowed channel or user,
 * the image allowlist, the most systems per person or in all. `rule` is the policy file's key
 * that decided; the message is one sentence that names it. Nothing was created or changed.
 */
/**
 * The system is already on its way out: being deleted (by another process, or one before a
 * restart), or marked by the reaper for removal. A refusal of what the state allows, not a
 * failure of Tycho's: tearing it down again or extending it changes nothing.
 */
export class AlreadyTerminating extends TychoError {
  readonly code = 'already_terminating' as const;
  constructor(
    readonly systemName: string,
    message = `"${systemName}" is already being torn down.`,
  ) {
    super(message);
  }
}

export class PolicyRefused extends TychoError {
  readonly code = 'policy' as const;
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The system exists but has no log to show: no pod yet, a container that has not started, or
 * --previous when its container never restarted. A `not_found` (what was asked for is not
 * there), with its own sentence.
 */
export class NoLogs extends TychoError {
  readonly code = 'not_found' as const;
  constructor(
    readonly systemName: string,
    why: string,
  ) {
    super(why);
  }
}

/** A pod's own failure (pod-verdict.ts), as the coded error every front end knows how to explain. */
export function podFailureError(name: string, image: string, f: { kind: 'image' | 'crash' | 'config' | 'unschedulable' | 'quota'; reason: string; detail: string }): TychoError {
  if (f.kind === 'quota') return new QuotaExceeded(name, f.detail);
  if (f.kind === 'image') return new ImagePullFailed(name, image, f.reason, f.detail);
  if (f.kind === 'crash') return new CrashLooping(name, f.reason, f.detail);
  if (f.kind === 'config') return new ContainerConfigError(name, f.reason, f.detail);
  return new Unschedulable(name, f.detail);
}
