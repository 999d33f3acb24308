/**
 * The kustomize variant of the README's sign-in example (kubernetes/components/ingress-sign-in):
 * the Deployment it renders configures Tycho without a problem, and an app launched with that
 * configuration gets an Ingress carrying exactly the oauth2-proxy annotations, its class and TLS.
 */
import { NetworkingV1Api, type V1ConfigMap, type V1Deployment } from '@kubernetes/client-node';
import { loadLauncherConfig } from '../../src/config.js';
import { Launcher, launcherOptionsFrom } from '../../src/k8s/launcher.js';
import { createTestNamespace, kubeConfig } from '../support/cluster.js';
import { findObject, mountedConfigMaps, renderCustomised } from './support.js';

it('renders a configuration whose sign-in annotations land on every Ingress', async () => {
  const objects = await renderCustomised({ components: ['components/ingress-sign-in'] });
  const deployment = findObject<V1Deployment>(objects, 'Deployment', 'tycho');
  const container = deployment.spec!.template.spec!.containers[0]!;
  // Its environment as the pod sees it, with the policy file the kubelet mounts from the rendered ConfigMap.
  const configMaps = objects.filter((o): o is V1ConfigMap => o.kind === 'ConfigMap');
  const env = mountedConfigMaps(Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])), deployment, configMaps);
  // The older NodePort default is gone, so ingress is the default; nothing contradicts it.
  expect(env.TYCHO_SERVICE_TYPE).toBeUndefined();
  const cfg = loadLauncherConfig(env);
  expect(cfg.expose).toBe('ingress');
  expect(cfg.policy.exposeModes).not.toContain('loadbalancer');

  const ns = await createTestNamespace('sign-in');
  // Launched here, the controller is the local simulated one.
  const launcher = new Launcher(kubeConfig(), { ...launcherOptionsFrom(cfg, ns), ingress: { ...cfg.ingress!, address: process.env.TYCHO_TEST_INGRESS_ADDRESS ?? '' } });
  const info = await launcher.up({ name: 'lab', image: 'nginx', ports: [8888], owner: { id: 'cli:alice', display: 'alice' }, origin: 'cli' }, { wait: false });
  expect(info.url).toBe('https://lab.apps.example.org/');
  const ing = await kubeConfig().makeApiClient(NetworkingV1Api).readNamespacedIngress({ namespace: ns, name: 'lab' });
  expect(ing.metadata!.annotations).toEqual({
    'nginx.ingress.kubernetes.io/auth-url': 'https://auth.apps.example.org/oauth2/auth',
    'nginx.ingress.kubernetes.io/auth-signin': 'https://auth.apps.example.org/oauth2/start?rd=$scheme://$host$escaped_request_uri',
    'nginx.ingress.kubernetes.io/auth-response-headers': 'X-Auth-Request-User,X-Auth-Request-Email',
  });
  expect(ing.spec!.ingressClassName).toBe('nginx');
  expect(ing.spec!.tls).toEqual([{ hosts: ['lab.apps.example.org'], secretName: 'wildcard-apps-tls' }]);
  await launcher.down('lab');
});
