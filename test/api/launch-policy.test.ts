/**
 * The REST API follows the same launch policy as Slack and the CLI (issue 8): cpu, memory and
 * GPU above the operator's maxima are refused with the rule and its setting named, and nothing
 * is created; the token's holder is limited too unless TYCHO_API_TOKEN_UNLIMITED=true; and
 * `secret_env` keeps values in a Secret, out of the Deployment and the log.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { RunningTycho } from '../../src/server/tycho.js';
import { createLogger } from '../../src/log.js';
import { createTestNamespace, kubeConfig, waitFor } from '../support/cluster.js';
import { call, objectsIn, startServer, TOKEN } from './helpers.js';

let ns: string;
/** No token: loopback callers only. */
let loopback: RunningTycho;
let withToken: RunningTycho;
let unlimitedToken: RunningTycho;
const logLines: string[] = [];

beforeAll(async () => {
  ns = await createTestNamespace('api-policy');
  loopback = await startServer({ namespace: ns, log: createLogger({ level: 'debug', write: (line) => logLines.push(line) }) });
  withToken = await startServer({ namespace: ns, token: TOKEN });
  unlimitedToken = await startServer({ namespace: ns, token: TOKEN, env: { TYCHO_API_TOKEN_UNLIMITED: 'true' } });
});
afterAll(async () => {
  await Promise.all([loopback, withToken, unlimitedToken].map((s) => s?.stop()));
});

const apps = () => kubeConfig().makeApiClient(AppsV1Api);
const core = () => kubeConfig().makeApiClient(CoreV1Api);
const bearer = { Authorization: `Bearer ${TOKEN}` };

function startBody(name: string, container: Record<string, unknown> = {}) {
  return { name, containers: [{ name, image: 'nginx', ports: [{ containerPort: 80 }], ...container }] };
}

describe('resources above the maxima', () => {
  it.each([
    [{ cpus: '60' }, /^The cpu amount "60" is more than the 4 cpu a system may have here \(the operator's setting TYCHO_MAX_CPU\)/],
    [{ cpus: 4.5 }, /TYCHO_MAX_CPU/],
    [{ memory: '200Gi' }, /^The memory amount "200Gi" is more than the 16Gi a system may have here \(the operator's setting TYCHO_MAX_MEMORY\)/],
    [{ gpus: '2' }, /TYCHO_MAX_GPU/],
  ])('%j is refused with 400, naming the rule and its setting; nothing is created', async (limits, rule) => {
    const r = await call(loopback.url, '/system/start', startBody('too-big', { limits: [limits] }));
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ status: 'error', result: { code: 'usage' } });
    expect(r.json.message).toMatch(rule);
    expect(r.json.result.error).toBe(r.json.message);
    expect(await objectsIn(ns)).toEqual([]);
  });

  it('a quantity beyond what Kubernetes can hold is refused in one sentence, never stored as int64\'s largest value', async () => {
    const r = await call(loopback.url, '/system/start', startBody('overflow', { limits: [{ memory: '99999999999999999999Ei' }] }));
    expect(r.status).toBe(400);
    expect(r.json.result.errors).toEqual([
      expect.objectContaining({ field: 'body.containers[0].limits[0].memory', rule: 'format:memory-quantity', message: expect.stringMatching(/"99999999999999999999Ei" is too large: Kubernetes can hold less than 8Ei\.$/) }),
    ]);
    expect(await objectsIn(ns)).toEqual([]);
  });

  it('the token\'s holder is limited too, unless the operator sets TYCHO_API_TOKEN_UNLIMITED=true', async () => {
    const limited = await call(withToken.url, '/system/start', startBody('token-app', { limits: [{ cpus: '5' }] }), { headers: bearer });
    expect(limited.status).toBe(400);
    expect(limited.json.message).toMatch(/TYCHO_MAX_CPU/);
    expect(await objectsIn(ns)).toEqual([]);

    const allowed = await call(unlimitedToken.url, '/system/start?wait=false', startBody('token-app', { limits: [{ cpus: '5' }] }), { headers: bearer });
    expect(allowed.status).toBe(201);
    const dep = await apps().readNamespacedDeployment({ namespace: ns, name: 'token-app' });
    expect(dep.spec?.template.spec?.containers[0]?.resources?.limits).toMatchObject({ cpu: '5' });
    expect((await call(unlimitedToken.url, '/system/delete', { name: 'token-app' }, { headers: bearer })).status).toBe(200);
  });
});

describe('secret_env', () => {
  it('keeps the values in a Secret owned by the Deployment and referenced by secretKeyRef; the Deployment, the answer and the log never hold them', async () => {
    const name = 'api-secret';
    const r = await call(loopback.url, '/system/start', startBody(name, { env: ['A=1'], secret_env: ['DB_PASSWORD=hunter2'] }));
    expect(r.status).toBe(201);
    expect(r.text).not.toContain('hunter2');

    const dep = await apps().readNamespacedDeployment({ namespace: ns, name });
    expect(JSON.stringify(dep)).not.toContain('hunter2');
    expect(dep.spec?.template.spec?.containers[0]?.env).toEqual([
      { name: 'A', value: '1' },
      expect.objectContaining({ name: 'DB_PASSWORD', valueFrom: expect.objectContaining({ secretKeyRef: expect.objectContaining({ name, key: 'DB_PASSWORD' }) }) }),
    ]);
    const secret = await core().readNamespacedSecret({ namespace: ns, name });
    expect(Buffer.from(secret.data?.DB_PASSWORD ?? '', 'base64').toString('utf8')).toBe('hunter2');
    expect(secret.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name, uid: dep.metadata?.uid });

    expect((await call(loopback.url, '/system/delete', { name })).status).toBe(200);
    await waitFor(() => core().readNamespacedSecret({ namespace: ns, name }).then(() => false, (e: { code?: number }) => e.code === 404), { what: 'the Secret to be garbage-collected' });
    expect(logLines.some((l) => l.includes(name))).toBe(true);
    expect(logLines.filter((l) => l.includes('hunter2'))).toEqual([]);
  });

  it('a name in both env and secret_env is refused with 400; nothing is created', async () => {
    const r = await call(loopback.url, '/system/start', startBody('clash', { env: ['TOKEN=a'], secret_env: ['TOKEN=b'] }));
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/^The environment variable TOKEN is given both in plain text and as a secret; give it once\.$/);
    expect(await objectsIn(ns)).toEqual([]);
  });
});
