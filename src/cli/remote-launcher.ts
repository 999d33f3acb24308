/**
 * The CLI's remote mode (`-s URL` or TYCHO_URL): the SystemLauncher interface over a Tycho server's
 * REST API, so the command layer and the terminal output are exactly those of direct mode.
 * Failures come back as the same TychoError codes (the envelope carries `result.code`), so
 * the exit statuses match too.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SystemLauncher, UpOptions } from '../k8s/system-launcher.js';
import { ClusterUnreachable, TychoError, UsageError, type TychoErrorCode } from '../k8s/errors.js';
import type { LaunchSpec, Stage, SystemInfo } from '../k8s/spec.js';
import { usageLine } from '../commands/usage.js';
import { OWNER_HEADER, type Envelope, type ErrorResult, type StartResult, type StatusItem } from '../api/wire.js';
import { startBodyFor, systemFromStatusItem } from '../api/wire-conversions.js';
import { EXIT_CODES } from './exit-codes.js';

/** A failure the server reported, with the server's own code and sentence. */
export class RemoteError extends TychoError {
  constructor(
    readonly code: TychoErrorCode,
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

/** When the answer carries no code (a proxy's error page, an older server): guess from the status. */
const CODE_BY_STATUS: Record<number, TychoErrorCode> = { 400: 'usage', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'name_in_use', 410: 'torn_down', 413: 'usage', 422: 'invalid_spec', 503: 'cluster_unreachable', 504: 'timeout' };

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const PROGRESS_POLL_MS = 1000;

interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * Who asks travels in X-Tycho-Owner: the server records it as the owner of a launch and as who
 * tore a system down. The CLI has checked the name as the server will (cli/main.ts).
 */
function asOwner(display: string): Record<string, string> {
  return display ? { [OWNER_HEADER]: display } : {};
}

export class RemoteLauncher implements SystemLauncher {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  async up(spec: LaunchSpec, o: UpOptions = {}): Promise<SystemInfo> {
    if (spec.expose) {
      throw new UsageError('--expose (or --service-type) cannot be chosen with -s URL: the Tycho server\'s TYCHO_DEFAULT_EXPOSE decides it.', usageLine('up', 'tycho '));
    }
    const query: Record<string, string> = {};
    if (o.wait === false) query.wait = 'false';
    if (o.timeoutSeconds !== undefined) query.timeout = String(o.timeoutSeconds);
    const progress = o.onProgress ? this.followProgress(spec.name, o.onProgress) : undefined;
    let started: StartResult;
    try {
      started = await this.call<StartResult>('system/start', startBodyFor(spec), query, asOwner(spec.owner.display));
    } finally {
      progress?.stop();
    }
    // The start answer has the original's shape; the full picture (for --json) is in status.
    const info = await this.status(spec.name).catch(() => undefined);
    progress?.finish(info?.stage ?? (o.wait === false ? 'created' : 'ready'));
    // What the server opened before answering, so remote mode warns as direct mode does.
    const urlCheck = started.url_checked !== undefined && started.url_verified !== undefined ? { urlCheck: { checked: started.url_checked, verified: started.url_verified } } : {};
    if (info) return { ...info, ...urlCheck };
    return (
      {
        ...urlCheck,
        name: spec.name,
        namespace: '',
        image: spec.image,
        ports: [],
        url: started.url,
        ready: o.wait !== false,
        stage: o.wait === false ? 'created' : 'ready',
        owner: spec.owner.display,
        ownerId: spec.owner.id,
        origin: 'api',
        created: new Date().toISOString(),
        expires: null,
        annotations: {},
      }
    );
  }

  /** `by` is an owner id ("cli:alice"); the server is told the name, and records it as its caller's. */
  async down(name: string, by?: string): Promise<SystemInfo> {
    await this.call<null>('system/delete', { name }, {}, asOwner(by?.replace(/^[a-z]+:/, '') ?? ''));
    return { name, namespace: '', image: '', ports: [], url: null, ready: false, stage: 'terminating', owner: '', ownerId: '', origin: '', created: '', expires: null, annotations: {} };
  }

  async status(name: string): Promise<SystemInfo> {
    const items = await this.call<StatusItem[]>('system/status', { name });
    const first = items[0];
    if (!first) throw new RemoteError('not_found', `There is no system named "${name}".`, 404);
    return systemFromStatusItem(first);
  }

  async list(): Promise<SystemInfo[]> {
    return (await this.call<StatusItem[]>('system/status', {})).map(systemFromStatusItem);
  }

  /**
   * The start call answers only at the end, so while it runs we poll status and report each
   * new stage, as direct mode does from its watch. Errors while polling are ignored: the
   * start call's own answer is what counts.
   */
  private followProgress(name: string, onProgress: NonNullable<UpOptions['onProgress']>): { stop(): void; finish(stage: Stage): void } {
    const seen = new Set<Stage>();
    const report = (stage: Stage, describe: string) => {
      if (seen.has(stage) || stage === 'terminating' || stage === 'failed') return;
      // Direct mode always says "created" first; the objects exist once status finds them.
      if (!seen.has('created') && stage !== 'created') report('created', 'Deployment and Service created');
      seen.add(stage);
      onProgress(stage, { describe });
    };
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      try {
        const [s] = await this.call<StatusItem[]>('system/status', { name });
        if (s && !stopped) report(s.stage, s.reason ?? s.stage);
      } catch {
        // Not there yet, or a hiccup: the next tick tries again.
      }
      if (!stopped) timer = setTimeout(tick, PROGRESS_POLL_MS);
    };
    timer = setTimeout(tick, PROGRESS_POLL_MS / 2);
    return {
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
      finish(stage: Stage) {
        report(stage, stage);
      },
    };
  }

  private async call<T>(path: string, body: unknown, query: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<T> {
    const url = new URL(path, `${this.baseUrl.replace(/\/+$/, '')}/`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const answer = await this.post(url, JSON.stringify(body), headers);
    let envelope: Envelope<unknown> | undefined;
    try {
      const parsed = JSON.parse(answer.text) as Partial<Envelope<unknown>>;
      if ((parsed.status === 'success' || parsed.status === 'error') && typeof parsed.message === 'string') envelope = parsed as Envelope<unknown>;
    } catch {
      // Not JSON: handled below.
    }
    if (!envelope) {
      throw new ClusterUnreachable(`The server at ${this.baseUrl} did not answer like a Tycho server (HTTP ${answer.status}); check the URL given with -s or TYCHO_URL.`);
    }
    if (envelope.status === 'success' && answer.status < 400) return envelope.result as T;
    const result = envelope.result as Partial<ErrorResult> | null;
    const code = result?.code && result.code in EXIT_CODES ? result.code : (CODE_BY_STATUS[answer.status] ?? 'internal');
    const err = new RemoteError(code, result?.error ?? envelope.message, answer.status);
    if (typeof result?.left_in_place === 'string') err.leftInPlace = result.left_in_place;
    throw err;
  }

  /** node:http rather than fetch: a launch may take minutes, longer than fetch's header timeout. */
  private post(url: URL, payload: string, headers: Record<string, string>): Promise<HttpAnswer> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = send(
        url,
        {
          method: 'POST',
          // One connection per call: nothing is left open to keep the CLI process alive.
          agent: false,
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'Content-Length': Buffer.byteLength(payload),
            ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
            ...headers,
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) res.destroy(new Error('answer too large'));
            else chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (e) => reject(this.unreachable(e)));
        },
      );
      req.on('error', (e) => reject(this.unreachable(e)));
      req.end(payload);
    });
  }

  private unreachable(e: Error & { code?: string }): ClusterUnreachable {
    return new ClusterUnreachable(`Cannot reach the Tycho server at ${this.baseUrl} (${e.code ?? e.message}); check the URL given with -s or TYCHO_URL, and that the server is running.`);
  }
}
