/** Wires config → cluster → launcher → HTTP app → Slack. Tests start Tycho through this too. */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.js';
import { Launcher } from '../k8s/launcher.js';
import { configuredCluster, fromFile, resolveNamespace, type ClusterChoice } from '../k8s/kubeconfig.js';
import { mountApi } from '../api/routes.js';
import { answeredHosts } from '../api/same-site.js';
import { startBot, type RunningBot } from '../bot/app.js';
import { createHttpApp } from './http-app.js';
import type { Logger } from './log.js';
import { ensureLocalCluster } from '../local/embedded.js';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RunningTycho {
  url: string;
  port: number;
  launcher: Launcher;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Use this cluster instead of discovering one (tests). */
  kubeConfig?: KubeConfig;
}

export async function startTycho(config: Config, log: Logger, opts: StartOptions = {}): Promise<RunningTycho> {
  let cluster: ClusterChoice | undefined = opts.kubeConfig ? { kc: opts.kubeConfig, source: 'KUBECONFIG' } : configuredCluster();
  let stopLocal: (() => Promise<void>) | undefined;
  if (!cluster) {
    if (config.localCluster === 'never') throw new Error('No cluster is configured (KUBECONFIG, ~/.kube/config or in-cluster) and TYCHO_LOCAL_CLUSTER=never.');
    const local = await ensureLocalCluster(log);
    cluster = fromFile(local.kubeconfigPath);
    stopLocal = local.stop;
  }
  const namespace = resolveNamespace(cluster.kc, config.namespace);
  const launcher = new Launcher(cluster.kc, {
    namespace,
    serviceType: config.serviceType,
    ...(config.publicHost ? { publicHost: config.publicHost } : {}),
    readyTimeoutSeconds: config.readyTimeoutSeconds,
    onFailure: config.onFailure,
  });
  log.info('using cluster', { source: cluster.source, server: cluster.kc.getCurrentCluster()?.server, namespace });

  const http = createHttpApp({ cluster: launcher, log });
  // Slack first: POST /slack/events must see the raw body (for its signature) before any
  // body parser or fallback route the REST API mounts.
  let bot: RunningBot | undefined;
  if (config.slack.mode === 'off') {
    log.info(`Slack front end is off: ${config.slack.why}. REST API and health routes are still served.`);
  } else {
    bot = await startBot({ slack: config.slack, backend: launcher, admins: config.admins, log, http, ...(config.notifyChannel ? { notifyChannel: config.notifyChannel } : {}) });
    log.info(`Slack front end is on (${config.slack.mode === 'socket' ? 'Socket Mode' : 'HTTP mode at POST /slack/events'})`);
  }

  mountApi(http, { backend: launcher, ...(config.apiToken ? { apiToken: config.apiToken } : {}), allowedHosts: config.allowedHosts, log });
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
  return {
    url,
    port,
    launcher,
    async stop() {
      await bot?.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await stopLocal?.();
    },
  };
}
