/**
 * How long Kubernetes itself took to make each system's pod Ready. The pod's own timestamps
 * (creationTimestamp, the Ready condition's lastTransitionTime) are whole seconds, too coarse
 * for a budget of 150 ms, so this watch also notes, to the millisecond, when the pod first
 * appeared and when it first showed Ready. The two agree to within a second (checked by the
 * report); the overhead uses the millisecond one.
 */
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { LABEL_SYSTEM } from '../k8s/labels.js';
import { epochMs } from './clock.js';

export interface PodTimes {
  /** Seen by this watch (epoch ms). */
  seenAt: number;
  readySeenAt?: number;
  /** From the pod itself (epoch ms, whole seconds). */
  created?: number;
  readyCondition?: number;
}

export class PodClock {
  readonly bySystem = new Map<string, PodTimes>();
  private stopped = false;
  private current?: AbortController;

  private constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
  ) {}

  static async start(kc: KubeConfig, namespace: string): Promise<PodClock> {
    const c = new PodClock(kc, namespace);
    await c.run();
    return c;
  }

  /** Milliseconds from the pod's first appearance to its first Ready, as this watch saw them. */
  k8sMs(system: string): number | undefined {
    const t = this.bySystem.get(system);
    return t?.readySeenAt === undefined ? undefined : t.readySeenAt - t.seenAt;
  }

  /** The same from the pod's own timestamps (whole seconds). */
  k8sMsFromConditions(system: string): number | undefined {
    const t = this.bySystem.get(system);
    return t?.created === undefined || t.readyCondition === undefined ? undefined : t.readyCondition - t.created;
  }

  private note(pod: V1Pod): void {
    const system = pod.metadata?.labels?.[LABEL_SYSTEM];
    if (!system) return;
    const now = epochMs();
    let t = this.bySystem.get(system);
    if (!t) {
      t = { seenAt: now };
      this.bySystem.set(system, t);
    }
    const ready = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    if (pod.metadata?.creationTimestamp) t.created ??= new Date(pod.metadata.creationTimestamp).getTime();
    if (ready) {
      t.readySeenAt ??= now;
      if (ready.lastTransitionTime) t.readyCondition ??= new Date(ready.lastTransitionTime).getTime();
    }
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    const list = await this.kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: this.namespace });
    list.items.forEach((p) => this.note(p));
    this.current = await new Watch(this.kc).watch(
      `/api/v1/namespaces/${this.namespace}/pods`,
      { resourceVersion: list.metadata?.resourceVersion },
      (type, pod: V1Pod) => {
        if (type === 'ADDED' || type === 'MODIFIED') this.note(pod);
      },
      () => {
        if (!this.stopped) setTimeout(() => void this.run().catch(() => undefined), 100);
      },
    );
  }

  stop(): void {
    this.stopped = true;
    this.current?.abort();
  }
}
