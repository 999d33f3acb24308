/**
 * Plays an ingress controller for the local cluster: one HTTPS port on 127.0.0.1 that routes by
 * Host header to the ready endpoints of the Service an Ingress names, as ingress-nginx does.
 * - A host no Ingress names: 404 (the controller's default backend).
 * - A host whose Service has no ready endpoint yet: 503.
 * - TLS: the Secret an Ingress names for the host (spec.tls), read when a client asks for that
 *   host (SNI), so a test can check the certificate against its own CA; otherwise a throw-away
 *   self-signed certificate (ingress-nginx's "fake certificate").
 * Every Ingress is served, whatever its class, and no address is published in its status: the
 * port is not 443, so Tycho is told where it is (TYCHO_INGRESS_ADDRESS=127.0.0.1:PORT).
 */
import { CoreV1Api, ListWatch, NetworkingV1Api, Watch, type KubeConfig, type V1Endpoints, type V1Ingress } from '@kubernetes/client-node';
import { createServer, type ServerOptions } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureContext, type SecureContext } from 'node:tls';
import { closeServer, trackSockets } from './close-server.js';
import { listen, selfSignedCert, servePage } from './kubelet-simulator.js';
import { errText, watchRestarts } from './watches.js';

export interface IngressSimulator {
  /** host:port, what TYCHO_INGRESS_ADDRESS is set to. */
  address: string;
  port: number;
  stop(): Promise<void>;
}

export interface IngressSimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  log?: (line: string) => void;
}

interface Route {
  namespace: string;
  ingress: V1Ingress;
  service: string;
}

export async function startIngressSimulator(kc: KubeConfig, opts: IngressSimulatorOptions = {}): Promise<IngressSimulator> {
  const log = opts.log ?? (() => {});
  const core = kc.makeApiClient(CoreV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  let stopped = false;

  const ingresses = new ListWatch<V1Ingress>('/apis/networking.k8s.io/v1/ingresses', new Watch(kc), () => networking.listIngressForAllNamespaces(), false);
  const endpoints = new ListWatch<V1Endpoints>('/api/v1/endpoints', new Watch(kc), () => core.listEndpointsForAllNamespaces(), false);
  const restarts = watchRestarts(log);
  restarts.keep('ingress', ingresses);
  restarts.keep('endpoints', endpoints);

  /** The Ingress rule for a host, and the Service its path "/" goes to (Tycho's Ingresses have one of each). */
  function routeFor(host: string, path: string): Route | undefined {
    for (const ing of ingresses.list()) {
      if (ing.metadata?.deletionTimestamp) continue;
      for (const rule of ing.spec?.rules ?? []) {
        if (rule.host?.toLowerCase() !== host) continue;
        const match = (rule.http?.paths ?? []).find((p) => path.startsWith(p.path ?? '/'));
        const service = match?.backend.service?.name;
        if (service) return { namespace: ing.metadata?.namespace ?? '', ingress: ing, service };
      }
    }
    return undefined;
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const route = routeFor(host, new URL(req.url ?? '/', 'https://x').pathname);
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`default backend - 404 (no Ingress routes the host "${host}")\n`);
      return;
    }
    // Like the controller's upstreams: only the ready addresses of the Service's Endpoints.
    const ep = endpoints.get(route.service, route.namespace);
    const address = ep?.subsets?.flatMap((s) => s.addresses ?? []).find((a) => a.targetRef?.kind === 'Pod');
    if (!address) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end(`503 Service Temporarily Unavailable (no ready endpoint for ${route.namespace}/${route.service})\n`);
      return;
    }
    const pod = address.targetRef?.name ?? '';
    const image = await core
      .readNamespacedPod({ namespace: route.namespace, name: pod })
      .then((p) => p.spec?.containers[0]?.image ?? '')
      .catch(() => '');
    servePage({ key: `${route.namespace}/${route.service}`, service: route.service, namespace: route.namespace, pod, image }, res);
  }

  /** The certificate of the TLS Secret an Ingress names for this host, or undefined for the default one. */
  async function contextFor(servername: string): Promise<SecureContext | undefined> {
    for (const ing of ingresses.list()) {
      const tls = (ing.spec?.tls ?? []).find((t) => t.secretName && (t.hosts ?? []).some((h) => h.toLowerCase() === servername.toLowerCase()));
      if (!tls) continue;
      const secret = await core.readNamespacedSecret({ namespace: ing.metadata?.namespace ?? '', name: tls.secretName! }).catch(() => undefined);
      const crt = secret?.data?.['tls.crt'];
      const key = secret?.data?.['tls.key'];
      if (crt && key) return createSecureContext({ cert: Buffer.from(crt, 'base64'), key: Buffer.from(key, 'base64') });
      log(`TLS Secret ${ing.metadata?.namespace}/${tls.secretName} for ${servername} is missing or has no tls.crt/tls.key; serving the default certificate`);
    }
    return undefined;
  }

  const fallback = await selfSignedCert('Tycho ingress simulator fake certificate');
  const options: ServerOptions = {
    ...fallback,
    SNICallback: (servername, cb) => {
      contextFor(servername).then(
        (ctx) => cb(null, ctx),
        (err: unknown) => {
          log(`TLS for ${servername}: ${errText(err)}; serving the default certificate`);
          cb(null, undefined);
        },
      );
    },
  };
  const server = trackSockets(createServer(options, (req, res) => {
    serve(req, res).catch((err: unknown) => {
      log(`ingress request: ${errText(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  }));

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    restarts.stop();
    await Promise.all([ingresses.stop(), endpoints.stop()]);
    await closeServer(server);
  };
  try {
    await ingresses.start();
    await endpoints.start();
    const port = await listen(server, opts.port ?? 0);
    log(`ingress controller serving https://127.0.0.1:${port} (routes by Host header)`);
    return { address: `127.0.0.1:${port}`, port, stop };
  } catch (err) {
    await stop();
    throw new Error(`ingress simulator could not start: ${errText(err)}`);
  }
}
