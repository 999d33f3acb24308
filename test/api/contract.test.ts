/**
 * The wire contract with the original client, against a real Tycho server and the real local
 * control plane: the exact bodies of the issue in, the exact shapes out, and the objects
 * and URL that really exist (and then really do not).
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { RunningTycho } from '../../src/server/tycho.js';
import { kubeConfig, nodePortRange, waitFor } from '../support/cluster.js';
import { openUrl } from '../support/open-url.js';
import { call, objectsIn, originalBody, schemaErrors, serverInFreshNamespace, startServer } from './helpers.js';
import { kubeConfigAt } from '../support/kubeconfig-at.js';


const live = serverInFreshNamespace('api-contract');

describe('POST /system/start, /system/status, /system/delete with the original body', () => {
  const name = 'jupyter-data-science-3425';
  let url: string;
  let nodePort: number;

  it('starts the system and answers 201 with the original shape plus url', async () => {
    const r = await call(live.server.url, '/system/start', originalBody(name));
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(schemaErrors(r.json, 'StartResponse')).toEqual([]);
    nodePort = r.json.result.containers[`${name}-c`].port;
    url = r.json.result.url;
    expect(r.json).toEqual({
      status: 'success',
      result: {
        containers: { [`${name}-c`]: { port: nodePort } },
        container_map: { [`${name}-c`]: { port: nodePort } },
        url: `http://127.0.0.1:${nodePort}`,
        // Tycho opened that URL and got an answer before it replied.
        url_verified: true,
        url_checked: 'public',
      },
      message: `Started system ${name}`,
    });
    expect(nodePort).toBeGreaterThanOrEqual(nodePortRange().min);
    expect(nodePort).toBeLessThanOrEqual(nodePortRange().max);
  });

  it('created a Deployment and Service that carry the body: command, env, limits, port', async () => {
    const kc = kubeConfig();
    const dep = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: live.ns, name });
    const c = dep.spec!.template.spec!.containers[0]!;
    expect(c.image).toBe('jupyter/datascience-notebook');
    expect(c.args).toEqual(['start.sh', 'jupyter', 'lab', "--LabApp.token=''"]);
    expect(c.env).toEqual([{ name: 'A', value: '1' }]);
    // The original's units pass through as Kubernetes reads them: 0.3 cpu, 512M = 512,000,000 bytes.
    expect(c.resources!.limits).toEqual({ cpu: '300m', memory: '512M' });
    expect(c.resources!.requests).toEqual({ cpu: '300m', memory: '512M' });
    expect(c.ports).toEqual([{ containerPort: 8888, protocol: 'TCP' }]);
    expect(dep.metadata!.annotations).toMatchObject({ 'tycho.renci.org/origin': 'api', 'tycho.renci.org/owner': 'api' });
    const svc = await kc.makeApiClient(CoreV1Api).readNamespacedService({ namespace: live.ns, name });
    expect(svc.spec!.type).toBe('NodePort');
    expect(svc.spec!.ports![0]).toMatchObject({ port: 8888, targetPort: 8888, nodePort });
  });

  it('answers at the URL', async () => {
    expect(await openUrl(url)).toEqual({ status: 200, body: expect.stringContaining(name) });
  });

  it('reports it in status, by name and in the list of all', async () => {
    const one = await call(live.server.url, '/system/status', { name });
    expect(one.status).toBe(200);
    expect(schemaErrors(one.json, 'StatusResponse')).toEqual([]);
    expect(one.json).toEqual({
      status: 'success',
      result: [
        {
          name,
          image: 'jupyter/datascience-notebook',
          url,
          port: nodePort,
          ready: true,
          owner: 'api',
          created: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          // Every system expires (TYCHO_DEFAULT_TTL, 8h by default).
          expires: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          namespace: live.ns,
          stage: 'ready',
          reason: null,
          ports: [{ port: 8888, nodePort }],
          origin: 'api',
        },
      ],
      message: 'Found 1 system',
    });
    const all = await call(live.server.url, '/system/status', {});
    expect(all.json.result.map((s: { name: string }) => s.name)).toEqual([name]);
    // No body at all reads as {}: the original client sent one, curl users often do not.
    const bare = await call(live.server.url, '/system/status');
    expect(bare.json.result).toEqual(all.json.result);
  });

  it('refuses the same name again with 409 and creates nothing more', async () => {
    const before = await objectsIn(live.ns);
    const r = await call(live.server.url, '/system/start', originalBody(name));
    expect(r.status).toBe(409);
    expect(r.json).toEqual({
      status: 'error',
      result: { error: r.json.message, code: 'name_in_use' },
      message: expect.stringMatching(new RegExp(`^The name "${name}" is already in use by api since .+\\. Pick another name, or tear that one down first\\.$`)),
    });
    expect(await objectsIn(live.ns)).toEqual(before);
  });

  it('deletes it: 200, result null; the objects go and the URL stops answering', async () => {
    const r = await call(live.server.url, '/system/delete', { name });
    expect(r.status).toBe(200);
    expect(schemaErrors(r.json, 'DeleteResponse')).toEqual([]);
    expect(r.json).toEqual({ status: 'success', result: null, message: `Deleted system ${name}` });
    await waitFor(async () => (await objectsIn(live.ns)).length === 0, { what: 'the namespace to be empty' });
    await waitFor(async () => 'refused' in (await openUrl(url)), { what: `${url} to stop answering` });
  });

  it('then knows no such system: 404 for status and delete', async () => {
    for (const path of ['/system/status', '/system/delete']) {
      const r = await call(live.server.url, path, { name });
      expect(r.status).toBe(404);
      expect(r.json).toEqual({ status: 'error', result: { error: `There is no system named "${name}".`, code: 'not_found' }, message: `There is no system named "${name}".` });
    }
    const all = await call(live.server.url, '/system/status', {});
    expect(all.json).toEqual({ status: 'success', result: [], message: 'Found 0 systems' });
  });
});

describe('the minimal body, the owner header and the query options', () => {
  it('starts with only image and port, names the container after the system, and records the owner', async () => {
    const r = await call(live.server.url, '/system/start', { name: 'minimal', containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] }, { headers: { 'X-Tycho-Owner': 'alice' } });
    expect(r.status).toBe(201);
    expect(Object.keys(r.json.result.containers)).toEqual(['minimal']);
    const s = await call(live.server.url, '/system/status', { name: 'minimal' });
    expect(s.json.result[0]).toMatchObject({ owner: 'alice', origin: 'api', ready: true });
    const dep = await kubeConfig().makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: live.ns, name: 'minimal' });
    // Tycho's defaults when no limits are given.
    expect(dep.spec!.template.spec!.containers[0]!.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(dep.spec!.template.spec!.containers[0]!.args).toBeUndefined();
    expect((await call(live.server.url, '/system/delete', { name: 'minimal' })).status).toBe(200);
  });

  it('with wait=false answers once the objects exist', async () => {
    const r = await call(live.server.url, '/system/start?wait=false', { name: 'no-wait', containers: [{ image: 'nginx', ports: [{ containerPort: 80 }] }] });
    expect(r.status).toBe(201);
    expect(r.json.result.containers['no-wait'].port).toBeGreaterThanOrEqual(nodePortRange().min);
    expect(r.json.result.containers['no-wait'].port).toBeLessThanOrEqual(nodePortRange().max);
    expect(await objectsIn(live.ns)).toEqual(expect.arrayContaining(['Deployment/no-wait', 'Service/no-wait']));
    await waitFor(async () => (await call(live.server.url, '/system/status', { name: 'no-wait' })).json.result[0].ready, { what: 'no-wait to become ready' });
    expect((await call(live.server.url, '/system/delete', { name: 'no-wait' })).status).toBe(200);
  });
});

describe('systems that cannot run', () => {
  it('an image that cannot be pulled: 422 with the reason, and the system is kept for inspection', async () => {
    const r = await call(live.server.url, '/system/start', originalBody('pull-fails', 'example.org/pull-error:1'));
    expect(r.status).toBe(422);
    expect(schemaErrors(r.json, 'ErrorResponse')).toEqual([]);
    expect(r.json.result.code).toBe('image_pull_failed');
    expect(r.json.message).toMatch(/The image "example\.org\/pull-error:1" could not be pulled.*ErrImagePull/);
    expect(r.json.result.error).toBe(r.json.message);
    // Kept for inspection (the default), and the answer says which system to delete.
    expect(r.json.result.left_in_place).toBe('pull-fails');
    const s = await call(live.server.url, '/system/status', { name: 'pull-fails' });
    expect(s.json.result[0]).toMatchObject({ ready: false, reason: expect.stringMatching(/pull/i) });
    expect((await call(live.server.url, '/system/delete', { name: 'pull-fails' })).status).toBe(200);
  });

  it('an app that is never ready: 504 after the timeout asked for', async () => {
    const r = await call(live.server.url, '/system/start?timeout=2', { name: 'slowpoke', containers: [{ image: 'example.org/never-ready', ports: [{ containerPort: 80 }] }] });
    expect(r.status).toBe(504);
    expect(r.json).toMatchObject({ status: 'error', result: { code: 'timeout' }, message: expect.stringContaining('"slowpoke" was not ready after 2 s') });
    expect((await call(live.server.url, '/system/delete', { name: 'slowpoke' })).status).toBe(200);
  });
});

describe('Kubernetes out of reach', () => {
  let down: RunningTycho;
  beforeAll(async () => {
    // A cluster address where nothing listens: every call fails to connect.
    down = await startServer({ namespace: live.ns, kc: kubeConfigAt('https://127.0.0.1:1') });
  });
  afterAll(async () => {
    await down?.stop();
  });

  it('answers 503 with the envelope, for every route', async () => {
    for (const [path, body] of [
      ['/system/status', {}],
      ['/system/delete', { name: 'x' }],
      ['/system/start', originalBody('x')],
    ] as const) {
      const r = await call(down.url, path, body);
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ status: 'error', result: { code: 'cluster_unreachable', error: expect.stringContaining('cannot reach Kubernetes') } });
    }
  });
});
