/**
 * Prometheus metrics (`GET /metrics`, prom-client), read off what this process already follows:
 * the live view's transitions (launches, their duration, teardowns and why), its cache (running
 * systems), the Lease (leader), and every failed Kubernetes or Slack call (their observers in
 * src/k8s/kube.ts and src/bot/slack-io.ts). Nothing here asks the cluster or Slack anything.
 *
 * Every replica follows every system, so each counts every launch: sum over `tycho_leader == 1`
 * (or take one replica) rather than over all replicas. A registry per process, not prom-client's
 * global one, so two servers in one test process keep their own counts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Transition } from '../k8s/view/live-view.js';
import type { SystemState } from '../k8s/view/system-model.js';
import * as labels from '../k8s/labels.js';
import { kubernetesFailureObservers } from '../k8s/kube.js';
import { slackFailureObservers, type Failure } from '../bot/slack-io.js';

/** The buckets, in seconds: a launch takes seconds to minutes (an image pull). */
export const LAUNCH_SECONDS_BUCKETS = [2, 5, 10, 20, 30, 60, 120, 300, 600];

/** Why a system went, from who its Deployment says removed it. */
export type TeardownReason = 'user' | 'admin' | 'expiry' | 'outside';

export interface MetricsSource {
  on(event: 'transition', listener: (t: Transition) => void): unknown;
  off(event: 'transition', listener: (t: Transition) => void): unknown;
  readonly synced: boolean;
  systems(): SystemState[];
}

export class TychoMetrics {
  readonly registry = new Registry();
  private readonly launches = new Counter({ name: 'tycho_launches_total', help: 'Launches seen through to an end, by result: ready, failed, or torn_down before it was ready.', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly launchSeconds = new Histogram({ name: 'tycho_launch_duration_seconds', help: 'From a system first seen to Ready, on this process clock.', buckets: LAUNCH_SECONDS_BUCKETS, registers: [this.registry] });
  private readonly teardowns = new Counter({ name: 'tycho_teardowns_total', help: 'Systems gone, by reason: user (its owner), admin (someone else through Tycho), expiry, outside (not through Tycho).', labelNames: ['reason'] as const, registers: [this.registry] });
  private readonly kubernetesErrors = new Counter({ name: 'tycho_kubernetes_api_errors_total', help: 'Kubernetes API calls that failed, by HTTP status (or network).', labelNames: ['status'] as const, registers: [this.registry] });
  private readonly slackErrors = new Counter({ name: 'tycho_slack_api_errors_total', help: 'Slack Web API calls that failed, by kind: rate-limited, not-sent (unreachable), maybe-sent (timeout, 5xx), refused.', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly slackWaits = new Counter({ name: 'tycho_slack_rate_limit_wait_seconds_total', help: 'Seconds Slack asked Tycho to wait (Retry-After) before calling again.', registers: [this.registry] });
  /** Launches under way: first seen (own clock, ms) for each system not yet ready, failed or gone. */
  private readonly starting = new Map<string, number>();
  private readonly onTransition = (t: Transition) => this.transition(t);
  private readonly onKubernetesFailure = (status: string) => this.kubernetesErrors.inc({ status });
  private readonly onSlackFailure = (kind: Failure['kind'], retryAfterMs: number) => {
    this.slackErrors.inc({ kind });
    if (retryAfterMs) this.slackWaits.inc(retryAfterMs / 1000);
  };

  constructor(
    private readonly view: MetricsSource,
    isLeader: () => boolean,
    private readonly now: () => number = () => performance.now(),
  ) {
    new Gauge({
      name: 'tycho_running_systems',
      help: 'Systems in the namespace now, by stage (from the live view).',
      labelNames: ['stage'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of view.systems()) this.inc({ stage: s.stage });
      },
    });
    new Gauge({
      name: 'tycho_leader',
      help: '1 while this process holds the Lease (does the background work and writes to Slack).',
      registers: [this.registry],
      collect() {
        this.set(isLeader() ? 1 : 0);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'tycho_process_' });
    view.on('transition', this.onTransition);
    kubernetesFailureObservers.add(this.onKubernetesFailure);
    slackFailureObservers.add(this.onSlackFailure);
  }

  stop(): void {
    this.view.off('transition', this.onTransition);
    kubernetesFailureObservers.delete(this.onKubernetesFailure);
    slackFailureObservers.delete(this.onSlackFailure);
  }

  /** The text a scrape gets. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private transition(t: Transition): void {
    // A system already there when the view first listed it was launched before this process
    // followed it: not a launch of its own to count (its teardown is still counted).
    if (t.from === undefined && t.to !== 'gone' && this.view.synced && t.to !== 'ready' && t.to !== 'failed') this.starting.set(t.uid, this.now());
    const since = this.starting.get(t.uid);
    if (t.to === 'gone') {
      this.starting.delete(t.uid);
      const a = t.state.deployment.metadata?.annotations ?? {};
      // An undone launch was a failed launch, told as such; it is no teardown.
      if (a[labels.ANN_DELETED_BY] === labels.LAUNCH_UNDONE) return;
      if (since !== undefined) this.launches.inc({ result: 'torn_down' });
      this.teardowns.inc({ reason: teardownReason(a) });
      return;
    }
    if (since === undefined) return;
    if (t.to === 'ready') {
      this.starting.delete(t.uid);
      this.launches.inc({ result: 'ready' });
      this.launchSeconds.observe((this.now() - since) / 1000);
    } else if (t.to === 'failed') {
      this.starting.delete(t.uid);
      this.launches.inc({ result: 'failed' });
    }
  }
}

/** Who removed a system, as its Deployment recorded it (deleted-by), against its owner. */
export function teardownReason(a: Record<string, string>): TeardownReason {
  const by = a[labels.ANN_DELETED_BY];
  if (!by) return 'outside';
  if (by.startsWith('tycho:expir')) return 'expiry';
  return by === a[labels.ANN_OWNER_ID] ? 'user' : 'admin';
}
