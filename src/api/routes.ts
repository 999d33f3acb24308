/** Placeholder: the REST API (issue 4) mounts here. */
import type express from 'express';
import type { Backend } from '../k8s/backend.js';
import type { Logger } from '../server/log.js';

export interface ApiDeps {
  backend: Backend;
  /** When set, every /system/* call needs `Authorization: Bearer <token>`; else loopback only. */
  apiToken?: string;
  log: Logger;
}

export function mountApi(_app: express.Express, _deps: ApiDeps): void {}
