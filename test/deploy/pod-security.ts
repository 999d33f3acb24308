/**
 * The Pod Security Standards (kubernetes.io/docs/concepts/security/pod-security-standards/)
 * that Pod Security admission enforces from a namespace's `pod-security.kubernetes.io/*`
 * labels, as checks on a pod spec. The local API server (1.20) predates Pod Security
 * admission, so the tests ask these instead: would a pod be admitted under `baseline`, and
 * would `restricted` warn about it? Each problem is named the way the standard names it.
 */
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';

export type PodSecurityLevel = 'baseline' | 'restricted';

const BASELINE_CAPABILITIES = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const RESTRICTED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

function containersOf(spec: V1PodSpec): V1Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers, ...((spec.ephemeralContainers ?? []) as V1Container[])];
}

function baseline(spec: V1PodSpec): string[] {
  const problems: string[] = [];
  const cs = containersOf(spec);
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) problems.push('host namespaces');
  if (spec.securityContext?.windowsOptions?.hostProcess || cs.some((c) => c.securityContext?.windowsOptions?.hostProcess)) problems.push('HostProcess');
  if (cs.some((c) => c.securityContext?.privileged)) problems.push('privileged containers');
  if (cs.some((c) => (c.securityContext?.capabilities?.add ?? []).some((a) => !BASELINE_CAPABILITIES.includes(a)))) problems.push('capabilities');
  if ((spec.volumes ?? []).some((v) => v.hostPath)) problems.push('hostPath volumes');
  if (cs.some((c) => (c.ports ?? []).some((p) => p.hostPort))) problems.push('host ports');
  if ([spec.securityContext?.seLinuxOptions, ...cs.map((c) => c.securityContext?.seLinuxOptions)].some((o) => o?.user || o?.role)) problems.push('SELinux');
  if (cs.some((c) => (c.securityContext?.procMount ?? 'Default') !== 'Default')) problems.push('/proc mount type');
  if ([spec.securityContext?.seccompProfile, ...cs.map((c) => c.securityContext?.seccompProfile)].some((p) => p?.type === 'Unconfined')) problems.push('seccomp');
  if ((spec.securityContext?.sysctls ?? []).length) problems.push('sysctls');
  return problems;
}

function restricted(spec: V1PodSpec): string[] {
  const problems = baseline(spec);
  const cs = containersOf(spec);
  const pod = spec.securityContext;
  if ((spec.volumes ?? []).some((v) => !Object.keys(v).some((k) => k !== 'name' && RESTRICTED_VOLUMES.includes(k)))) problems.push('volume types');
  if (cs.some((c) => c.securityContext?.allowPrivilegeEscalation !== false)) problems.push('privilege escalation');
  if (cs.some((c) => !(c.securityContext?.runAsNonRoot ?? pod?.runAsNonRoot))) problems.push('running as non-root');
  if (pod?.runAsUser === 0 || cs.some((c) => c.securityContext?.runAsUser === 0)) problems.push('running as non-root user');
  const confined = (t: string | undefined) => t === 'RuntimeDefault' || t === 'Localhost';
  if (cs.some((c) => !confined(c.securityContext?.seccompProfile?.type ?? pod?.seccompProfile?.type))) problems.push('seccomp (restricted)');
  const caps = cs.map((c) => c.securityContext?.capabilities);
  if (caps.some((c) => !(c?.drop ?? []).includes('ALL') || (c?.add ?? []).some((a) => a !== 'NET_BIND_SERVICE'))) problems.push('capabilities (restricted)');
  return problems;
}

/** What Pod Security admission at `level` would object to in a pod with this spec ([] = admitted). */
export function podSecurityProblems(spec: V1PodSpec, level: PodSecurityLevel): string[] {
  return level === 'baseline' ? baseline(spec) : restricted(spec);
}
