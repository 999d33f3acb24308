/**
 * Undoing a launch that failed half-way (launcher.ts): its Deployment was made, and a later write
 * (its Secret, Service or Ingress) failed. An undo whose delete fails in silence leaves a
 * half-made system: the repair then completes it (system-repair.ts), and a thread that said
 * "failed" later says "Ready". So the undo is tried again, with backoff, for a bounded time (an
 * API server that failed the create is often back within seconds), and its result is told true:
 * - undone: the launch's own failure is thrown, and nothing of it is left;
 * - not undone in time: RollbackIncomplete names what is still in the cluster and how to remove
 *   it, and a server (a process that lives on) keeps trying in the background.
 * Deleting the Deployment is the whole undo: its Service, Ingress, Secret and pods are its
 * dependents, and go with it. A delete that is refused while the API server still answers other
 * writes (a webhook, a partial outage) is not the only case: every undo first marks the Deployment
 * `tycho.renci.org/repair: off` and `deleted-by: tycho:undo` (see mark()).
 */
import { PatchStrategy, setHeaderOptions, type AppsV1Api } from '@kubernetes/client-node';
import { ClusterUnreachable, RollbackIncomplete, type TychoError } from './errors.js';
import { isConflict, isNotFound, toTychoError } from './kube.js';
import { ANN_REPAIR, REPAIR_OFF } from './system-repair.js';
import { ANN_DELETED_BY, LAUNCH_UNDONE } from './labels.js';
import type { Logger } from '../log.js';

/** What a half-made launch made, as the undo needs it. */
export interface HalfMade {
  name: string;
  /** The Deployment's uid: the undo never deletes a later system of the same name. */
  uid: string;
  /** Said to the caller if it stays: e.g. `the Deployment "x" (with its pods and its Service)`. */
  left: string;
}

export interface RollbackOptions {
  /** How long the caller waits for the undo before it hears what was left. */
  seconds: number;
  /** How long the undo then goes on in the background (0: not at all, for a process about to exit). */
  backgroundSeconds: number;
  log: Logger;
}

/** The first wait between tries, doubled after each up to the last: an outage of seconds is met within a second of its end. */
const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;
/** One try's bound: a request to an API server that has gone silent must not hold the caller past its time. */
const TRY_TIMEOUT_MS = 5_000;

/**
 * Removes what a launch made, and returns the error its caller must see: `failure` itself when
 * everything is gone, else RollbackIncomplete saying what is still there.
 */
export async function rollBack(apps: AppsV1Api, namespace: string, made: HalfMade, failure: TychoError, o: RollbackOptions): Promise<TychoError> {
  const undo = new Undo(apps, namespace, made, o.log);
  const stillThere = await undo.tryFor(o.seconds * 1000, true);
  if (!stillThere) return failure;
  o.log.warn('could not undo a failed launch in time; told its caller what is left', { system: made.name, uid: made.uid, error: stillThere.message });
  if (o.backgroundSeconds > 0) {
    void undo.tryFor(o.backgroundSeconds * 1000, false).then((e) => {
      if (e) o.log.error('gave up undoing a failed launch; it must be torn down by hand', { system: made.name, uid: made.uid, error: e.message });
      else o.log.info('undid a failed launch in the background', { system: made.name, uid: made.uid });
    });
  }
  return new RollbackIncomplete(made.name, failure, made.left, o.seconds, o.backgroundSeconds > 0);
}

class Undo {
  private marked = false;

  constructor(
    private readonly apps: AppsV1Api,
    private readonly namespace: string,
    private readonly made: HalfMade,
    private readonly log: Logger,
  ) {}

  /**
   * Tries until done or `ms` have passed. Returns why it is not done, or undefined when it is.
   * `awaited`: someone waits on it, so its pauses keep the process alive (the CLI's does); a
   * background undo's do not.
   */
  async tryFor(ms: number, awaited: boolean): Promise<TychoError | undefined> {
    const deadline = Date.now() + ms;
    let delay = FIRST_DELAY_MS;
    for (let attempt = 1; ; attempt++) {
      const failed = await this.once(deadline);
      if (!failed) return undefined;
      if (Date.now() + delay >= deadline) return failed;
      this.log.info('could not undo a failed launch yet; trying again', { system: this.made.name, attempt, retryInMs: delay, error: failed.message });
      await sleep(delay, awaited);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }

  /** One try: the mark (once), then the delete. Undefined when the Deployment is gone. */
  private async once(deadline: number): Promise<TychoError | undefined> {
    const { name, uid } = this.made;
    const limit = Math.max(1, Math.min(TRY_TIMEOUT_MS, deadline - Date.now()));
    // Marked before it is deleted, so that whoever sees it meanwhile (the Slack reconciler, the
    // repair, another replica) knows it is being undone. A mark that fails does not stop the delete.
    if (!this.marked) this.marked = await within(limit, this.mark()).then(() => true, (e: unknown) => isNotFound(e));
    try {
      await within(limit, this.apps.deleteNamespacedDeployment({ namespace: this.namespace, name, propagationPolicy: 'Background', body: { propagationPolicy: 'Background', preconditions: { uid } } }));
      return undefined;
    } catch (e) {
      // Gone already (an earlier try's answer was lost), or the name is another system's now.
      if (isNotFound(e) || isConflict(e)) return undefined;
      return e instanceof TryTimedOut ? new ClusterUnreachable(`Kubernetes did not answer within ${Math.ceil(e.ms / 1000)} s when Tycho tried to delete the Deployment.`) : toTychoError(e, 'delete the Deployment');
    }
  }

  /**
   * `repair: off` (no repair brings back its Service, even if this process dies before the delete
   * gets through) and `deleted-by: tycho:undo` (its Slack thread, told it failed, hears nothing
   * more), on this very Deployment only (a JSON patch's test of its uid).
   */
  private mark(): Promise<unknown> {
    const path = (key: string) => `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    return this.apps.patchNamespacedDeployment(
      {
        namespace: this.namespace,
        name: this.made.name,
        body: [
          { op: 'test', path: '/metadata/uid', value: this.made.uid },
          { op: 'add', path: path(ANN_REPAIR), value: REPAIR_OFF },
          { op: 'add', path: path(ANN_DELETED_BY), value: LAUNCH_UNDONE },
        ],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
  }
}

class TryTimedOut extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/** Stops waiting for `p` after ms (the request itself ends on its own; a delete is safe to repeat). */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TryTimedOut(ms)), ms);
    timer.unref();
  });
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A pause; one nobody waits on never keeps a finished process alive (the CLI exits, a server goes on). */
function sleep(ms: number, keepAlive: boolean): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(r, ms);
    if (!keepAlive) t.unref();
  });
}
