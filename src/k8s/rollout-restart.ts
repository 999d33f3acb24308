/**
 * `kubectl rollout restart` for one system: its pod template gets the annotation kubectl writes
 * (kubectl.kubernetes.io/restartedAt, the time), so the Deployment controller rolls out a new
 * ReplicaSet and replaces the pod the usual way (a new pod first, the old one once it is Ready).
 * One merge patch; other annotations are kept. Errors are the API's own; the launcher wraps them.
 */
import { PatchStrategy, setHeaderOptions, type AppsV1Api, type V1Deployment } from '@kubernetes/client-node';

/** The annotation kubectl writes; the same one, so `kubectl rollout history` reads alike. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export function rolloutRestart(apps: AppsV1Api, target: { namespace: string; name: string; uid?: string | undefined; at: Date }): Promise<V1Deployment> {
  const { namespace, name, uid, at } = target;
  return apps.patchNamespacedDeployment(
    {
      namespace,
      name,
      // The uid, when known, is a precondition: a system of the same name made since is not restarted.
      body: { ...(uid ? { metadata: { uid } } : {}), spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at.toISOString() } } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
