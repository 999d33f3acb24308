/**
 * The write of an extend: the new expiry on the Deployment, only if it is not on its way out.
 *
 * The reaper marks an expired system (`deleted-by: tycho:expiry`) before it deletes it, and a
 * `down` marks it too; an extend that moved the expiry after that would answer success for a
 * system that goes anyway. So the expiry is written with the resourceVersion of the read that
 * found the Deployment unmarked and not being deleted: a mark written in between changes the
 * resourceVersion, Kubernetes answers 409, and the read after it finds the mark and refuses.
 * (The reaper's own mark is guarded the same way, so an extend that lands first wins: reaper.ts.)
 * A 409 is usually only the deployment controller's status write: read again and retry.
 */
import type { AppsV1Api, V1Deployment } from '@kubernetes/client-node';
import { AlreadyTerminating, NotFound } from './errors.js';
import { isConflict, isNotFound, toTychoError } from './kube.js';
import { patchDeploymentAnnotations } from './deployment-annotations.js';
import * as labels from './labels.js';

/** Reads (and 409s) before giving up: each 409 means the Deployment changed just then. */
const ATTEMPTS = 6;

/** Why this Deployment may not be extended, or undefined: it is marked for removal, or being deleted. */
export function goingAway(name: string, d: V1Deployment): AlreadyTerminating | undefined {
  const by = d.metadata?.annotations?.[labels.ANN_DELETED_BY];
  if (by === labels.EXPIRED_BY) return new AlreadyTerminating(name, `"${name}" has expired and is being removed; it can no longer be extended.`);
  if (by || d.metadata?.deletionTimestamp) return new AlreadyTerminating(name, `"${name}" is already being torn down; it can no longer be extended.`);
  return undefined;
}

/**
 * Writes the expiry `next(current)` computes on the Deployment `name`, guarded as above.
 * `cached` (the live view's copy) saves the first read; a stale one costs a 409 and a read.
 * Returns the new expiry and what `next` said with it; `unchanged` results are not written.
 */
export async function writeExtendedExpiry<R extends { expires: string; unchanged?: boolean }>(
  apps: AppsV1Api,
  namespace: string,
  name: string,
  next: (current: string | undefined) => R,
  cached?: V1Deployment,
  alongside: (annotations: Record<string, string>) => Record<string, string> = () => ({}),
): Promise<R> {
  let d = cached;
  let lastConflict: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (!d) {
      try {
        d = await apps.readNamespacedDeployment({ namespace, name });
      } catch (e) {
        if (isNotFound(e)) throw new NotFound(name);
        throw toTychoError(e, 'read the Deployment');
      }
    }
    if (d.metadata?.labels?.[labels.LABEL_MANAGED_BY] !== labels.MANAGED_BY_VALUE) throw new NotFound(name);
    const refusal = goingAway(name, d);
    if (refusal) throw refusal;
    const result = next(d.metadata?.annotations?.[labels.ANN_EXPIRES]);
    // Nothing to write: `next` found the expiry already moved (a second click of one button).
    if (result.unchanged) return result;
    try {
      await patchDeploymentAnnotations(apps, { namespace, name, annotations: { ...alongside(d.metadata?.annotations ?? {}), [labels.ANN_EXPIRES]: result.expires }, resourceVersion: d.metadata?.resourceVersion });
      return result;
    } catch (e) {
      if (isNotFound(e)) throw new NotFound(name);
      if (!isConflict(e)) throw toTychoError(e, 'extend the Deployment');
      lastConflict = e;
      d = undefined;
    }
  }
  throw toTychoError(lastConflict, 'extend the Deployment (it kept changing; try again)');
}
