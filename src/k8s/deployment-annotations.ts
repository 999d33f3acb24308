/**
 * The one write Tycho makes to a running system's Deployment: a merge patch of its own
 * annotations (URL checks, where its Slack messages live, who tore it down). Other annotations
 * are kept. With `resourceVersion` it is also a precondition: the write fails with 409 if the
 * Deployment changed since it was read. Errors are the API's own; each caller says what failed.
 */
import { PatchStrategy, setHeaderOptions, type AppsV1Api, type V1Deployment } from '@kubernetes/client-node';

export function patchDeploymentAnnotations(
  apps: AppsV1Api,
  target: { namespace: string; name: string; annotations: Record<string, string>; resourceVersion?: string | undefined },
): Promise<V1Deployment> {
  const { namespace, name, annotations, resourceVersion } = target;
  return apps.patchNamespacedDeployment(
    { namespace, name, body: { metadata: { annotations, ...(resourceVersion ? { resourceVersion } : {}) } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
