/** Builds the Deployment, Service and Secret for a LaunchSpec. Pure functions: no API calls here. */
import type { V1Deployment, V1Service, V1EnvVar, V1Ingress, V1OwnerReference, V1Secret, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { cutText } from '../text.js';
import * as labels from './labels.js';
import { DEFAULT_RESOURCES, SERVICE_TYPES, serviceTypeOf, type LaunchSpec, type ServiceType } from './spec.js';
import type { IngressSettings } from './ingress.js';

export const GPU_RESOURCE = 'nvidia.com/gpu';
/** Kubernetes caps an annotation set at 256 KiB; the command note never needs that much. */
const MAX_COMMAND_ANNOTATION = 2000;

export function systemLabels(name: string): Record<string, string> {
  return { [labels.LABEL_MANAGED_BY]: labels.MANAGED_BY_VALUE, [labels.LABEL_NAME]: name, [labels.LABEL_SYSTEM]: name };
}

function selectorLabels(name: string): Record<string, string> {
  return { [labels.LABEL_MANAGED_BY]: labels.MANAGED_BY_VALUE, [labels.LABEL_SYSTEM]: name };
}

export function systemAnnotations(spec: LaunchSpec, now: Date): Record<string, string> {
  const a: Record<string, string> = {
    [labels.ANN_OWNER]: spec.owner.display,
    [labels.ANN_OWNER_ID]: spec.owner.id,
    [labels.ANN_ORIGIN]: spec.origin,
    [labels.ANN_CREATED]: now.toISOString(),
    ...spec.annotations,
  };
  if (spec.originalCommand) a[labels.ANN_COMMAND] = cutText(spec.originalCommand, MAX_COMMAND_ANNOTATION);
  if (spec.expires) a[labels.ANN_EXPIRES] = spec.expires;
  if (spec.expose) a[labels.ANN_SERVICE_TYPE] = serviceTypeOf(spec.expose);
  return a;
}

export function buildDeployment(spec: LaunchSpec, namespace: string, now = new Date()): V1Deployment {
  const r = spec.resources ?? {};
  const limits: Record<string, string> = {
    cpu: r.cpu ?? DEFAULT_RESOURCES.cpuLimit,
    memory: r.memory ?? DEFAULT_RESOURCES.memoryLimit,
  };
  // A request above the default limit would be rejected, so an explicit amount is both.
  const requests: Record<string, string> = {
    cpu: r.cpu ?? DEFAULT_RESOURCES.cpuRequest,
    memory: r.memory ?? DEFAULT_RESOURCES.memoryRequest,
  };
  if (r.gpu) limits[GPU_RESOURCE] = String(r.gpu);
  const env: V1EnvVar[] = [
    ...(spec.env ?? []).map((e) => ({ name: e.name, value: e.value })),
    // The values stay in the Secret; the pod spec only says where to find them.
    ...(spec.secretEnv ?? []).map((e) => ({ name: e.name, valueFrom: { secretKeyRef: { name: secretName(spec.name), key: e.name } } })),
  ];
  const hasSecret = (spec.secretEnv ?? []).length > 0;
  const { volumes, volumeMounts } = claimVolumes(spec);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.name, namespace, labels: systemLabels(spec.name), annotations: systemAnnotations(spec, now) },
    spec: {
      replicas: 1,
      // With secret values, no pod may start before its Secret exists (the launcher creates it
      // once the Deployment's uid is known for its owner reference, then unpauses).
      ...(hasSecret ? { paused: true } : {}),
      selector: { matchLabels: selectorLabels(spec.name) },
      template: {
        // The launch id marks this launch's pods, so a pod of an earlier system of the same name
        // (still being collected) is never taken for one of this one's (system-model.ts podsOf).
        metadata: { labels: systemLabels(spec.name), ...(spec.annotations?.[labels.ANN_LAUNCH_ID] ? { annotations: { [labels.ANN_LAUNCH_ID]: spec.annotations[labels.ANN_LAUNCH_ID] } } : {}) },
        spec: {
          automountServiceAccountToken: false,
          // Service links leak every other Service's address into the environment; apps don't need them.
          enableServiceLinks: false,
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          ...(volumes.length ? { volumes } : {}),
          containers: [
            {
              name: spec.name,
              image: spec.image,
              ...(spec.command && spec.command.length > 0 ? { args: spec.command } : {}),
              ports: spec.ports.map((p) => ({ containerPort: p, protocol: 'TCP' })),
              ...(env.length ? { env } : {}),
              resources: { requests, limits },
              ...(volumeMounts.length ? { volumeMounts } : {}),
              securityContext: {
                allowPrivilegeEscalation: false,
                seccompProfile: { type: 'RuntimeDefault' },
              },
            },
          ],
        },
      },
    },
  };
}

