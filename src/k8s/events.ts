/**
 * Kubernetes Events on a system's Deployment (core/v1 Event, involvedObject the Deployment), so
 * `kubectl describe deployment NAME` and `kubectl events --for deployment/NAME` tell who did
 * what to it through Tycho (src/audit.ts). An Event is a record, not a step of the action: a
 * write Kubernetes refuses is logged and the action goes on.
 */
import { hostname } from 'node:os';
import { CoreV1Api, type KubeConfig, type CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { toTychoError } from './kube.js';

export interface DeploymentEvent {
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, as Kubernetes' own reasons are (Launched, TornDown, Refused). */
  reason: string;
  message: string;
}

/** Events are capped at 1 KiB of message by the API server's validation; ours are one line. */
const MAX_MESSAGE = 1024;

export class DeploymentEvents {
  private readonly core: CoreV1Api;
  private readonly instance = hostname();

  constructor(
    kc: KubeConfig,
    private readonly namespace: string,
    private readonly log: Pick<Logger, 'warn'>,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async record(deployment: { name: string; uid: string }, e: DeploymentEvent): Promise<void> {
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${deployment.name}.`, namespace: this.namespace },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name, namespace: this.namespace, uid: deployment.uid },
      type: e.type,
      reason: e.reason,
      message: e.message.slice(0, MAX_MESSAGE),
      source: { component: 'tycho' },
      reportingComponent: 'tycho',
      reportingInstance: this.instance,
      action: e.reason,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.core.createNamespacedEvent({ namespace: this.namespace, body });
    } catch (err) {
      this.log.warn('could not record the Event on the Deployment', { system: deployment.name, error: toTychoError(err, 'record an Event').message });
    }
  }
}
