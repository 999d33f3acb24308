/**
 * Everything the measurements share: the cluster (started here, or one given), the counting
 * proxy with one kubeconfig per actor, the Slack stand-in, and ways to start Tycho's server, the
 * bare Bolt app, the bare launch script and the CLI as their own processes. Every actor reaches
 * the API server through the proxy, so Tycho and its baselines pay the same extra hop.
 */
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PREFIX } from '../k8s/labels.js';
import { CREATING_MS } from '../local/kubelet-simulator.js';
import { distPath, startApp, type AppProcess } from './app-process.js';
import { imageNodeFlags } from './image-command.js';
import type { BareArg } from './bare-launch.js';
import type { BareInformersArg } from './bare-informers.js';
import type { ClusterArg, ClusterReady } from './cluster-process.js';
import { until } from './clock.js';
import { throughProxy, type ActorCounts } from './counting-proxy.js';
import { Helper } from './ipc.js';
import type { ProxyArg, ProxyReady } from './proxy-process.js';
import { sendSlashCommand, type Ack } from './slash-command.js';
import { SlackSink } from './slack-sink.js';

export type ActorName = 'tycho' | 'cli' | 'baseline';
const ACTORS: ActorName[] = ['tycho', 'cli', 'baseline'];

/** The image every benchmark launch uses: the simulated node makes it Ready after a fixed delay. */
export const IMAGE = 'nginx';
export const READINESS_DELAY_MS = CREATING_MS;
export const CHANNEL = 'C0BENCH01';
export const USER = 'U0BENCHUSER';