/** One pod volume per claim (a claim may be mounted at several paths, e.g. two of its directories). */
function claimVolumes(spec: LaunchSpec): { volumes: V1Volume[]; volumeMounts: V1VolumeMount[] } {
  const claims = [...new Set((spec.volumes ?? []).map((v) => v.claim))];
  const volumeName = (claim: string) => `claim-${claims.indexOf(claim)}`;
  return {
    // A pod may mount a claim read-only in one place and read-write in another; the claim itself stays writable.
    volumes: claims.map((claimName) => ({ name: volumeName(claimName), persistentVolumeClaim: { claimName } })),
    volumeMounts: (spec.volumes ?? []).map((v) => ({ name: volumeName(v.claim), mountPath: v.path, ...(v.readOnly ? { readOnly: true } : {}), ...(v.subPath ? { subPath: v.subPath } : {}) })),
  };
}

/** Owned by the Deployment, so Kubernetes' garbage collector removes it even if Tycho doesn't. */
function ownedBy(owner: { name: string; uid: string }): V1OwnerReference[] {
  return [{ apiVersion: 'apps/v1', kind: 'Deployment', name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }];
}

/** The Secret that holds a system's --secret-env values is named after the system. */
export function secretName(system: string): string {
  return system;
}

export function buildSecret(spec: LaunchSpec, namespace: string, owner: { name: string; uid: string }): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: secretName(spec.name), namespace, labels: systemLabels(spec.name), ownerReferences: ownedBy(owner) },
    stringData: Object.fromEntries((spec.secretEnv ?? []).map((e) => [e.name, e.value])),
  };
}

export function buildService(
  spec: Pick<LaunchSpec, 'name' | 'ports'>,
  namespace: string,
  owner: { name: string; uid: string },
  type: ServiceType,
): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: spec.name,
      namespace,
      labels: systemLabels(spec.name),
      ownerReferences: ownedBy(owner),
    },
    spec: {
      type,
      selector: selectorLabels(spec.name),
      ports: spec.ports.map((p, i) => ({ name: i === 0 ? 'http' : `port-${p}`, port: p, targetPort: p, protocol: 'TCP' })),
    },
  };
}

/**
 * The Ingress of a system exposed as `ingress`: one host, all paths to the Service's first port.
 * TLS always: the operator's TLS Secret, else one cert-manager fills in when its annotation is
 * configured, else none named (the controller's default certificate, e.g. a wildcard one).
 */
export function buildIngress(spec: Pick<LaunchSpec, 'name' | 'ports'>, namespace: string, owner: { name: string; uid: string }, settings: IngressSettings, host: string): V1Ingress {
  const certManager = Object.keys(settings.annotations).some((k) => k.startsWith('cert-manager.io/'));
  const secretName = settings.tlsSecret ?? (certManager ? `${spec.name}-tls` : undefined);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: spec.name,
      namespace,
      labels: systemLabels(spec.name),
      ...(Object.keys(settings.annotations).length ? { annotations: { ...settings.annotations } } : {}),
      ownerReferences: ownedBy(owner),
    },
    spec: {
      ...(settings.className ? { ingressClassName: settings.className } : {}),
      tls: [{ hosts: [host], ...(secretName ? { secretName } : {}) }],
      rules: [
        {
          host,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: spec.name, port: { number: spec.ports[0]! } } } }] },
        },
      ],
    },
  };
}

/**
 * The Service a Deployment of Tycho's should have, from what the Deployment records: its name,
 * its container's ports, the Service type in its annotations (older ones: `fallbackType`).
 * For a Service lost between the launch's creates (system-repair.ts).
 */
export function serviceForDeployment(d: V1Deployment, namespace: string, fallbackType: ServiceType): V1Service | undefined {
  const recorded = launchRecordedOn(d);
  if (!recorded) return undefined;
  const type = SERVICE_TYPES.find((t) => t === d.metadata?.annotations?.[labels.ANN_SERVICE_TYPE]) ?? fallbackType;
  return buildService(recorded, namespace, recorded, type);
}

/**
 * The Ingress a Deployment of Tycho's exposed as ingress should have: its recorded host, to its
 * first port, with the operator's current settings. For an Ingress lost the same way.
 */
export function ingressForDeployment(d: V1Deployment, namespace: string, settings: IngressSettings): V1Ingress | undefined {
  const recorded = launchRecordedOn(d);
  const host = d.metadata?.annotations?.[labels.ANN_INGRESS_HOST];
  if (!recorded || !host) return undefined;
  return buildIngress(recorded, namespace, recorded, settings, host);
}

/** What a Deployment records of its launch that its children are made from: name, uid, ports. */
function launchRecordedOn(d: V1Deployment): { name: string; uid: string; ports: number[] } | undefined {
  const name = d.metadata?.name;
  const uid = d.metadata?.uid;
  const ports = (d.spec?.template.spec?.containers[0]?.ports ?? []).map((p) => p.containerPort);
  return name && uid && ports.length > 0 ? { name, uid, ports } : undefined;
}
