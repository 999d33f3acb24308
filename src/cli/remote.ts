/**
 * The CLI's remote mode (`-s URL` or TYCHO_URL): each command is asked of a Tycho server
 * through its REST binding (api/rest-binding.ts), which says what to send and how to read the
 * answer back into the result direct mode would give, so the terminal output is the same.
 * Failures come back as the same TychoError codes (the envelope carries `result.code`), so the
 * exit statuses match too.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { RunContext } from '../commands/command.js';
import { commandModule, type Command, type ResultOf } from '../commands/registry.js';
import { ClusterUnreachable, TYCHO_ERROR_CODES, TychoError, UsageError, type TychoErrorCode } from '../k8s/errors.js';
import type { Stage } from '../k8s/spec.js';
import type { UpOptions } from '../k8s/system-launcher.js';
import { HTTP_STATUS } from '../api/envelope.js';
import type { RemoteSession, RestCall } from '../api/rest-binding.js';
import { OWNER_HEADER, type Envelope, type ErrorResult, type StatusItem } from '../api/wire.js';

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

/**
 * The code of an answer that carries none (an older server): the first code whose HTTP status
 * (HTTP_STATUS, the server's one table) is this one, e.g. 404 → not_found; a status the table
 * does not have is a refused request (4xx, e.g. 413 from the body limit) or a failure (5xx).
 */
export function codeOfStatus(status: number): TychoErrorCode {
  return TYCHO_ERROR_CODES.find((c) => HTTP_STATUS[c] === status) ?? (status >= 400 && status < 500 ? 'usage' : 'internal');
}

const isCode = (c: unknown): c is TychoErrorCode => (TYCHO_ERROR_CODES as readonly unknown[]).includes(c);

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const PROGRESS_POLL_MS = 1000;

interface HttpAnswer {
  status: number;
  text: string;
}

export class RemoteCommands {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  run<C extends Command>(cmd: C, ctx: RunContext): Promise<ResultOf<C['kind']>>;
  run(cmd: { kind: string }, ctx: RunContext): Promise<{ kind: string }>;
  async run(cmd: { kind: string }, ctx: RunContext): Promise<{ kind: string }> {
    const rest = commandModule(cmd.kind)?.rest as RestCall<{ kind: string }, { kind: string }> | undefined;
    if (!rest) throw new UsageError(`"${cmd.kind}" cannot be asked of a Tycho server: it has no REST operation.`, '');
    const { body, query } = rest.request(cmd, ctx);
    // Who asks travels in X-Tycho-Owner: the server records it as the owner of a launch and as
    // who tore a system down. The CLI has checked the name as the server will (cli/main.ts).
    const who = ctx.caller.owner.display;
    const progress = ctx.onProgress && rest.progress ? this.followProgress(rest.progress.name(cmd), ctx.onProgress) : undefined;
    let answer: unknown;
    try {
      answer = await this.call(rest.path, body, query ?? {}, who ? { [OWNER_HEADER]: who } : {});
    } finally {
      progress?.stop();
    }
    // What the binding asks next (a start's status) reports no progress of its own.
    const { onProgress: _progress, ...quiet } = ctx;
    const session: RemoteSession = { run: (next) => this.run(next, quiet) };
    const result = await rest.result(answer, cmd, ctx, session);
    if (progress && rest.progress) progress.finish(rest.progress.finalStage(result));
    return result;
  }

  /**
   * A start answers only at the end, so while it runs we poll status and report each new
   * stage, as direct mode does from its watch. Errors while polling are ignored: the call's
   * own answer is what counts.
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
    const statusPath = commandModule('status').rest!.path;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    const tick = async () => {
      try {
        const [s] = (await this.call(statusPath, { name }, {}, {})) as StatusItem[];
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

  private async call(path: string, body: unknown, query: Record<string, string>, headers: Record<string, string>): Promise<unknown> {
    const url = new URL(path.replace(/^\/+/, ''), `${this.baseUrl.replace(/\/+$/, '')}/`);
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
    if (envelope.status === 'success' && answer.status < 400) return envelope.result;
    const result = envelope.result as Partial<ErrorResult> | null;
    const code = isCode(result?.code) ? result.code : codeOfStatus(answer.status);
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
