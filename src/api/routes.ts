/**
 * The REST API, wire-compatible with the original Tycho: POST /system/{start,delete,status}
 * with JSON bodies and the {status, result, message} envelope. Plus /openapi.json and
 * Swagger UI at /apidocs/. Every call goes through the shared command layer (runCommand), so a
 * system started here is the same kind of object as one started from Slack or the CLI.
 */
import { urlWarning } from '../commands/format.js';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { runCommand, type RunContext } from '../commands/handlers.js';
import { InternalError } from '../k8s/errors.js';
import type { Backend } from '../k8s/backend.js';
import type { PolicyFor } from '../commands/policy.js';
import { BODY_LIMIT_BYTES, readBodyWithin } from '../server/body-limit.js';
import type { Logger } from '../log.js';
import { requireCaller } from './auth.js';
import { mountDocs } from './docs.js';
import { sendError, sendInvalid, sendSuccess, sendThrown } from './envelope.js';
import { jsonBody } from './json-body.js';
import { requestLog, requestLogging } from './request-log.js';
import { sameSiteOnly } from './same-site.js';
import { apiCaller, startResult, startToUpArgs, statusItem } from './to-args.js';
import { operationFor, validateRequest } from './validate-request.js';
import { OWNER_HEADER, type NameRequest, type StartRequest, type StatusRequest } from './wire.js';

export interface ApiDeps {
  backend: Backend;
  /** When set, every /system/* call needs `Authorization: Bearer <token>`; else loopback only. */
  apiToken?: string;
  /** The launch limits for every caller of this API (null: TYCHO_API_TOKEN_UNLIMITED). */
  policy: PolicyFor;
  /** Without a token: host names besides loopback that requests may be addressed to (TYCHO_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
  log: Logger;
}

type Checked = { query: Record<string, unknown>; owner: string };
type OperationHandler = (req: Request, res: Response, checked: Checked) => Promise<{ name?: string }>;

/** Validates against the document's operation, runs the handler, and turns any failure into the envelope. */
function operation(path: string, deps: ApiDeps, handler: OperationHandler) {
  const op = operationFor(path, 'post');
  return async (req: Request, res: Response): Promise<void> => {
    const log = requestLog(req, deps.log);
    const checked = validateRequest(op, { body: req.body as unknown, query: req.query as Record<string, unknown>, header: (n) => req.get(n) });
    if (checked.errors.length) {
      log.info('api request rejected', { route: path, status: 400, fields: checked.errors.map((e) => e.field) });
      return sendInvalid(res, checked.errors);
    }
    const owner = req.get(OWNER_HEADER) ?? 'api';
    try {
      const { name } = await handler(req, res, { query: checked.query, owner });
      log.info('api request', { route: path, status: res.statusCode, name, owner });
    } catch (e) {
      const { status, code } = sendThrown(res, e);
      const fields = { route: path, status, code, owner, error: e instanceof Error ? e.message : String(e) };
      if (status >= 500 && code === 'internal') log.error('api request failed', { ...fields, stack: (e as Error)?.stack });
      else log.info('api request failed', fields);
    }
  };
}

function context(deps: ApiDeps, owner: string): RunContext {
  return { backend: deps.backend, caller: apiCaller(owner), prefix: '', policy: deps.policy };
}

function systemRouter(deps: ApiDeps): express.Router {
  const router = express.Router();
  // Callers are checked before their bodies are even read; then no body over the limit is
  // held in memory, and only JSON is read (see same-site.ts and json-body.ts for why).
  router.use(requireCaller(deps.apiToken));
  router.use(sameSiteOnly({ checkHost: !deps.apiToken, allowedHosts: deps.allowedHosts }));
  router.use(readBodyWithin(BODY_LIMIT_BYTES, (res, refusal) => sendError(res, refusal.status, 'usage', refusal.message)));
  router.use(jsonBody());

  router.post(
    '/start',
    operation('/system/start', deps, async (req, res, { query, owner }) => {
      const body = req.body as StartRequest;
      const wait = query.wait as boolean | undefined;
      const timeout = query.timeout as number | undefined;
      // A REST launch's launch id is its request id: one request, one launch.
      const ctx: RunContext = { ...context(deps, owner), launchId: String(req.id), wait: wait ?? true, ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}) };
      const outcome = await runCommand({ kind: 'up', args: startToUpArgs(body) }, ctx);
      if (outcome.kind !== 'up') throw new InternalError('The launch returned no system.');
      const warning = urlWarning(outcome.system);
      sendSuccess(res, 201, startResult(body, outcome.system), `Started system ${body.name}${warning ? `. ${warning}` : ''}`);
      return { name: body.name };
    }),
  );

  router.post(
    '/delete',
    operation('/system/delete', deps, async (req, res, { owner }) => {
      const { name } = req.body as NameRequest;
      await runCommand({ kind: 'down', name }, context(deps, owner));
      sendSuccess(res, 200, null, `Deleted system ${name}`);
      return { name };
    }),
  );

  router.post(
    '/status',
    operation('/system/status', deps, async (req, res, { owner }) => {
      const name = (req.body as StatusRequest | undefined)?.name;
      const outcome = await runCommand(name === undefined ? { kind: 'status' } : { kind: 'status', name }, context(deps, owner));
      if (outcome.kind !== 'status') throw new InternalError('The status query returned no systems.');
      const n = outcome.systems.length;
      sendSuccess(res, 200, outcome.systems.map(statusItem), `Found ${n} system${n === 1 ? '' : 's'}`);
      return name === undefined ? {} : { name };
    }),
  );

  router.all(['/start', '/delete', '/status'], (req, res) => {
    res.setHeader('Allow', 'POST');
    sendError(res, 405, 'usage', `${req.method} is not supported here: call POST ${req.baseUrl}${req.path} with a JSON body.`);
  });
  router.use((req, res) => {
    sendError(res, 404, 'usage', `There is no API route ${req.method} ${req.baseUrl}${req.path}; the routes are POST /system/start, /system/delete and /system/status (see /apidocs/).`);
  });
  router.use(bodyErrors(deps));
  return router;
}

/** Anything a middleware above passed on as an error, as the envelope; its text stays in the log. */
function bodyErrors(deps: ApiDeps): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    requestLog(req, deps.log).error('api request failed', { route: req.originalUrl, error: (err as Error)?.message });
    sendThrown(res, err);
  };
}

export function mountApi(app: express.Express, deps: ApiDeps): void {
  mountDocs(app);
  app.use('/system', requestLogging(deps.log), systemRouter(deps));
}
