/**
 * The REST API, wire-compatible with the original Tycho: POST /system/{start,delete,status}
 * with JSON bodies and the {status, result, message} envelope. Plus /openapi.json and
 * Swagger UI at /apidocs/. Every call goes through the shared command layer (runCommand), so a
 * system started here is the same kind of object as one started from Slack or the CLI.
 */
import { urlWarning } from '../commands/format.js';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Caller, RunContext } from '../commands/command.js';
import { runCommand } from '../commands/registry.js';
import type { SystemLauncher } from '../k8s/system-launcher.js';
import type { PolicyFor } from '../commands/policy.js';
import { BODY_LIMIT_BYTES, readBodyWithin } from '../server/body-limit.js';
import type { Logger } from '../log.js';
import { requireCaller } from './auth.js';
import { mountDocs } from './docs.js';
import { sendError, sendInvalid, sendSuccess, sendThrown } from './envelope.js';
import { jsonBody } from './json-body.js';
import { requestLog, requestLogging } from './request-log.js';
import { sameSiteOnly } from './same-site.js';
import { launchRequestFromBody, startResult, statusItem } from './wire-conversions.js';
import { operationFor, validateRequest } from './validate-request.js';
import { OWNER_HEADER, type NameRequest, type StartQuery, type StartRequest, type StatusRequest } from './wire.js';

export interface ApiDeps {
  launcher: SystemLauncher;
  /** When set, every /system/* call needs `Authorization: Bearer <token>`; else loopback only. */
  apiToken?: string;
  /** The launch limits for every caller of this API (null: TYCHO_API_TOKEN_UNLIMITED). */
  policy: PolicyFor;
  /** Without a token: host names besides loopback that requests may be addressed to (TYCHO_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
  log: Logger;
}

/** A request that passed its operation's schema: its body and query have the types wire.ts derives. */
interface Checked<Body, Query> {
  body: Body;
  query: Query;
  owner: string;
}
type OperationHandler<Body, Query> = (req: Request, res: Response, checked: Checked<Body, Query>) => Promise<{ name?: string }>;

/** Validates against the document's operation, runs the handler, and turns any failure into the envelope. */
function operation<Body, Query = Record<string, never>>(path: string, deps: ApiDeps, handler: OperationHandler<Body, Query>) {
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
      // The schema has accepted both, so they are what wire.ts says they are.
      const { name } = await handler(req, res, { body: req.body as Body, query: checked.query as Query, owner });
      log.info('api request', { route: path, status: res.statusCode, name, owner });
    } catch (e) {
      const { status, code } = sendThrown(res, e);
      const fields = { route: path, status, code, owner, error: e instanceof Error ? e.message : String(e) };
      if (status >= 500 && code === 'internal') log.error('api request failed', { ...fields, stack: (e as Error)?.stack });
      else log.info('api request failed', fields);
    }
  };
}

function apiCaller(owner: string): Caller {
  // The API has one kind of caller: whoever holds the token (or sits on the machine). Like
  // the CLI with a kubeconfig, such a caller may tear down any system.
  return { owner: { id: `api:${owner}`, display: owner }, origin: 'api', isAdmin: true };
}

function context(deps: ApiDeps, owner: string): RunContext {
  return { launcher: deps.launcher, caller: apiCaller(owner), prefix: '', policy: deps.policy };
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
    operation<StartRequest, StartQuery>('/system/start', deps, async (req, res, { body, query, owner }) => {
      // A REST launch's launch id is its request id: one request, one launch.
      const ctx: RunContext = { ...context(deps, owner), launchId: String(req.id), wait: query.wait ?? true, ...(query.timeout !== undefined ? { timeoutSeconds: query.timeout } : {}) };
      const { system } = await runCommand({ kind: 'up', args: launchRequestFromBody(body) }, ctx);
      const warning = urlWarning(system);
      sendSuccess(res, 201, startResult(body, system), `Started system ${body.name}${warning ? `. ${warning}` : ''}`);
      return { name: body.name };
    }),
  );

  router.post(
    '/delete',
    operation<NameRequest>('/system/delete', deps, async (_req, res, { body: { name }, owner }) => {
      await runCommand({ kind: 'down', name }, context(deps, owner));
      sendSuccess(res, 200, null, `Deleted system ${name}`);
      return { name };
    }),
  );

  router.post(
    '/status',
    // No body at all means every system, like {}.
    operation<StatusRequest | undefined>('/system/status', deps, async (_req, res, { body, owner }) => {
      const name = body?.name;
      const { systems } = await runCommand(name === undefined ? { kind: 'status' } : { kind: 'status', name }, context(deps, owner));
      const n = systems.length;
      sendSuccess(res, 200, systems.map(statusItem), `Found ${n} system${n === 1 ? '' : 's'}`);
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
