/**
 * Plays the kubelet for the local control plane: no container ever runs, but the API sees a
 * Ready node whose pods start, fail and stop like real ones, so the product (and its tests)
 * exercise real Kubernetes objects end to end.
 *
 * What a pod does is chosen by its container images (first match wins, see IMAGE_CONVENTIONS):
 *   pull-error     waiting ErrImagePull, then ImagePullBackOff, alternating with growing back-off
 *   invalid-image  waiting InvalidImageName
 *   crashloop      runs ~1 s, exits 1, then waiting CrashLoopBackOff (restartCount grows, lastState.terminated exitCode 1);
 *                  the container's env SIMULATED_TERMINATION_MESSAGE, if set, is what it "wrote" to its
 *                  terminationMessagePath, reported as lastState.terminated.message like a kubelet does
 *   config-error   waiting CreateContainerConfigError (names the first Secret/ConfigMap it references)
 *   never-ready    Running but never Ready
 *   slow-start     ContainerCreating for ~3 s, then Running and Ready
 *   anything else  ContainerCreating for ~200 ms, then Running and Ready
 * The node has cpu 64, memory 256Gi, pods 500 and no GPU, so GPU requests stay Unschedulable.
 *
 * A pod annotated `sim.tycho.renci.org/readiness: fail` fails its readiness probe, as a real app's
 * does when it stops answering: its running containers turn not Ready (so the Service stops
 * routing to it) until the annotation is removed. Tests make an outage of a served system this way.
 *
 * A pod annotated `sim.tycho.renci.org/crash: <any new value>` has its running containers crash
 * once, on demand, as an app that dies after it was Ready does: `oom…` values are OOMKilled (exit
 * 137), any other value is Error (exit 1). The container's lastState.terminated says so,
 * restartCount grows, it waits CrashLoopBackOff ~1 s, then runs (and is Ready) again; its previous
 * log ends with the crash's last words. Setting another value crashes it again. Tests make crash
 * alerts this way.
 *
 * It also serves, on 127.0.0.1, pod logs for `kubectl logs` and Tycho's `logs` (through the API
 * server, which calls the node's kubelet port): a few lines per run of the container ("Listening
 * on 0.0.0.0:PORT", a crash's last words for crashloop images), plus what the env vars
 * SIMULATED_LOG and SIMULATED_LOG_LINES ask for; `previous=true` is the run before a restart, and
 * refused as a kubelet refuses it when the container never restarted and a small page on the nodePort of every NodePort Service
 * whose Endpoints list a ready pod (as kube-proxy routes), so the URLs the product hands out
 * can really be opened.
 */
import { limiter } from '../concurrency.js';
import {
  CoreV1Api,
  ListWatch,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type V1Container,
  type V1ContainerState,
  type V1ContainerStatus,
  type V1Pod,
  type V1PodCondition,
  type V1PodStatus,
  type V1Service,
  type V1Endpoints,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closeServer, trackSockets } from './close-server.js';
import { errText, httpCode, watchRestarts } from './watches.js';

export type PodBehaviour = 'pull-error' | 'invalid-image' | 'crashloop' | 'config-error' | 'never-ready' | 'slow-start' | 'run';

/** Image-name substrings that choose a simulated behaviour; the first match wins. */
export const IMAGE_CONVENTIONS: ReadonlyArray<{ contains: string; behaviour: PodBehaviour; effect: string }> = [
  { contains: 'pull-error', behaviour: 'pull-error', effect: 'waiting ErrImagePull, then ImagePullBackOff' },
  { contains: 'invalid-image', behaviour: 'invalid-image', effect: 'waiting InvalidImageName' },
  { contains: 'crashloop', behaviour: 'crashloop', effect: 'exits 1 after ~1 s, then waiting CrashLoopBackOff with restartCount >= 1' },
  { contains: 'config-error', behaviour: 'config-error', effect: 'waiting CreateContainerConfigError' },
  { contains: 'never-ready', behaviour: 'never-ready', effect: 'Running, never Ready' },
  { contains: 'slow-start', behaviour: 'slow-start', effect: 'ContainerCreating ~3 s, then Running and Ready' },
];

/**
 * A crashing container's last words: what a real one writes to /dev/termination-log (its
 * terminationMessagePath) before it exits, and the kubelet reports as `terminated.message`.
 * The simulated container "writes" the value of this env var.
 */
export const TERMINATION_MESSAGE_ENV = 'SIMULATED_TERMINATION_MESSAGE';
/** The kubelet keeps at most 4096 bytes of a termination message. */
const TERMINATION_MESSAGE_MAX_BYTES = 4096;

function terminationMessage(c: V1Container): string | undefined {
  const value = c.env?.find((e) => e.name === TERMINATION_MESSAGE_ENV)?.value;
  if (!value) return undefined;
  const bytes = Buffer.from(value, 'utf8');
  return bytes.length <= TERMINATION_MESSAGE_MAX_BYTES ? value : bytes.subarray(0, TERMINATION_MESSAGE_MAX_BYTES).toString('utf8');
}

