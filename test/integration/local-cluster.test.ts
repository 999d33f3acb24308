/**
 * The local cluster really behaves like Kubernetes: real controllers and scheduler, the
 * simulated node runs pods, serves NodePort URLs, fails pulls and cannot satisfy GPU requests.
 */
import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { get } from 'node:http';
import { createTestNamespace, kubeConfig, nodePortRange, waitFor } from '../support/cluster.js';

/** A one-shot GET without connection pooling, so a closed listener shows as a refused connection. */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);

function waitingReason(pod: V1Pod): string | undefined {
  return pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;
}

describe('local cluster', () => {
  test('a Deployment with a NodePort Service becomes Available, serves its URL, and goes away on delete', async () => {
    const namespace = await createTestNamespace('lc-web');
    const name = 'hello';
    const labels = { app: name };
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name, labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginxdemos/hello:plain-text', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '250m', memory: '64Mi' } } }] } },
        },
      },
    });
    const svc = await core.createNamespacedService({
      namespace,
      body: { metadata: { name }, spec: { type: 'NodePort', selector: labels, ports: [{ port: 80, targetPort: 80 }] } },
    });
    const nodePort = svc.spec?.ports?.[0]?.nodePort;
    expect(nodePort).toBeGreaterThanOrEqual(nodePortRange().min);
    expect(nodePort).toBeLessThanOrEqual(nodePortRange().max);

    await waitFor(
      async () => {
        const d = await apps.readNamespacedDeployment({ name, namespace });
        return d.status?.availableReplicas === 2 && d.status.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      },
      { timeoutMs: 30_000, what: 'the Deployment to become Available' },
    );
    const eps = await waitFor(async () => {
      const e = await core.readNamespacedEndpoints({ name, namespace });
      return (e.subsets?.[0]?.addresses?.length ?? 0) === 2 ? e : undefined;
    }, { what: 'two endpoint addresses' });
    expect(eps.subsets?.[0]?.addresses?.every((a) => a.ip.startsWith('10.244.'))).toBe(true);

    const url = `http://127.0.0.1:${nodePort}`;
    const page = await waitFor(() => httpGet(url).catch(() => undefined), { timeoutMs: 10_000, what: `${url} to answer` });
    expect(page.status).toBe(200);
    expect(page.body).toContain(`<title>${name}</title>`);
    expect(page.body).toContain('nginxdemos/hello:plain-text');

    await apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Foreground' });
    await core.deleteNamespacedService({ name, namespace });
    await waitFor(async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=hello' })).items.length === 0, {
      timeoutMs: 30_000,
      what: 'the pods to be gone',
    });
    await waitFor(() => httpGet(url).then(() => false, () => true), { timeoutMs: 10_000, what: `${url} to stop answering` });
    await expect(httpGet(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('an image that cannot be pulled gives ErrImagePull', async () => {
    const namespace = await createTestNamespace('lc-pull');
    await core.createNamespacedPod({ namespace, body: { metadata: { name: 'bad' }, spec: { containers: [{ name: 'app', image: 'x/pull-error' }] } } });
    const reasons = new Set<string>();
    await waitFor(
      async () => {
        const reason = waitingReason(await core.readNamespacedPod({ name: 'bad', namespace }));
        if (reason) reasons.add(reason);
        return reasons.has('ErrImagePull');
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'waiting reason ErrImagePull' },
    );
    const pod = await core.readNamespacedPod({ name: 'bad', namespace });
    expect(pod.status?.containerStatuses?.[0]?.ready).toBe(false);
    expect(pod.status?.phase).toBe('Pending');
  });

  test('a pod that requests a GPU the node lacks is Unschedulable', async () => {
    const namespace = await createTestNamespace('lc-gpu');
    await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: 'gpu' }, spec: { containers: [{ name: 'app', image: 'nvidia/cuda', resources: { limits: { 'nvidia.com/gpu': '1' } } }] } },
    });
    const cond = await waitFor(async () => {
      const pod = await core.readNamespacedPod({ name: 'gpu', namespace });
      return pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    }, { timeoutMs: 20_000, what: 'PodScheduled=False' });
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toMatch(/nvidia\.com\/gpu/);
  });
});
