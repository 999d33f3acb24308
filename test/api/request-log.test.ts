/**
 * REST requests in the log (pino-http): every request gets an id, returned as X-Request-Id and
 * carried by each of its lines; a REST launch's launch id is that request id, on the Deployment
 * and on the launcher's lines; and the bearer token and cookies of the request are censored.
 */
import { AppsV1Api } from '@kubernetes/client-node';
import { ANN_LAUNCH_ID } from '../../src/k8s/labels.js';
import { createLogger } from '../../src/log.js';
import type { RunningTycho } from '../../src/server/tycho.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { call, startServer, TOKEN } from './helpers.js';

const COOKIE = 'session=cookie-value-0123456789';
let ns: string;
let tycho: RunningTycho;
const lines: Record<string, any>[] = [];

beforeAll(async () => {
  ns = await createTestNamespace('api-request-log');
  tycho = await startServer({ namespace: ns, token: TOKEN, log: createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l)) }) });
});
afterAll(async () => {
  await tycho?.stop();
});

it('a launch: its request id is in the answer, on every line of the request and on the Deployment; the token is not in the log', async () => {
  const res = await call(
    tycho.url,
    '/system/start?wait=false',
    { name: 'logged-app', containers: [{ name: 'logged-app', image: 'nginx', ports: [{ containerPort: 80 }] }] },
    { headers: { Authorization: `Bearer ${TOKEN}`, Cookie: COOKIE } },
  );
  expect(res.status).toBe(201);
  const id = res.headers.get('x-request-id');
  expect(id).toMatch(/^[0-9a-f]{12}$/);

  const ofRequest = lines.filter((l) => l.reqId === id);
  expect(ofRequest.map((l) => l.msg)).toEqual(expect.arrayContaining(['api request', 'request completed']));
  const completed = ofRequest.find((l) => l.msg === 'request completed')!;
  expect(completed).toMatchObject({ component: 'rest', res: { statusCode: 201 }, req: { method: 'POST', url: '/system/start?wait=false' } });
  expect(completed.req.headers).toMatchObject({ authorization: '[redacted]', cookie: '[redacted]' });

  const deployment = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: 'logged-app' });
  expect(deployment.metadata?.annotations?.[ANN_LAUNCH_ID]).toBe(id);
  expect(lines.filter((l) => l.launchId === id && l.component === 'launcher').map((l) => l.msg)).toEqual(expect.arrayContaining(['created the Deployment', 'created the Service']));

  const text = lines.map((l) => JSON.stringify(l)).join('\n');
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain('cookie-value-0123456789');
});

it('a refused caller is logged with its own request id, and the token it tried is not', async () => {
  const wrong = `${TOKEN}-wrong`;
  const res = await call(tycho.url, '/system/status', {}, { headers: { Authorization: `Bearer ${wrong}` } });
  expect(res.status).toBe(401);
  const id = res.headers.get('x-request-id');
  const completed = lines.find((l) => l.reqId === id && l.msg === 'request completed');
  expect(completed).toMatchObject({ res: { statusCode: 401 }, req: { headers: { authorization: '[redacted]' } } });
  expect(lines.filter((l) => JSON.stringify(l).includes(wrong))).toEqual([]);
});