export interface EnvOptions {
  /** Use this cluster instead of starting the local one (the quick test passes jest's). */
  kubeconfig?: string;
  /** Simulated nodes besides the first; only when the cluster is started here. */
  extraNodes: number;
  log: (line: string) => void;
  /**
   * Whether a dropped namespace is waited for until it is gone (default true): a full run's next
   * measurement must not share the machine with the last one's pods. The quick run's few pods
   * load nothing, and it only checks that each measurement runs.
   */
  awaitDrops?: boolean;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export class BenchEnv {
  readonly secret = randomBytes(32).toString('hex');
  private readonly apps = new Set<AppProcess>();
  private readonly namespaces = new Set<string>();

  private constructor(
    readonly workDir: string,
    readonly admin: KubeConfig,
    readonly adminPath: string,
    readonly sink: SlackSink,
    private readonly proxy: Helper<ProxyReady>,
    private readonly cluster: Helper<ClusterReady> | undefined,
    private readonly actorConfigs: Record<ActorName, string>,
    readonly log: (line: string) => void,
    private readonly awaitDrops = true,
  ) {}

  static async start(o: EnvOptions): Promise<BenchEnv> {
    const workDir = await mkdtemp(join(tmpdir(), 'tycho-bench-'));
    let cluster: Helper<ClusterReady> | undefined;
    let adminPath = o.kubeconfig;
    if (!adminPath) {
      o.log('starting the local control plane with the simulated kubelet ...');
      cluster = await Helper.start<ClusterReady>('cluster-process.js', { stateDir: join(workDir, 'cluster'), extraNodes: o.extraNodes } satisfies ClusterArg);
      adminPath = cluster.ready.kubeconfigPath;
    }
    const admin = new KubeConfig();
    admin.loadFromFile(adminPath);
    const proxy = await Helper.start<ProxyReady>('proxy-process.js', { kubeconfigPath: adminPath, actors: ACTORS } satisfies ProxyArg);
    const configs = {} as Record<ActorName, string>;
    for (const a of ACTORS) {
      configs[a] = join(workDir, `${a}.kubeconfig`);
      await writeFile(configs[a], throughProxy(admin, proxy.ready.ports[a]!, proxy.ready.cert).exportConfig(), { mode: 0o600 });
    }
    const sink = await SlackSink.start();
    return new BenchEnv(workDir, admin, adminPath, sink, proxy, cluster, configs, o.log, o.awaitDrops ?? true);
  }

  kubeconfigOf(actor: ActorName): string {
    return this.actorConfigs[actor];
  }

  // ---- the counting proxy ----

  counts(actor: ActorName): Promise<ActorCounts> {
    return this.proxy.call('counts', actor);
  }

  reset(actor: ActorName): Promise<void> {
    return this.proxy.call('reset', actor);
  }

  setDelay(actor: ActorName, ms: number): Promise<void> {
    return this.proxy.call('setDelay', { actor, ms });
  }

  /** Waits until the actor has made no call but its watches for `ms`: its operation is over. */
  quiet(actor: ActorName, ms = 500, timeoutMs = 120_000): Promise<void> {
    return this.proxy.call('quiet', { actor, ms, timeoutMs });
  }

  // ---- namespaces ----

  /** A fresh namespace that accepts pods (its default ServiceAccount has a token). */
  async namespace(prefix: string): Promise<string> {
    const name = `bench-${prefix}-${randomBytes(3).toString('hex')}`;
    const core = this.admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name, labels: { [`${PREFIX}/bench`]: 'true' } } } });
    this.namespaces.add(name);
    await until(`the ServiceAccount token in ${name}`, async () => ((await core.readNamespacedServiceAccount({ namespace: name, name: 'default' }).catch(() => undefined))?.secrets?.length ?? 0) > 0, 60_000);
    return name;
  }

  /** Deletes a namespace and waits until it is gone, so its pods no longer load the machine. */
  async dropNamespace(name: string, timeoutMs = 600_000): Promise<void> {
    const core = this.admin.makeApiClient(CoreV1Api);
    await core.deleteNamespace({ name }).catch(() => undefined);
    this.namespaces.delete(name);
    if (!this.awaitDrops) return;
    await until(`namespace ${name} to be deleted`, async () => (await core.readNamespace({ name }).then(() => false, () => true)), timeoutMs, 1000);
  }

  // ---- the actors ----

  /**
   * Tycho's server as the image runs it (its entry, with the Node flags of the Dockerfile's CMD),
   * in Slack HTTP mode, in `namespace`. `nodeArgs` (e.g. --cpu-prof) is for profiling it;
   * `checkout`, another built checkout of Tycho (an earlier commit) whose server runs instead;
   * `settings`, environment for an experiment (TYCHO_LAUNCH_CONCURRENCY=…), over the benchmark's.
   */
  async startTycho(namespace: string, nodeArgs: string[] = [], checkout?: string, settings: Record<string, string> = {}): Promise<AppProcess> {
    const app = await startApp(
      checkout ? join(checkout, 'dist/server/main.js') : distPath('server/main.js'),
      {
        KUBECONFIG: this.actorConfigs.tycho,
        TYCHO_NAMESPACE: namespace,
        TYCHO_LOCAL_CLUSTER: 'never',
        HOST: '127.0.0.1',
        PORT: '0',
        SLACK_BOT_TOKEN: 'xoxb-0000-bench',
        SLACK_SIGNING_SECRET: this.secret,
        SLACK_API_URL: this.sink.apiUrl,
        // The sink has no rate limit: unpaced, the burst measures Tycho and Kubernetes, not
        // Slack's one message a second per channel (README, Performance).
        TYCHO_SLACK_CHANNEL_INTERVAL_MS: '0',
        // No Service routes to it: a drain (5 s of serving on after SIGTERM, for Endpoints to
        // catch up) would only lengthen each of the run's stops (a dozen in the quick run).
        TYCHO_DRAIN_SECONDS: '0',
        ...settings,
      },
      this.workDir,
      // An earlier commit runs with its own image's flags: a change to them is part of what is compared.
      [...imageNodeFlags(checkout ? readFileSync(join(checkout, 'Dockerfile'), 'utf8') : undefined), ...nodeArgs],
    );
    this.apps.add(app);
    try {
      await until('Tycho to be ready (/readyz)', async () => (await fetch(`${app.url}/readyz`).catch(() => undefined))?.ok, 60_000);
    } catch (e) {
      const why = await fetch(`${app.url}/readyz`).then((r) => r.text()).catch(() => 'no answer');
      throw new Error(`${(e as Error).message}; /readyz says ${why}; its log ends:\n${app.logTail()}`);
    }
    return app;
  }

  /** The ack baseline (bare-bolt-app.ts). */
  async startBareBolt(): Promise<AppProcess> {
    const app = await startApp(distPath('bench/bare-bolt-app.js'), { SLACK_BOT_TOKEN: 'xoxb-0000-bench', SLACK_SIGNING_SECRET: this.secret, SLACK_API_URL: this.sink.apiUrl }, this.workDir);
    this.apps.add(app);
    return app;
  }

  async stopApp(app: AppProcess): Promise<void> {
    this.apps.delete(app);
    await app.stop();
  }

  /**
   * Room for `pods` more pods of 10m CPU: adds simulated nodes (500 pods each, filled to 450) to
   * the cluster started here. A cluster given (the tests') is left as it is.
   */
  async roomForPods(pods: number): Promise<void> {
    if (!this.cluster) return;
    const nodes = await this.cluster.call<number>('addNodes', Math.ceil(pods / 450));
    this.log(`the cluster has ${nodes} simulated nodes`);
  }

  /** The memory baseline (bare-informers.ts): client-node's own informers over `namespace`, run with the server's Node flags. */
  bareInformers(namespace: string): Promise<Helper<{ pid: number }>> {
    return Helper.start('bare-informers.js', { kubeconfigPath: this.actorConfigs.baseline, namespace } satisfies BareInformersArg, { execArgv: imageNodeFlags() });
  }

  /** This benchmark's own helper processes by pid, named for an account of CPU time (cpu-usage.ts). */
  helperNames(): Map<number, string> {
    const names = new Map<number, string>([[process.pid, 'the benchmark (Slack stand-in, pod clock, the commands)']]);
    if (this.proxy.child.pid) names.set(this.proxy.child.pid, 'counting proxy');
    if (this.cluster?.child.pid) names.set(this.cluster.child.pid, 'simulated kubelets');
    return names;
  }

  /** The launch and list baseline (bare-launch.ts), working in `namespace`. */
  bare(namespace: string): Promise<Helper<{ pid: number }>> {
    return Helper.start('bare-launch.js', { kubeconfigPath: this.actorConfigs.baseline, namespace, image: IMAGE, port: 80 } satisfies BareArg);
  }

  /** `tycho ARGS` in direct mode (its own kubeconfig), as a person runs it: one process. */
  cli(args: string[], namespace: string): Promise<CliRun> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [distPath('cli/main.js'), ...args],
        { cwd: this.workDir, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', KUBECONFIG: this.actorConfigs.cli, TYCHO_NAMESPACE: namespace, TYCHO_OWNER: 'bench' }, maxBuffer: 64 << 20 },
        (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  /** `/tycho TEXT` to an app's Slack endpoint, signed as Slack signs it. */
  slash(app: AppProcess, text: string): Promise<Ack> {
    return sendSlashCommand({ url: app.url, secret: this.secret, text, userId: USER, channelId: CHANNEL, responseUrl: this.sink.responseUrl });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.apps].map((a) => a.stop()));
    await this.sink.stop();
    await this.proxy.stop();
    const core = this.admin.makeApiClient(CoreV1Api);
    // On a cluster of someone else's (the tests'), leave nothing behind.
    if (!this.cluster) await Promise.all([...this.namespaces].map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
    await this.cluster?.stop();
    await rm(this.workDir, { recursive: true, force: true });
  }
}

