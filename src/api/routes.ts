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
import type { Logger } from '../server/log.js';
import { requireCaller } from './auth.js';
import { mountDocs } from './docs.js';
import { sendError, sendInvalid, sendSuccess, sendThrown } from './envelope.js';
import { apiCaller, startResult, startToUpArgs, statusItem } from './to-args.js';
import { operationFor, validateRequest } from './validate-request.js';
import { OWNER_HEADER, type NameRequest, type StartRequest, type StatusRequest } from './wire.js';

export interface ApiDeps {
  backend: Backend;
  /** When set, every /system/* call needs `Authorization: Bearer <token>`; else loopback only. */
  apiToken?: string;
  /** The launch limits for every caller of this API (null: TYCHO_API_TOKEN_UNLIMITED). */
  policy: PolicyFor;
  log: Logger;
}

/** Generous for any real system (the original's bodies are a few hundred bytes), small enough to parse cheaply. */
export const BODY_LIMIT_BYTES = 64 * 1024;

type Checked = { query: Record<string, unknown>; owner: string };
type OperationHandler = (req: Request, res: Response, checked: Checked) => Promise<{ name?: string }>;

/** express.json reads an empty body as {}; for the rules, no bytes means no body. */
function hasBody(req: Request): boolean {
  return req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? '0') > 0;
}

/** Validates against the document's operation, runs the handler, and turns any failure into the envelope. */
function operation(path: string, deps: ApiDeps, handler: OperationHandler) {
  const op = operationFor(path, 'post');
  return async (req: Request, res: Response): Promise<void> => {
    const checked = validateRequest(op, { body: hasBody(req) ? req.body : undefined, query: req.query as Record<string, unknown>, header: (n) => req.get(n) });
    if (checked.errors.length) {
      deps.log.info('api request rejected', { route: path, status: 400, fields: checked.errors.map((e) => e.field) });
      return sendInvalid(res, checked.errors);
    }
    const owner = req.get(OWNER_HEADER) ?? 'api';
    try {
      const { name } = await handler(req, res, { query: checked.query, owner });
      deps.log.info('api request', { route: path, status: res.statusCode, name, owner });
    } catch (e) {
      const { status, code } = sendThrown(res, e);
      const fields = { route: path, status, code, owner, error: e instanceof Error ? e.message : String(e) };
      if (status >= 500 && code === 'internal') deps.log.error('api request failed', { ...fields, stack: (e as Error)?.stack });
      else deps.log.info('api request failed', fields);
    }
  };
}

function context(deps: ApiDeps, owner: string): RunContext {
  return { backend: deps.backend, caller: apiCaller(owner), prefix: '', policy: deps.policy };
}

function systemRouter(deps: ApiDeps): express.Router {
  const router = express.Router();
  // Callers are checked before their bodies are even read.
  router.use(requireCaller(deps.apiToken));
  // Any content type is read as JSON: the original client and curl users do not always set it.
  router.use(express.json({ limit: BODY_LIMIT_BYTES, type: () => true, strict: true }));

  router.post(
    '/start',
    operation('/system/start', deps, async (req, res, { query, owner }) => {
      const body = req.body as StartRequest;
      const wait = query.wait as boolean | undefined;
      const timeout = query.timeout as number | undefined;
      const ctx: RunContext = { ...context(deps, owner), wait: wait ?? true, ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}) };
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

/** What express.json throws (too large, not JSON, bad charset), as the envelope. */
function bodyErrors(deps: ApiDeps): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const e = err as { type?: string; status?: number; expose?: boolean };
    if (e.type === 'entity.too.large') {
      return sendError(res, 413, 'usage', `The request body is larger than ${BODY_LIMIT_BYTES / 1024} kB.`);
    }
    if (e.type === 'entity.parse.failed') {
      // The parser's own wording is an implementation detail; its position is what helps.
      const at = /position (\d+)/.exec((err as Error).message ?? '')?.[1];
      return sendError(res, 400, 'usage', `The request body is not valid JSON${at ? ` (near character ${at})` : ''}: send a JSON object (see /openapi.json).`);
    }
    if (e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      return sendError(res, 415, 'usage', 'The request body must be JSON in UTF-8, without content encoding.');
    }
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
      return sendError(res, e.status, 'usage', `The request could not be read: ${(err as Error).message}.`);
    }
    deps.log.error('api request failed', { route: req.originalUrl, error: (err as Error)?.message });
    sendThrown(res, err);
  };
}

export function mountApi(app: express.Express, deps: ApiDeps): void {
  mountDocs(app);
  app.use('/system', systemRouter(deps));
}
