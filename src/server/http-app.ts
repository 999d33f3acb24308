/**
 * The one HTTP port: Slack's endpoint, the REST API, Swagger UI and the health routes.
 */
import express from 'express';
import type { Logger } from '../log.js';

export interface Pingable {
  ping(): Promise<void>;
}

export function createHttpApp(deps: { cluster: Pingable; log: Logger }): express.Express {
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
  return app;
}
