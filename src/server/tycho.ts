/** Wires config → cluster → launcher → HTTP app → Slack. Tests start Tycho through this too. */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { Launcher, launcherOptionsFrom } from '../k8s/launcher.js';
import { LiveView, type LiveViewOptions } from '../k8s/view/live-view.js';
import { SystemRepair } from '../k8s/system-repair.js';
import { Reaper } from '../k8s/reaper.js';
import { serviceTypeOf } from '../k8s/spec.js';
import { configuredCluster, fromFile, resolveNamespace, type ClusterChoice } from '../k8s/kubeconfig.js';
import { mountApi } from '../api/routes.js';
import { answeredHosts } from '../api/same-site.js';
import { startBot, type RunningBot } from '../bot/app.js';
import { SlackReconciler } from '../bot/reconciler.js';
import { setSlackPace, SlackIO } from '../bot/slack-io.js';
import { systemDigestClock, type DigestClock } from '../bot/digest-schedule.js';
import { DailyDigest } from '../bot/digest.js';
import { DigestClaims } from '../k8s/digest-claims.js';
import { commandPrefix } from '../bot/context.js';
import { DeploymentClaims } from '../k8s/claims.js';
import { ThreadRecords } from '../k8s/thread-records.js';
import { LeaderElector } from '../k8s/lease.js';
import { readFileSync } from 'node:fs';
import { createHttpApp } from './http-app.js';
import { TychoMetrics } from './metrics.js';
import { auditedExpiry, createAuditTrail } from '../audit.js';
import { DeploymentEvents } from '../k8s/events.js';
import type { Logger } from '../log.js';
import type { KubeConfig } from '@kubernetes/client-node';

const VIEW_SYNC_WAIT_MS = 10_000;
/** In a pod, the namespace Tycho itself runs in: where its manifests put the leader Lease. */
function podNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface RunningTycho {
  url: string;
  port: number;
  launcher: Launcher;
  /**
   * SIGTERM: /readyz goes 503 at once, requests are still served for TYCHO_DRAIN_SECONDS (Endpoints
   * lag behind), Socket Mode disconnects (Slack routes to another replica), callers still waiting
   * on a launch are told to follow it, the reconciler drains and the Lease is released.
   */
  drain(): Promise<void>;
  stop(): Promise<void>;
  /** Systems the Slack reconciler keeps anything about (0 once every system is gone and told). */
  reconcilerTracked(): number;
}

/** Starts (or finds) a cluster when none is configured: `npm start`'s local one (src/local). */
export type LocalClusterStarter = (log: Logger) => Promise<{
  kubeconfigPath: string;
  /** host:port of its simulated ingress controller, where its Ingresses answer. */
  ingressAddress?: string;
  stop: () => Promise<void>;
}>;

export interface StartOptions {
  /** Use this cluster instead of discovering one (tests). */
  kubeConfig?: KubeConfig;
  /**
   * What to do when no cluster is configured. The production entry (the image) has none, so it
   * fails with a sentence; `npm start` passes the local control plane's.
   */
  localCluster?: LocalClusterStarter;
  /** The live view's watch tuning (tests shorten its backoff). */
  viewOptions?: Pick<LiveViewOptions, 'backoffMaxMs' | 'watchTimeoutSeconds'>;
  /** How long the reconciler tries one Slack post (SLACK_POST_BUDGET_MS; tests shorten it). */
  slackBudgetMs?: number;
  /** The clock of the daily digest (tests move a manual one instead of waiting for the time). */
  digestClock?: DigestClock;
  /** How long a Deployment goes without a child before the repair makes it (10 s; tests of the repair shorten it). */
  repairGraceMs?: number;
}

