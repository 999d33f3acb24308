/**
 * --secret-env: the values go into a Secret named after the system, owned by its Deployment
 * (so Kubernetes' garbage collector removes it with the system), and the pod reads them through
 * secretKeyRef. Neither the Deployment nor its annotations ever hold a value.
 *
 * The Deployment is created paused (see buildDeployment): its uid must exist before the Secret
 * can name it as owner, and a pod started before the Secret would fail with
 * CreateContainerConfigError. Once the Secret exists, the Deployment is unpaused.
 */
import { PatchStrategy, setHeaderOptions, type AppsV1Api, type V1Deployment } from '@kubernetes/client-node';
import { Forbidden, NameInUse } from './errors.js';
import { isConflict, isPermissionDenied, callKubernetes, toTychoError, type KubeClients } from './kube.js';
import { buildSecret } from './manifests.js';
import type { LaunchSpec } from './spec.js';

/** Where the README explains the opt-in, named in the refusal. */
export const SECRET_ENV_RBAC_HINT = 'the opt-in secret-env RBAC component (create on Secrets; see "Secret environment variables" in the README)';

export async function createSecretAndStart(c: KubeClients, namespace: string, spec: LaunchSpec, deployment: V1Deployment): Promise<void> {
  const owner = { name: deployment.metadata!.name!, uid: deployment.metadata!.uid! };
  try {
    await c.core.createNamespacedSecret({ namespace, body: buildSecret(spec, namespace, owner) });
  } catch (e) {
    if (isConflict(e)) throw new NameInUse(spec.name);
    // The base Role has no rights on Secrets at all; a quota refusal keeps its own wording.
    if (isPermissionDenied(e)) {
      throw new Forbidden(`Tycho is not allowed to create Secrets in namespace "${namespace}", so it cannot launch with --secret-env; nothing was created. The operator must enable ${SECRET_ENV_RBAC_HINT}.`);
    }
    throw toTychoError(e, 'create the Secret for --secret-env');
  }
  await callKubernetes('start the Deployment', () => startPausedDeployment(c.apps, namespace, owner.name));
}

/** Unpauses a Deployment created paused: here once its Secret exists, or by the repair (system-repair.ts). */
export function startPausedDeployment(apps: AppsV1Api, namespace: string, name: string): Promise<V1Deployment> {
  return apps.patchNamespacedDeployment({ namespace, name, body: { spec: { paused: false } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}
