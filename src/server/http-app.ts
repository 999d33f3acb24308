/**
 * The one HTTP port: Slack's endpoint, the REST API, Swagger UI and the health routes.
 */
import express from 'express';
import type { Logger } from '../log.js';

export interface Pingable {
  ping(): Promise<void>;
}

/** What `GET /metrics` serves (metrics.ts). */
export interface MetricsText {
  text(): Promise<string>;
  readonly contentType: string;
}

export function createHttpApp(deps: { cluster: Pingable; log: Logger; metrics?: MetricsText }): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind an ingress, req.ip must be the client's, for the loopback-only rule of the API.
  app.set('trust proxy', 'loopback');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.cluster.ping();
      res.json({ status: 'ready' });
    } catch (e) {
      res.status(503).json({ status: 'not ready', message: (e as Error).message });
    }
  });
  // Counts and durations only (no names, owners or URLs), for a Prometheus in the cluster to scrape.
  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, res) => {
      res.type(metrics.contentType).send(await metrics.text());
    });
  }
  return app;
}