export async function startTycho(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningTycho> {
  let cluster: ClusterChoice | undefined = opts.kubeConfig ? { kc: opts.kubeConfig, source: 'KUBECONFIG' } : configuredCluster();
  let stopLocal: (() => Promise<void>) | undefined;
  if (!cluster) {
    if (config.localCluster === 'never') throw new Error('No cluster is configured (KUBECONFIG, ~/.kube/config or in-cluster) and TYCHO_LOCAL_CLUSTER=never.');
    if (!opts.localCluster) throw new Error('No cluster is configured (KUBECONFIG, ~/.kube/config or in-cluster). This entry point does not start a local one; `npm start` does.');
    const local = await opts.localCluster(log);
    cluster = fromFile(local.kubeconfigPath);
    stopLocal = local.stop;
    // The local cluster's simulated ingress controller is where its Ingresses answer.
    if (config.ingress && !config.ingress.address && local.ingressAddress) config = { ...config, ingress: { ...config.ingress, address: local.ingressAddress } };
  }
  const namespace = resolveNamespace(cluster.kc, config.namespace);
  log.info('using cluster', { source: cluster.source, server: cluster.kc.getCurrentCluster()?.server, namespace });
  // One live view of the namespace: every wait, status and list reads it (src/k8s/view).
  const view = new LiveView(cluster.kc, namespace, {
    ...opts.viewOptions,
    ingresses: !!config.ingress,
    onRestart: (kind, why, delayMs) => log.warn('watch restarting', { kind, why, delayMs: Math.round(delayMs) }),
  });
  view.on('fatal', (problem) => log.error(problem));
  // From the view's first event on; the Lease is read at scrape time (the elector is made below).
  const metrics = new TychoMetrics(view, () => config.slack.mode !== 'off' && elector.isLeader());
  // A healthy cluster syncs in milliseconds; an unreachable one must not keep the server (and
  // /healthz) from starting: /readyz answers 503, saying why, until the view has synced.
  // True only once every informer has really listed: a catch-up against a view whose list was
  // refused would find an empty namespace and close every thread.
  const synced = view.start().then(
    () => {
      log.info('live view synced', { namespace, endpoints: view.endpointsKind });
      return true;
    },
    () => false,
  );
  await Promise.race([synced, new Promise((r) => setTimeout(r, VIEW_SYNC_WAIT_MS).unref())]);
  const launcher = new Launcher(cluster.kc, { ...launcherOptionsFrom(config, namespace), view, log: log.child({ component: 'launcher' }) });
  // A launch cut short between its creates gets its Service and Ingress back (system-repair.ts).
  const repair = new SystemRepair(cluster.kc, view, {
    defaultServiceType: serviceTypeOf(config.expose),
    ...(config.ingress ? { ingress: config.ingress } : {}),
    confirm: (serving, signal) => launcher.confirmServing(serving, signal),
    followSeconds: config.readyTimeoutSeconds,
    graceMs: opts.repairGraceMs,
    // With Slack on, only the Lease holder repairs (the elector is made below, read only later).
    // A REST-only server takes no part in the election and repairs on its own.
    ...(config.slack.mode === 'off' ? {} : { isLeader: () => elector.isLeader() }),
    log: log.child({ component: 'system-repair' }),
  });
  repair.start();
  // The audit trail: one line per mutating action, and an Event on its Deployment (src/audit.ts).
  const audit = createAuditTrail({
    log: log.child({ component: 'audit' }),
    events: new DeploymentEvents(cluster.kc, namespace, log.child({ component: 'audit' })),
    uidOf: (name) => view.system(name)?.uid,
    awaitUid: (name) => view.waitFor(name, (s) => s?.uid || undefined, AbortSignal.timeout(10_000)).catch(() => undefined),
  });
  // Expired systems are removed by the Lease holder (a REST-only server on its own), from the
  // expiries on the Deployments as the view holds them (reaper.ts).
  const reaper = new Reaper(cluster.kc, view, namespace, {
    // An expiry is a mutating action too: audited once, by the replica that removed it.
    remove: (name, by) => auditedExpiry(audit, name, () => launcher.down(name, by)),
    ...(config.slack.mode === 'off' ? {} : { isLeader: () => elector.isLeader() }),
    log: log.child({ component: 'reaper' }),
  });
  reaper.start();

  let draining = false;
  const readiness = {
    // Draining: /readyz answers 503 at once, so Endpoints stop sending traffic here while it is still served.
    ping: () => (draining ? Promise.reject(new Error('Tycho is shutting down.')) : launcher.ping()),
  };
  const http = createHttpApp({ cluster: readiness, log, metrics });
  // Slack first: POST /slack/events must see the raw body (for its signature) before any
  // body parser or fallback route the REST API mounts.
  let bot: RunningBot | undefined;
  let reconciler: SlackReconciler | undefined;
  let stopSlack: (() => Promise<void>) | undefined;
  let onLeading: () => void = () => undefined;
  let digest: DailyDigest | undefined;
  // Background work (the Slack reconciler's writes) runs on the one replica holding the Lease.
  const leaseNamespace = config.lease.namespace ?? podNamespace() ?? namespace;
  const elector = LeaderElector.forCluster(cluster.kc, {
    namespace: leaseNamespace,
    name: config.lease.name,
    leaseDurationMs: config.lease.seconds * 1000,
    renewDeadlineMs: Math.round(config.lease.seconds * 1000 * (2 / 3)),
    retryPeriodMs: Math.round(config.lease.seconds * 1000 * (2 / 15)),
    onStartedLeading: () => {
      log.info('leading: this replica writes to Slack', { lease: `${leaseNamespace}/${config.lease.name}` });
      onLeading();
    },
    onStoppedLeading: (why) => log.warn('no longer leading', { why }),
    onError: (e) => log.warn('leader election', { error: e.message }),
  });
  // One record per open Slack thread (thread-records.ts), in the namespace the systems live in.
  const records = new ThreadRecords(cluster.kc, namespace);
  if (config.slack.mode === 'off') {
    log.info(`Slack front end is off: ${config.slack.why}. REST API and health routes are still served.`);
  } else {
    try {
      bot = await startBot({ slack: config.slack, launcher, admins: config.admins, policy: config.policy, access: config.access, audit, log, http, launchConcurrency: config.launchConcurrency, records, ...(config.notifyChannel ? { notifyChannel: config.notifyChannel } : {}) });
    } catch (e) {
      // A refused token: nothing may keep running (the view's watches would keep the process alive).
      await view.stop();
      await stopLocal?.();
      throw e;
    }
    // Every SlackIO of this bot, the listeners' and the reconciler's, keeps the configured pace.
    setSlackPace(bot.client, { channelIntervalMs: config.slackChannelIntervalMs, noticeBatchMs: config.noticeBatchMs });
    const reconcilerLog = log.child({ component: 'reconciler' });
    const io = new SlackIO(bot.client, reconcilerLog, opts.slackBudgetMs ? { budgetMs: opts.slackBudgetMs } : {});
    stopSlack = () => io.stopDelivery();
    const rec = new SlackReconciler({
      view,
      io,
      claims: new DeploymentClaims(cluster.kc, namespace),
      records,
      isLeader: () => elector.isLeader(),
      lapsed: () => elector.lapsed,
      systemInfo: (s) => launcher.describeState(s),
      checkServing: (s) => launcher.checkServing(s),
      describeChecked: (s, verdict) => launcher.describeChecked(s, verdict),
      ctx: config.notifyChannel ? { notifyChannel: config.notifyChannel } : {},
      log: reconcilerLog,
      readyTimeoutSeconds: config.readyTimeoutSeconds,
      incidentGraceSeconds: config.incidentGraceSeconds,
      // Through the API server, one read per incident, by the leader only.
      readLog: async (name, req) => (await launcher.logs(name, req)).text,
      prefix: commandPrefix(),
      expiry: config.expiry,
    });
    reconciler = rec;
    rec.start();
    // Each person's Home tab follows their systems; only the Lease holder publishes for changes.
    bot.home.follow(view, () => elector.isLeader());
    // The daily digest (off unless TYCHO_DIGEST_AT): sent by the Lease holder, claimed per day in Kubernetes.
    if (config.digest) {
      digest = new DailyDigest({
        settings: config.digest,
        clock: opts.digestClock ?? systemDigestClock,
        isLeader: () => elector.isLeader(),
        claims: new DigestClaims(cluster.kc, namespace),
        identity: elector.identity,
        systems: () => launcher.list(),
        io,
        prefix: commandPrefix(),
        log: log.child({ component: 'digest' }),
      });
    }
    // Only a Slack front end has background work today: a REST-only server takes no part. It
    // joins once its bot has started (a refused token must not leave a Lease holder behind).
    await elector.start();
    digest?.start();
    // Whoever becomes leader catches up on every thread (restarts, failovers, deletions while down).
    onLeading = () =>
      void synced.then((ok) => {
        if (!ok) return;
        // A new leader removes at once what expired while it followed (or nobody ran).
        reaper.sweep();
        // A day's digest nobody sent yet (the last leader died at the set time) goes out now.
        digest?.check();
        return rec.resync();
      });
    // A view whose lists were refused catches up once they are allowed (the RBAC was fixed).
    view.on('recovered', () => {
      log.info('live view synced after a refusal', { namespace });
      if (elector.isLeader()) void rec.resync();
    });
    if (elector.isLeader()) onLeading();
    log.info(`Slack front end is on (${config.slack.mode === 'socket' ? 'Socket Mode' : 'HTTP mode at POST /slack/events'})`);
  }

  // The token's holder is limited like everyone else unless the operator says otherwise: it is
  // often a portal that launches on behalf of many people.
  mountApi(http, {
    launcher,
    ...(config.apiToken ? { apiToken: config.apiToken } : {}),
    policy: config.apiTokenUnlimited ? null : config.policy,
    access: config.access,
    audit,
    allowedHosts: config.allowedHosts,
    log,
  });
  log.info(
    config.apiToken
      ? 'REST API: bearer token required (TYCHO_API_TOKEN is set)'
      : `REST API: loopback callers only, addressed to ${answeredHosts(config.allowedHosts)} (set TYCHO_API_TOKEN to allow remote callers)`,
  );

  const server: Server = http.listen(config.port, config.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  log.info('listening', { url });
  const running: RunningTycho = {
    url,
    port,
    launcher,
    reconcilerTracked: () => reconciler?.trackedCount ?? 0,
    async drain() {
      draining = true;
      log.info('draining', { seconds: config.drainSeconds });
      await new Promise((r) => setTimeout(r, config.drainSeconds * 1000));
      await running.stop();
    },
    async stop() {
      draining = true;
      await bot?.stop();
      // Replies still waiting for an unreachable Slack end after their current attempt, and the
      // notices gathering for the team channel go now: the stop waits for them, as for the reconciler.
      const slackStopped = stopSlack?.();
      // Drained: the reconciler's writes in flight finish, then the Lease goes to another replica at once.
      digest?.stop();
      await reconciler?.stop();
      await slackStopped;
      if (config.slack.mode !== 'off') await elector.release();
      repair.stop();
      metrics.stop();
      reaper.stop();
      await view.stop();
      // Callers still waiting on a launch have just been answered; let those answers go out.
      await new Promise((r) => setTimeout(r, 50));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await stopLocal?.();
    },
  };
  return running;
}
