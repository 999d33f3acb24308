/**
 * Shared by the API and CLI tests: a real Tycho server on a real cluster namespace, a tiny
 * HTTP client for the API, and what a namespace holds (to prove that nothing was created).
 */
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { loadConfig, type Env } from '../../src/config.js';
import { startTycho, type RunningTycho, type StartOptions } from '../../src/server/tycho.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { validateValue } from '../../src/api/validate-request.js';
import type { FieldError } from '../../src/api/wire.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';

export const TOKEN = 'test-token-0123456789abcdef';

export interface ServerOptions {
  namespace: string;
  token?: string;
  host?: string;
  kc?: KubeConfig;
  env?: Env;
  /** Where the server logs; default nowhere. */
  log?: Logger;
  /** The repair's grace period (StartOptions.repairGraceMs); default the server's own (10 s). */
  repairGraceMs?: number;
  /** The live view's watch tuning (StartOptions.viewOptions). */
  viewOptions?: StartOptions['viewOptions'];
}

export function startServer(o: ServerOptions): Promise<RunningTycho> {
  const env: Env = {
    PORT: '0',
    HOST: o.host ?? '127.0.0.1',
    TYCHO_NAMESPACE: o.namespace,
    TYCHO_READY_TIMEOUT: '60',
    ...(o.token ? { TYCHO_API_TOKEN: o.token } : {}),
    ...o.env,
  };
  return startTycho(loadConfig(env), o.log ?? silentLogger, { kubeConfig: o.kc ?? kubeConfig(), repairGraceMs: o.repairGraceMs, viewOptions: o.viewOptions });
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  // The tests look into answers field by field; `any` keeps that readable.
  json: any;
  text: string;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as is instead of JSON.stringify(body). */
  raw?: string | Uint8Array;
}

export async function call(base: string, path: string, body?: unknown, o: CallOptions = {}): Promise<ApiAnswer> {
  const payload = o.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const r = await fetch(new URL(path, base), {
    method: o.method ?? 'POST',
    headers: { ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}), ...o.headers },
    ...(payload !== undefined ? { body: payload } : {}),
  });
  return answerOf(r.status, r.headers, await r.text());
}

function answerOf(status: number, headers: Headers, text: string): ApiAnswer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, json, text };
}

/**
 * A POST through node:http rather than fetch(): it sends the headers exactly as given (fetch
 * replaces Host, as browsers do, but an attacker's DNS name arrives in it) and can stream a
 * body. The answer counts as soon as it arrives: a server that refuses a body early closes the
 * connection while it is still being sent, and the broken pipe that follows is not an error.
 */
export function post(url: string, o: { headers?: Record<string, string>; body?: string | Buffer | Readable } = {}): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: 'POST', headers: o.headers ?? {} }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
        resolve(answerOf(res.statusCode ?? 0, headers, Buffer.concat(chunks).toString('utf8')));
      });
      res.on('error', reject);
    });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    if (o.body instanceof Readable) {
      o.body.on('error', () => {});
      o.body.pipe(req);
    } else req.end(o.body);
  });
}

/** `total` zero bytes, made as they are read, so the test itself never holds them. */
export function zeros(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024);
  let made = 0;
  return new Readable({
    read() {
      if (made >= total) return void this.push(null);
      const n = Math.min(chunk.length, total - made);
      made += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** Checks a value against a schema of the published document; returns the broken rules. */
export function schemaErrors(value: unknown, schemaName: string): FieldError[] {
  return validateValue(value, { $ref: `#/components/schemas/${schemaName}` }, 'answer');
}

/** Every Deployment, Service, ReplicaSet and Pod in the namespace, as "Kind/name". */
export async function objectsIn(namespace: string): Promise<string[]> {
  const kc = kubeConfig();
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const [d, rs, p, s] = await Promise.all([
    apps.listNamespacedDeployment({ namespace }),
    apps.listNamespacedReplicaSet({ namespace }),
    core.listNamespacedPod({ namespace }),
    core.listNamespacedService({ namespace }),
  ]);
  return [
    ...d.items.map((o) => `Deployment/${o.metadata!.name}`),
    ...rs.items.map((o) => `ReplicaSet/${o.metadata!.name}`),
    ...p.items.map((o) => `Pod/${o.metadata!.name}`),
    ...s.items.map((o) => `Service/${o.metadata!.name}`),
  ].sort();
}

/** The original client's body for a system of this name, as the issue gives it. */
export function originalBody(name: string, image = 'jupyter/datascience-notebook') {
  return {
    name,
    containers: [
      {
        name: `${name}-c`,
        image,
        command: ['start.sh', 'jupyter', 'lab', "--LabApp.token=''"],
        env: ['A=1'],
        limits: [{ cpus: '0.3', memory: '512M' }],
        ports: [{ containerPort: 8888 }],
      },
    ],
  };
}

/**
 * For a test file that needs one server in its own namespace: registers beforeAll/afterAll
 * and returns a handle whose fields are set once beforeAll has run.
 */
export function serverInFreshNamespace(prefix: string, o: Omit<ServerOptions, 'namespace'> = {}): { ns: string; server: RunningTycho } {
  const handle = {} as { ns: string; server: RunningTycho };
  beforeAll(async () => {
    handle.ns = await createTestNamespace(prefix);
    handle.server = await startServer({ ...o, namespace: handle.ns });
  });
  afterAll(async () => {
    await handle.server?.stop();
  });
  return handle;
}