/**
 * What a simulated container "prints", besides the simulator's own lines: tests set these env
 * vars to assert real log text. SIMULATED_LOG's lines as given (newlines split them);
 * SIMULATED_LOG_LINES=N adds N numbered request lines (a long log).
 */
export const LOG_TEXT_ENV = 'SIMULATED_LOG';
export const LOG_LINES_ENV = 'SIMULATED_LOG_LINES';
/** A bound on SIMULATED_LOG_LINES, so a typo cannot make the simulator write gigabytes. */
const MAX_SIMULATED_LOG_LINES = 100_000;

function writtenLines(c: V1Container): string[] {
  const env = (name: string) => c.env?.find((e) => e.name === name)?.value;
  const text = env(LOG_TEXT_ENV);
  const n = Math.min(MAX_SIMULATED_LOG_LINES, Math.max(0, Math.floor(Number(env(LOG_LINES_ENV) ?? 0)) || 0));
  return [...(text ? text.split(/\r?\n/) : []), ...Array.from({ length: n }, (_, i) => `GET /items/${i + 1} 200 (simulated request ${i + 1} of ${n})`)];
}

export function behaviourOf(image: string): PodBehaviour {
  return IMAGE_CONVENTIONS.find((c) => image.includes(c.contains))?.behaviour ?? 'run';
}

export const DEFAULT_NODE_NAME = 'tycho-sim-node';

export interface NodeSimulatorOptions {
  nodeName?: string;
  log?: (line: string) => void;
}

export interface NodeSimulator {
  nodeName: string;
  stop(): Promise<void>;
}

/** How long an ordinary pod is ContainerCreating before it is Running and Ready (the benchmark quotes it). */
export const CREATING_MS = 200;
const SLOW_START_MS = 3000;
const CRASH_AFTER_MS = 1000;
const PULL_ERROR_MS = 3000;
const FIRST_BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 300_000;
const HEARTBEAT_MS = 30_000;

interface ContainerSim {
  name: string;
  image: string;
  spec: V1Container;
  behaviour: PodBehaviour;
  state: V1ContainerState;
  lastState?: V1ContainerState;
  ready: boolean;
  restartCount: number;
  containerID?: string;
  startedAt?: Date;
  backoffMs: number;
  /** Ready as its behaviour has it, before the readiness annotation is applied. */
  probeReady?: boolean;
  /** Runs (0 the first) that ended in a crash asked for by the crash annotation, and how. */
  crashedRuns?: Map<number, 'oom' | 'error'>;
}

interface PodSim {
  uid: string;
  namespace: string;
  name: string;
  restartPolicy: string;
  ip?: string;
  startTime: Date;
  readySince: Date;
  containers: ContainerSim[];
  initContainers: V1Container[];
  timers: Set<NodeJS.Timeout>;
  events: Set<string>;
  patching: boolean;
  dirty: boolean;
  gone: boolean;
  deleting: boolean;
  /** Its readiness probe fails (the readiness annotation): running containers are not Ready. */
  probeFails: boolean;
  /** The crash annotation's value last acted on: a new value crashes the running containers once. */
  crashAsked?: string;
}

/** A pod annotation that makes the simulated readiness probe fail while it is set to "fail". */
export const SIM_READINESS_ANNOTATION = 'sim.tycho.renci.org/readiness';
/** A pod annotation whose every new value crashes its running containers once (`oom…`: OOMKilled). */
export const SIM_CRASH_ANNOTATION = 'sim.tycho.renci.org/crash';
/** How long a container crashed on demand waits before it runs again (a kubelet's first back-off is short). */
const DEMAND_RESTART_MS = 1000;

/** What answers on a simulated address: a Service and the ready pod behind it. */
export interface PortTarget {
  key: string;
  service: string;
  namespace: string;
  pod: string;
  image: string;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);


/** What a container runtime would pull: registry, repository and tag made explicit. */
function fullImageRef(image: string): string {
  const first = image.split('/')[0] ?? '';
  const hasRegistry = image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let ref = hasRegistry ? image : `docker.io/${image.includes('/') ? '' : 'library/'}${image}`;
  const lastPart = ref.split('/').pop() ?? '';
  if (!lastPart.includes(':') && !lastPart.includes('@')) ref += ':latest';
  return ref;
}

function imageID(image: string): string {
  return `${fullImageRef(image).replace(/:[^:/@]+$/, '')}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** The Secrets and ConfigMaps a container's environment names, in the order a kubelet reads them. */
function configRefs(c: V1Container): { kind: 'secret' | 'configmap'; name: string; optional: boolean }[] {
  const ref = (kind: 'secret' | 'configmap', r: { name?: string; optional?: boolean } | undefined) => (r?.name ? [{ kind, name: r.name, optional: !!r.optional }] : []);
  return [
    ...(c.env ?? []).flatMap((e) => [...ref('secret', e.valueFrom?.secretKeyRef), ...ref('configmap', e.valueFrom?.configMapKeyRef)]),
    ...(c.envFrom ?? []).flatMap((e) => [...ref('secret', e.secretRef), ...ref('configmap', e.configMapRef)]),
  ];
}

/** The `config-error` image's message: the first object its environment names, as if missing. */
function configRefMessage(c: V1Container): string {
  const first = configRefs(c)[0];
  return first ? `${first.kind} "${first.name}" not found` : 'secret "app-config" not found';
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The page every simulated app serves (on its nodePort, and through the simulated ingress controller). */
export function servePage(t: PortTarget, res: ServerResponse): void {
  const name = escapeHtml(t.service);
  const image = escapeHtml(t.image);
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>${name}</title></head>
<body><h1>${name}</h1>
<p>Hello from ${name} (image ${image}), served by the Tycho node simulator.</p>
<p>Service ${escapeHtml(t.namespace)}/${name}, pod ${escapeHtml(t.pod)}. No container really runs on this simulated node.</p>
</body></html>
`;
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(html);
}

