/**
 * A kubeconfig for a stand-in API server the test runs itself (or an address where nothing
 * listens): one cluster, any token, TLS not checked.
 */
import { KubeConfig } from '@kubernetes/client-node';

export function kubeConfigAt(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'stand-in', server, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'c', cluster: 'stand-in', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}
