/**
 * --volume mounts existing PersistentVolumeClaims only: Tycho never creates or deletes one.
 * Each claim is checked before anything is created, so a typo fails in seconds instead of
 * leaving a pod Pending on a claim that will never appear.
 */
import { ClaimUnavailable } from './errors.js';
import { callKubernetes, isNotFound, type KubeClients } from './kube.js';
import type { VolumeMount } from './spec.js';

export async function checkClaims(clients: KubeClients, namespace: string, volumes: readonly VolumeMount[], prefix: string | undefined): Promise<void> {
  const claims = [...new Set(volumes.map((v) => v.claim))];
  const outside = prefix === undefined ? undefined : claims.find((claim) => !claim.startsWith(prefix));
  if (outside !== undefined) {
    throw new ClaimUnavailable(`The claim ${outside} may not be mounted here: only claims whose names start with "${prefix}" may (the operator's setting TYCHO_VOLUME_CLAIM_PREFIX); nothing was created.`);
  }
  await Promise.all(
    claims.map((claim) =>
      callKubernetes(`check the PersistentVolumeClaim ${claim}`, async () => {
        try {
          await clients.core.readNamespacedPersistentVolumeClaim({ namespace, name: claim });
        } catch (e) {
          if (!isNotFound(e)) throw e;
          throw new ClaimUnavailable(`There is no PersistentVolumeClaim named ${claim} in namespace ${namespace}, so it cannot be mounted; nothing was created. Tycho mounts existing claims only: check the name, or ask for the claim to be made.`);
        }
      }),
    ),
  );
}
