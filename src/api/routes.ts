/**
 * The REST API, wire-compatible with the original Tycho: POST /system/{start,delete,status}
 * with JSON bodies and the {status, result, message} envelope. Plus /openapi.json and
 * Swagger UI at /apidocs/. The routes are made from the commands' REST bindings (one per
 * command that has one), and every call goes through the shared command layer (runCommand),
 * so a system started here is the same kind of object as one started from Slack or the CLI.
 */
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import type { Caller, RunContext } from '../commands/command.js';
import { runCommand } from '../commands/registry.js';
import type { SystemLauncher } from '../k8s/system-launcher.js';
import type { PolicyFor } from '../commands/policy.js';
import type { AccessPolicy } from '../policy/rules.js';
import type { AuditTrail } from '../audit.js';
import { BODY_LIMIT_BYTES, readBodyWithin } from '../server/body-limit.js';
import type { Logger } from '../log.js';
import { requireCaller } from './auth.js';
import { mountDocs } from './docs.js';
import { sendError, sendInvalid, sendSuccess, sendThrown } from './envelope.js';
import { jsonBody } from './json-body.js';
import { requestLog, requestLogging } from './request-log.js';
import { sameSiteOnly } from './same-site.js';
import { operationFor, validateRequest } from './validate-request.js';
import { servedCommands } from './openapi.js';
import type { RestBinding } from './rest-binding.js';
import { OWNER_HEADER } from './wire.js';

export interface ApiDeps {
  launcher: SystemLauncher;
  /** When set, every /system/* call needs `Authorization: Bearer <token>`; else loopback only. */
  apiToken?: string;
  /** The launch limits for every caller of this API (null: TYCHO_API_TOKEN_UNLIMITED). */
  policy: PolicyFor;
  /** Who may do what (src/policy): for REST, the image allowlist and the system counts. */
  access?: AccessPolicy;
  /** Where each mutating request's audit line goes (src/audit.ts). */
  audit?: AuditTrail;
  /** Without a token: host names besides loopback that requests may be addressed to (TYCHO_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
  log: Logger;
}

/** Validates against the command's operation, runs the command, and turns any failure into the envelope. */
function operation(name: string, rest: RestBinding<{ kind: string }, { kind: string }>, deps: ApiDeps) {
  const path = rest.path;
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
      // The schema has accepted body and query, so they are what the binding's types say.
      const input = rest.input(req.body, checked.query);
      // The request id is also the launch id of a start: one request, one launch.
      const ctx: RunContext = { ...context(deps, owner), launchId: String(req.id), ...rest.options?.(checked.query) };
      const result = await runCommand(input, ctx);
      const { result: answer, message } = rest.answer(result, req.body);
      sendSuccess(res, rest.doc.success.status, answer, message);
      log.info('api request', { route: path, command: name, status: res.statusCode, name: nameIn(req.body), owner });
    } catch (e) {
      const { status, code } = sendThrown(res, e);
      const fields = { route: path, status, code, owner, error: e instanceof Error ? e.message : String(e) };
      if (status >= 500 && code === 'internal') log.error('api request failed', { ...fields, stack: (e as Error)?.stack });
      else log.info('api request failed', fields);
    }
  };
}

/** The system a request names, for the log line. */
function nameIn(body: unknown): string | undefined {
  const name = (body as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

function apiCaller(owner: string): Caller {
  // The API has one kind of caller: whoever holds the token (or sits on the machine). Like
  // the CLI with a kubeconfig, such a caller may tear down any system.
  return { owner: { id: `api:${owner}`, display: owner }, origin: 'api', isAdmin: true };
}

function context(deps: ApiDeps, owner: string): RunContext {
  return { launcher: deps.launcher, caller: apiCaller(owner), prefix: '', policy: deps.policy, via: 'rest', ...(deps.access ? { access: deps.access } : {}), ...(deps.audit ? { audit: deps.audit } : {}) };
}

function systemRouter(deps: ApiDeps): express.Router {
  const router = express.Router();
  // Callers are checked before their bodies are even read; then no body over the limit is
  // held in memory, and only JSON is read (see same-site.ts and json-body.ts for why).
  router.use(requireCaller(deps.apiToken));
  router.use(sameSiteOnly({ checkHost: !deps.apiToken, allowedHosts: deps.allowedHosts }));
  router.use(readBodyWithin(BODY_LIMIT_BYTES, (res, refusal) => sendError(res, refusal.status, 'usage', refusal.message)));
  router.use(jsonBody());

  // One route per command that has a REST binding (rest-binding.ts), in the registry's order.
  const served = servedCommands();
  const paths = served.map(({ rest }) => rest.path.slice('/system'.length));
  for (const { module, rest } of served) router.post(rest.path.slice('/system'.length), operation(module.name, rest, deps));

  router.all(paths, (req, res) => {
    res.setHeader('Allow', 'POST');
    sendError(res, 405, 'usage', `${req.method} is not supported here: call POST ${req.baseUrl}${req.path} with a JSON body.`);
  });
  const listed = served.map(({ rest }) => rest.path);
  const routes = listed.length < 2 ? listed.join('') : `${listed.slice(0, -1).join(', ')} and ${listed[listed.length - 1]}`;
  router.use((req, res) => {
    sendError(res, 404, 'usage', `There is no API route ${req.method} ${req.baseUrl}${req.path}; the routes are POST ${routes} (see /apidocs/).`);
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