/** A throw-away certificate for 127.0.0.1 (the kubelet endpoint here; the benchmark's proxy too). */
export async function selfSignedCert(cn: string): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'tycho-sim-cert-'));
  try {
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', `/CN=${cn}`,
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    return { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) };
  } catch (err) {
    throw new Error(`The local cluster needs openssl for its certificates: ${errText(err)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((res, rej) => {
    const onError = (err: Error): void => rej(err);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const addr = server.address();
      res(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}


/**
 * Every simulated node has the address 127.0.0.1, so their kube-proxies would all bind the same
 * NodePorts and all but one would fail (and, retrying, fall seconds behind). Every node routes
 * the same ports to the same ready endpoints, so one simulator plays kube-proxy for the shared
 * address: the first started in this process, and when it stops, the next.
 */
const kubeProxies: { id: symbol; wake: () => void }[] = [];
const playsKubeProxy = (id: symbol): boolean => kubeProxies[0]?.id === id;

export async function startNodeSimulator(kc: KubeConfig, opts: NodeSimulatorOptions = {}): Promise<NodeSimulator> {
  const nodeName = opts.nodeName ?? DEFAULT_NODE_NAME;
  const log = opts.log ?? (() => {});
  const core = kc.makeApiClient(CoreV1Api);
  const api = limiter(32);
  const startedAt = new Date();
  let stopped = false;

  const proxyId = Symbol(nodeName);
  const sims = new Map<string, PodSim>();
  const usedIps = new Set<string>();
  let ipSeq = 0;
  const allocIp = (): string => {
    for (;;) {
      const n = ipSeq++ % (254 * 256);
      const ip = `10.244.${Math.floor(n / 254)}.${(n % 254) + 1}`;
      if (!usedIps.has(ip)) {
        usedIps.add(ip);
        return ip;
      }
    }
  };

  // ---- kubelet HTTPS endpoint: the API server proxies `pods/log` here ----
  const follows = new Set<ServerResponse>();
  const { key, cert } = await selfSignedCert(nodeName);
  const kubeletServer = trackSockets(createHttpsServer({ key, cert }, (req, res) => serveKubelet(req, res)));
  const kubeletPort = await listen(kubeletServer, 0);

  /** `run`: which run of the container (0 the first; a restart is the next), so a previous log differs from the current one. */
  function logLines(pod: PodSim, c: ContainerSim, run: number): string[] {
    const port = c.spec.ports?.[0]?.containerPort ?? 8080;
    const head = [
      `Tycho node simulator: container "${c.name}" of pod ${pod.namespace}/${pod.name} (image ${c.image}); nothing really runs.`,
      `Starting ${c.image} (run ${run + 1})`,
      'Loading configuration',
      ...writtenLines(c.spec),
    ];
    if (c.behaviour === 'crashloop') return [...head, 'Error: simulated crash (the image name contains "crashloop")', 'exit status 1'];
    const demanded = c.crashedRuns?.get(run);
    if (demanded === 'oom') return [...head, `Listening on 0.0.0.0:${port}`, 'Ready to serve requests', 'Allocating a large buffer', 'Killed (simulated: out of memory, the crash annotation)'];
    if (demanded === 'error') return [...head, `Listening on 0.0.0.0:${port}`, 'Ready to serve requests', 'Error: simulated crash after Ready (the crash annotation)', 'exit status 1'];
    if (c.behaviour === 'never-ready') return [...head, `Listening on 0.0.0.0:${port}`, 'Waiting for a dependency that never answers (image name contains "never-ready")'];
    return [...head, `Listening on 0.0.0.0:${port}`, 'Ready to serve requests', 'GET / 200'];
  }

  function serveKubelet(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (url.pathname === '/healthz') {
      res.end('ok');
      return;
    }
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
      res.writeHead(404).end('not found');
      return;
    }
    const [ns, podName, containerName] = m.slice(1).map(decodeURIComponent) as [string, string, string];
    const pod = [...sims.values()].find((s) => s.namespace === ns && s.name === podName && !s.gone);
    const c = pod?.containers.find((x) => x.name === containerName);
    if (!pod || !c) {
      res.writeHead(404).end(`pod ${ns}/${podName} or container "${containerName}" not found on node ${nodeName}`);
      return;
    }
    const waiting = c.state.waiting?.reason;
    if (!c.startedAt || (waiting && waiting !== 'CrashLoopBackOff')) {
      res.writeHead(400).end(`container "${c.name}" in pod "${pod.name}" is waiting to start: ${waiting ?? 'ContainerCreating'}`);
      return;
    }
    // As a kubelet: the previous run's log only once the container has restarted.
    const previous = url.searchParams.get('previous') === 'true';
    if (previous && c.restartCount === 0) {
      res.writeHead(400).end(`previous terminated container "${c.name}" in pod "${pod.name}" not found`);
      return;
    }
    const stamps = url.searchParams.get('timestamps') === 'true';
    const t0 = c.startedAt.getTime();
    const fmt = (line: string, i: number): string => `${stamps ? `${new Date(t0 + i * 100).toISOString()} ` : ''}${line}\n`;
    // A crash-looping container waiting to start again has no current run: its log is its last one's, as a kubelet serves it.
    const current = waiting === 'CrashLoopBackOff' ? c.restartCount - 1 : c.restartCount;
    let lines = logLines(pod, c, previous ? c.restartCount - 1 : Math.max(0, current)).map(fmt);
    const tail = Number(url.searchParams.get('tailLines'));
    if (url.searchParams.has('tailLines') && Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write(lines.join(''));
    if (url.searchParams.get('follow') !== 'true') {
      res.end();
      return;
    }
    // Following: keep the stream open with a line now and then, until the reader leaves.
    follows.add(res);
    let n = 0;
    const timer = setInterval(() => res.write(`${stamps ? `${new Date().toISOString()} ` : ''}GET / 200 (simulated request ${++n})\n`), 2000);
    res.on('close', () => {
      clearInterval(timer);
      follows.delete(res);
    });
  }

  // ---- the Node object ----
  const nodeStatus = (): Record<string, unknown> => {
    const now = new Date().toISOString();
    const since = startedAt.toISOString();
    const cond = (type: string, status: string, reason: string, message: string): Record<string, string> => ({ type, status, reason, message, lastHeartbeatTime: now, lastTransitionTime: since });
    const resources = { cpu: '64', memory: '256Gi', pods: '500', 'ephemeral-storage': '1Ti' };
    return {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (Tycho node simulator)'),
      ],
      // Only an InternalIP: with a Hostname address the API server would try to resolve the node name.
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      // Raw JSON, so the wire name "Port" (the typed model calls it `port`).
      daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      nodeInfo: {
        machineID: 'tycho-sim', systemUUID: 'tycho-sim', bootID: startedAt.getTime().toString(16), kernelVersion: release(),
        osImage: 'Tycho node simulator', containerRuntimeVersion: 'simulated://1.0', kubeletVersion: 'v1.20.2',
        kubeProxyVersion: 'v1.20.2', operatingSystem: 'linux', architecture: 'amd64',
      },
    };
  };

  async function ensureNode(): Promise<void> {
    try {
      await api(() => core.createNode({ body: { metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' } } } }));
      log(`registered node ${nodeName}`);
    } catch (err) {
      if (httpCode(err) !== 409) throw err;
    }
    await api(() => core.patchNodeStatus({ name: nodeName, body: { status: nodeStatus() } }, mergePatch));
    // Admission taints every new node not-ready; the nodelifecycle controller that would lift it is off.
    const node = await api(() => core.readNode({ name: nodeName }));
    const taints = node.spec?.taints ?? [];
    const kept = taints.filter((t) => !t.key.startsWith('node.kubernetes.io/'));
    if (kept.length !== taints.length) {
      await api(() => core.patchNode({ name: nodeName, body: { spec: { taints: kept.length ? kept : null } } }, mergePatch));
    }
  }

  // ---- pods ----
  function later(sim: PodSim, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      sim.timers.delete(t);
      if (!sim.gone && !sim.deleting && !stopped) fn();
    }, ms);
    sim.timers.add(t);
  }

  function podStatus(sim: PodSim): V1PodStatus {
    const allReady = sim.containers.every((c) => c.ready);
    const anyStarted = sim.containers.some((c) => c.startedAt);
    const failed = sim.restartPolicy === 'Never' && sim.containers.some((c) => (c.state.terminated?.exitCode ?? 0) !== 0);
    const unready = sim.containers.filter((c) => !c.ready).map((c) => c.name);
    const readiness: Partial<V1PodCondition> = allReady
      ? { status: 'True', lastTransitionTime: sim.readySince }
      : { status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]`, lastTransitionTime: sim.readySince };
    const status: V1PodStatus = {
      phase: failed ? 'Failed' : anyStarted ? 'Running' : 'Pending',
      hostIP: '127.0.0.1',
      startTime: sim.startTime,
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: sim.startTime },
        { type: 'Ready', ...readiness } as V1PodCondition,
        { type: 'ContainersReady', ...readiness } as V1PodCondition,
        { type: 'PodScheduled', status: 'True', lastTransitionTime: sim.startTime },
      ],
      containerStatuses: sim.containers.map(
        (c): V1ContainerStatus => ({
          name: c.name,
          image: c.image,
          imageID: c.startedAt ? imageID(c.image) : '',
          ...(c.containerID ? { containerID: c.containerID } : {}),
          ready: c.ready,
          restartCount: c.restartCount,
          started: !!c.state.running,
          state: c.state,
          lastState: c.lastState ?? {},
        }),
      ),
    };
    if (sim.initContainers.length) {
      status.initContainerStatuses = sim.initContainers.map((c) => ({
        name: c.name, image: c.image ?? '', imageID: imageID(c.image ?? ''), ready: true, restartCount: 0,
        state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: sim.startTime, finishedAt: sim.startTime } },
      }));
    }
    if (sim.ip) {
      status.podIP = sim.ip;
      status.podIPs = [{ ip: sim.ip }];
    }
    return status;
  }

  /** One patch in flight per pod; changes made meanwhile go out together in the next one. */
  function schedulePatch(sim: PodSim): void {
    sim.dirty = true;
    if (!sim.patching) void flush(sim);
  }

  async function flush(sim: PodSim): Promise<void> {
    sim.patching = true;
    while (sim.dirty && !sim.gone && !sim.deleting && !stopped) {
      sim.dirty = false;
      try {
        // metadata.uid makes the API server refuse the patch if a new pod took this name.
        const body = { metadata: { uid: sim.uid }, status: podStatus(sim) };
        await api(() => core.patchNamespacedPodStatus({ name: sim.name, namespace: sim.namespace, body }, mergePatch));
      } catch (err) {
        const code = httpCode(err);
        if (code === 404 || code === 409 || code === 422) {
          sim.gone = true;
        } else if (!stopped) {
          log(`status of pod ${sim.namespace}/${sim.name}: ${errText(err)}; retrying`);
          await new Promise((r) => setTimeout(r, 1000));
          sim.dirty = true;
        }
      }
    }
    sim.patching = false;
  }

  function event(sim: PodSim, c: ContainerSim, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (sim.events.has(`${c.name}/${reason}/${message}`)) return;
    sim.events.add(`${c.name}/${reason}/${message}`);
    const now = new Date();
    const body = {
      metadata: { name: `${sim.name}.${randomBytes(8).toString('hex')}`, namespace: sim.namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: sim.name, namespace: sim.namespace, uid: sim.uid, fieldPath: `spec.containers{${c.name}}` },
      type, reason, message, count: 1, firstTimestamp: now, lastTimestamp: now,
      source: { component: 'kubelet', host: nodeName }, reportingComponent: 'kubelet', reportingInstance: nodeName,
    };
    api(() => core.createNamespacedEvent({ namespace: sim.namespace, body })).catch((err: unknown) => {
      // A namespace being deleted refuses new events; that is expected, not worth a log line.
      if (!stopped && httpCode(err) !== 403 && httpCode(err) !== 404) log(`event for ${sim.namespace}/${sim.name}: ${errText(err)}`);
    });
  }

  function setReady(sim: PodSim, c: ContainerSim, ready: boolean): void {
    const before = sim.containers.every((x) => x.ready);
    c.ready = ready;
    if (before !== sim.containers.every((x) => x.ready)) sim.readySince = new Date();
  }

  function run(sim: PodSim, c: ContainerSim, ready: boolean): void {
    sim.ip ??= allocIp();
    c.startedAt = new Date();
    c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
    c.state = { running: { startedAt: c.startedAt } };
    c.probeReady = ready;
    setReady(sim, c, ready && !sim.probeFails);
    schedulePatch(sim);
    if (c.behaviour === 'crashloop') later(sim, CRASH_AFTER_MS, () => crash(sim, c));
  }

  function crash(sim: PodSim, c: ContainerSim): void {
    const message = terminationMessage(c.spec);
    const terminated = { exitCode: 1, reason: 'Error', ...(message ? { message } : {}), startedAt: c.startedAt, finishedAt: new Date(), containerID: c.containerID };
    setReady(sim, c, false);
    if (sim.restartPolicy === 'Never') {
      c.state = { terminated };
    } else {
      c.lastState = { terminated };
      c.restartCount++;
      const secs = Math.round(c.backoffMs / 1000);
      c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${secs}s restarting failed container=${c.name} pod=${sim.name}_${sim.namespace}(${sim.uid})` } };
      event(sim, c, 'Warning', 'BackOff', 'Back-off restarting failed container');
      later(sim, c.backoffMs, () => run(sim, c, false));
      c.backoffMs = Math.min(c.backoffMs * 2, MAX_BACKOFF_MS);
    }
    schedulePatch(sim);
  }

  /** The crash annotation: a running container dies now, as an app that crashed after it was Ready. */
  function crashOnDemand(sim: PodSim, c: ContainerSim, kind: 'oom' | 'error'): void {
    const terminated = { ...(kind === 'oom' ? { exitCode: 137, reason: 'OOMKilled' } : { exitCode: 1, reason: 'Error' }), startedAt: c.startedAt, finishedAt: new Date(), containerID: c.containerID };
    (c.crashedRuns ??= new Map()).set(c.restartCount, kind);
    setReady(sim, c, false);
    c.lastState = { terminated };
    c.restartCount++;
    c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 1s restarting failed container=${c.name} pod=${sim.name}_${sim.namespace}(${sim.uid})` } };
    event(sim, c, 'Warning', 'BackOff', 'Back-off restarting failed container');
    later(sim, DEMAND_RESTART_MS, () => run(sim, c, c.behaviour === 'run' || c.behaviour === 'slow-start'));
    schedulePatch(sim);
  }

  function wait(sim: PodSim, c: ContainerSim, reason: string, message: string): void {
    sim.ip ??= allocIp();
    c.state = { waiting: { reason, message } };
    schedulePatch(sim);
  }

  function pullError(sim: PodSim, c: ContainerSim): void {
    const ref = fullImageRef(c.image);
    const why = `rpc error: code = Unknown desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;
    wait(sim, c, 'ErrImagePull', why);
    event(sim, c, 'Warning', 'Failed', `Failed to pull image "${c.image}": ${why}`);
    later(sim, PULL_ERROR_MS, () => {
      wait(sim, c, 'ImagePullBackOff', `Back-off pulling image "${c.image}"`);
      event(sim, c, 'Normal', 'BackOff', `Back-off pulling image "${c.image}"`);
      later(sim, c.backoffMs, () => pullError(sim, c));
      c.backoffMs = Math.min(c.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }

  /**
   * As a kubelet does before it creates a container: every Secret and ConfigMap its environment
   * names (not marked optional) must exist. The first one missing, in the kubelet's words.
   */
  async function missingConfigRef(sim: PodSim, c: ContainerSim): Promise<string | undefined> {
    const namespace = sim.namespace;
    for (const { kind, name } of configRefs(c.spec).filter((r) => !r.optional)) {
      const read = kind === 'secret' ? () => core.readNamespacedSecret({ namespace, name }) : () => core.readNamespacedConfigMap({ namespace, name });
      const found = await api(read).then(
        () => true,
        (err: unknown) => httpCode(err) !== 404,
      );
      if (!found) return `${kind} "${name}" not found`;
    }
    return undefined;
  }

  function startContainer(sim: PodSim, c: ContainerSim): void {
    later(sim, c.behaviour === 'slow-start' ? SLOW_START_MS : CREATING_MS, () => void createContainer(sim, c));
  }

  async function createContainer(sim: PodSim, c: ContainerSim): Promise<void> {
    if (c.behaviour !== 'config-error' && c.behaviour !== 'pull-error' && c.behaviour !== 'invalid-image') {
      const missing = await missingConfigRef(sim, c);
      if (sim.gone || sim.deleting || stopped) return;
      if (missing) {
        // The kubelet keeps trying: the container starts once what it names exists.
        wait(sim, c, 'CreateContainerConfigError', missing);
        event(sim, c, 'Warning', 'Failed', `Error: ${missing}`);
        later(sim, c.backoffMs, () => void createContainer(sim, c));
        c.backoffMs = Math.min(c.backoffMs * 2, MAX_BACKOFF_MS);
        return;
      }
    }
    switch (c.behaviour) {
      case 'run':
      case 'slow-start':
        return run(sim, c, true);
      case 'never-ready':
      case 'crashloop':
        return run(sim, c, false);
      case 'pull-error':
        return pullError(sim, c);
      case 'invalid-image': {
        const msg = `Failed to apply default image tag "${c.image}": couldn't parse image reference "${c.image}": invalid reference format`;
        wait(sim, c, 'InvalidImageName', msg);
        return event(sim, c, 'Warning', 'InspectFailed', msg);
      }
      case 'config-error': {
        const msg = configRefMessage(c.spec);
        wait(sim, c, 'CreateContainerConfigError', msg);
        return event(sim, c, 'Warning', 'Failed', `Error: ${msg}`);
      }
    }
  }

  function newSim(pod: V1Pod): PodSim {
    const now = new Date();
    const sim: PodSim = {
      uid: pod.metadata?.uid ?? '',
      namespace: pod.metadata?.namespace ?? '',
      name: pod.metadata?.name ?? '',
      restartPolicy: pod.spec?.restartPolicy ?? 'Always',
      startTime: now,
      readySince: now,
      initContainers: pod.spec?.initContainers ?? [],
      containers: (pod.spec?.containers ?? []).map((spec) => ({
        name: spec.name, image: spec.image ?? '', spec, behaviour: behaviourOf(spec.image ?? ''),
        state: { waiting: { reason: 'ContainerCreating' } }, ready: false, restartCount: 0, backoffMs: FIRST_BACKOFF_MS,
      })),
      timers: new Set(), events: new Set(), patching: false, dirty: false, gone: false, deleting: false,
      probeFails: pod.metadata?.annotations?.[SIM_READINESS_ANNOTATION] === 'fail',
      // A pod made with the annotation does not crash for it: only a new value does.
      ...(pod.metadata?.annotations?.[SIM_CRASH_ANNOTATION] ? { crashAsked: pod.metadata.annotations[SIM_CRASH_ANNOTATION] } : {}),
    };
    const ip = pod.status?.podIP;
    if (ip) {
      sim.ip = ip;
      usedIps.add(ip);
    }
    return sim;
  }

  /** A pod a previous simulator already brought up (same etcd, restarted daemon) is left as it is. */
  function adopt(pod: V1Pod, sim: PodSim): boolean {
    const st = pod.status;
    const statuses = st?.containerStatuses ?? [];
    const running = st?.phase === 'Running' && statuses.length === sim.containers.length && statuses.every((s) => s.ready);
    if (!running && st?.phase !== 'Succeeded' && st?.phase !== 'Failed') return false;
    for (const c of sim.containers) {
      const s = statuses.find((x) => x.name === c.name);
      c.state = s?.state ?? c.state;
      c.ready = !!s?.ready;
      c.probeReady = c.behaviour === 'run' || c.behaviour === 'slow-start';
      c.restartCount = s?.restartCount ?? 0;
      c.containerID = s?.containerID;
      c.startedAt = s?.state?.running?.startedAt ? new Date(s.state.running.startedAt) : new Date();
    }
    if (st?.startTime) sim.startTime = new Date(st.startTime);
    return true;
  }

  async function finishDeletion(sim: PodSim): Promise<void> {
    try {
      // The uid precondition keeps this from deleting a new pod that reused the name.
      await api(() => core.deleteNamespacedPod({ name: sim.name, namespace: sim.namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid: sim.uid } } }));
    } catch (err) {
      const code = httpCode(err);
      if (code === 404 || code === 409 || stopped) return;
      log(`deleting pod ${sim.namespace}/${sim.name}: ${errText(err)}; retrying`);
      setTimeout(() => {
        if (!stopped && sims.get(sim.uid) === sim) void finishDeletion(sim);
      }, 2000);
    }
  }

  function onPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (stopped || !uid || pod.spec?.nodeName !== nodeName) return;
    let sim = sims.get(uid);
    if (!sim) {
      sim = newSim(pod);
      sims.set(uid, sim);
      if (!pod.metadata?.deletionTimestamp && !adopt(pod, sim)) {
        schedulePatch(sim); // ContainerCreating first, as a kubelet reports it
        for (const c of sim.containers) startContainer(sim, c);
      }
    }
    // The readiness probe: a running container that would be Ready is not while the probe fails.
    const probeFails = pod.metadata?.annotations?.[SIM_READINESS_ANNOTATION] === 'fail';
    if (probeFails !== sim.probeFails && !sim.deleting) {
      sim.probeFails = probeFails;
      for (const c of sim.containers) if (c.state.running && c.probeReady) setReady(sim, c, !probeFails);
      schedulePatch(sim);
    }
    const crashAsk = pod.metadata?.annotations?.[SIM_CRASH_ANNOTATION];
    if (crashAsk && crashAsk !== sim.crashAsked && !sim.deleting) {
      sim.crashAsked = crashAsk;
      for (const c of sim.containers) if (c.state.running) crashOnDemand(sim, c, crashAsk.startsWith('oom') ? 'oom' : 'error');
    }
    if (pod.metadata?.deletionTimestamp && !sim.deleting) {
      sim.deleting = true;
      for (const t of sim.timers) clearTimeout(t);
      sim.timers.clear();
      void finishDeletion(sim);
    }
    requestReconcile();
  }

  function onPodDeleted(pod: V1Pod): void {
    const sim = sims.get(pod.metadata?.uid ?? '');
    if (sim) {
      sim.gone = true;
      for (const t of sim.timers) clearTimeout(t);
      if (sim.ip) usedIps.delete(sim.ip);
      sims.delete(sim.uid);
    }
    requestReconcile();
  }

  // ---- NodePort listeners ----
  const listeners = new Map<number, { server: Server; target: PortTarget }>();
  const portProblems = new Set<number>();
  let reconcileTimer: NodeJS.Timeout | undefined;
  let reconcileDue = Infinity;
  let reconciling = false;
  let reconcileAgain = false;

  /** A later retry (a port someone else holds) never delays a sooner change. */
  function requestReconcile(delayMs = 25): void {
    if (stopped) return;
    const due = Date.now() + delayMs;
    if (reconcileTimer && reconcileDue <= due) return;
    clearTimeout(reconcileTimer);
    reconcileDue = due;
    reconcileTimer = setTimeout(() => {
      reconcileTimer = undefined;
      reconcileDue = Infinity;
      void runReconcile();
    }, delayMs);
  }

  async function runReconcile(): Promise<void> {
    if (reconciling) {
      reconcileAgain = true;
      return;
    }
    reconciling = true;
    try {
      do {
        reconcileAgain = false;
        await reconcileOnce();
      } while (reconcileAgain && !stopped);
    } catch (err) {
      log(`nodePort listeners: ${errText(err)}`);
    } finally {
      reconciling = false;
    }
  }

  /**
   * Like kube-proxy: a NodePort routes only to the ready addresses of the Service's Endpoints,
   * which the endpoints controller fills in after the pod turns Ready. So a URL answers only
   * once the real cluster would route it, not the moment the pod is Ready.
   */
  function desiredPorts(): Map<number, PortTarget> {
    const desired = new Map<number, PortTarget>();
    if (!playsKubeProxy(proxyId)) return desired;
    for (const svc of serviceInformer.list()) {
      const type = svc.spec?.type;
      const ns = svc.metadata?.namespace ?? '';
      const name = svc.metadata?.name ?? '';
      if (type !== 'NodePort' && type !== 'LoadBalancer') continue;
      const ep = endpointsInformer.get(name, ns);
      const address = ep?.subsets?.flatMap((s) => s.addresses ?? []).find((a) => a.targetRef?.kind === 'Pod');
      if (!address) continue;
      const pod = podInformer.get(address.targetRef?.name ?? '', ns);
      const image = pod?.spec?.containers[0]?.image ?? '';
      for (const port of svc.spec?.ports ?? []) {
        if (port.nodePort) desired.set(port.nodePort, { key: `${ns}/${name}`, service: name, namespace: ns, pod: address.targetRef?.name ?? '', image });
      }
    }
    return desired;
  }

  async function reconcileOnce(): Promise<void> {
    const desired = stopped ? new Map<number, PortTarget>() : desiredPorts();
    for (const [port, l] of listeners) {
      if (desired.get(port)?.key === l.target.key) continue;
      listeners.delete(port);
      await closeServer(l.server);
      log(`nodePort ${port} closed (${l.target.key})`);
    }
    for (const [port, target] of desired) {
      const existing = listeners.get(port);
      if (existing) {
        existing.target = target; // the serving pod or its image may have changed
        continue;
      }
      const entry = { server: createHttpServer((req, res) => servePage(entry.target, res)), target };
      try {
        await listen(entry.server, port);
        listeners.set(port, entry);
        portProblems.delete(port);
        log(`nodePort ${port} serving ${target.key}: http://127.0.0.1:${port}`);
      } catch (err) {
        // Another program (or another local cluster) holds the port; try again later.
        if (!portProblems.has(port)) log(`cannot listen on 127.0.0.1:${port} for ${target.key}: ${errText(err)}; will retry`);
        portProblems.add(port);
        requestReconcile(5000);
      }
    }
  }

  // ---- watches ----
  const restarts = watchRestarts(log);

  const fieldSelector = `spec.nodeName=${nodeName}`;
  const podInformer = new ListWatch<V1Pod>('/api/v1/pods', new Watch(kc), () => core.listPodForAllNamespaces({ fieldSelector }), false, undefined, fieldSelector);
  const serviceInformer = new ListWatch<V1Service>('/api/v1/services', new Watch(kc), () => core.listServiceForAllNamespaces(), false);
  const endpointsInformer = new ListWatch<V1Endpoints>('/api/v1/endpoints', new Watch(kc), () => core.listEndpointsForAllNamespaces(), false);
  podInformer.on('add', onPod);
  podInformer.on('update', onPod);
  podInformer.on('delete', onPodDeleted);
  restarts.keep('pod', podInformer);
  for (const verb of ['add', 'update', 'delete'] as const) serviceInformer.on(verb, () => requestReconcile());
  restarts.keep('service', serviceInformer);
  for (const verb of ['add', 'update', 'delete'] as const) endpointsInformer.on(verb, () => requestReconcile());
  restarts.keep('endpoints', endpointsInformer);

  let heartbeat: NodeJS.Timeout | undefined;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const at = kubeProxies.findIndex((p) => p.id === proxyId);
    if (at >= 0) kubeProxies.splice(at, 1);
    clearInterval(heartbeat);
    clearTimeout(reconcileTimer);
    restarts.stop();
    for (const sim of sims.values()) for (const t of sim.timers) clearTimeout(t);
    await Promise.all([podInformer.stop(), serviceInformer.stop(), endpointsInformer.stop()]);
    while (reconciling) await new Promise((r) => setTimeout(r, 10));
    await reconcileOnce(); // closes every nodePort listener
    kubeProxies[0]?.wake(); // the next node takes over the ports just freed
    for (const res of follows) res.end();
    await closeServer(kubeletServer);
  };

  try {
    await ensureNode();
    await serviceInformer.start();
    await endpointsInformer.start();
    await podInformer.start();
    kubeProxies.push({ id: proxyId, wake: () => requestReconcile() });
    requestReconcile();
  } catch (err) {
    await stop();
    throw new Error(`node simulator could not start: ${errText(err)}`);
  }
  // Nothing evicts without the nodelifecycle controller; the heartbeat keeps `kubectl get nodes`
  // truthful and re-registers the node if someone deleted it.
  heartbeat = setInterval(() => {
    api(() => core.patchNodeStatus({ name: nodeName, body: { status: nodeStatus() } }, mergePatch))
      .catch((err: unknown) => (httpCode(err) === 404 ? ensureNode() : Promise.reject(err)))
      .catch((err: unknown) => {
        if (!stopped) log(`node heartbeat: ${errText(err)}`);
      });
  }, HEARTBEAT_MS);
  log(`node ${nodeName} ready (kubelet endpoint https://127.0.0.1:${kubeletPort})`);
  return { nodeName, stop };
}
