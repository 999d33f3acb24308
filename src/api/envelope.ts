/**
 * The one place where the REST API turns outcomes and TychoErrors into HTTP statuses and
 * the original's envelope {status, result, message}. The envelope is the same for every
 * status, so the original client, which only ever saw 200, keeps working.
 */
import type { Response } from 'express';
import { isTychoError, type TychoErrorCode } from '../k8s/errors.js';
import type { Envelope, ErrorResult, FieldError } from './wire.js';

/**
 * Pod failures (the objects exist but the app cannot run as asked) are 422: the request was
 * well-formed, and what must change is in it (image, command, resources). Kubernetes
 * rejecting the object we built is 422 too. A readiness timeout is 504, since the cluster,
 * not the caller, was too slow. RBAC or quota refusals are 403. A launch torn down (by anyone)
 * before it was ready is 410 Gone: not 404, since the name was right and the system existed.
 */
export const HTTP_STATUS: Record<TychoErrorCode, number> = {
  usage: 400,
  unauthorized: 401,
  forbidden: 403,
  not_owner: 403,
  // The operator's policy refused it (policy file): the caller may not, whatever it sends.
  policy: 403,
  not_found: 404,
  // The system is being removed: the request conflicts with its state, as a name in use does.
  already_terminating: 409,
  // Gone: the system existed when the start began, and someone removed it before it was ready.
  torn_down: 410,
  name_in_use: 409,
  invalid_spec: 422,
  // The body names a claim that cannot be mounted: the caller must change the request.
  claim_unavailable: 400,
  image_pull_failed: 422,
  crash_looping: 422,
  container_config: 422,
  unschedulable: 422,
  // 403, as Kubernetes itself answers a quota refusal, not 422: the namespace's policy refuses
  // the pod, not the request's form, and the same request succeeds once room is freed (or the
  // quota raised). A pods: 0 quota refuses every request, so there is nothing in it to fix.
  quota_exceeded: 403,
  internal: 500,
  cluster_unreachable: 503,
  // The launch failed and what it made could not all be removed (left_in_place names it): the
  // cluster stopped answering, so like cluster_unreachable.
  rollback_incomplete: 503,
  timeout: 504,
};

export function sendSuccess<T>(res: Response, httpStatus: 200 | 201, result: T, message: string): void {
  const body: Envelope<T> = { status: 'success', result, message };
  res.status(httpStatus).json(body);
}

export function sendError(res: Response, httpStatus: number, code: TychoErrorCode, message: string, errors?: FieldError[], leftInPlace?: string): void {
  const result: ErrorResult = { error: message, code, ...(errors ? { errors } : {}), ...(leftInPlace ? { left_in_place: leftInPlace } : {}) };
  const body: Envelope<ErrorResult> = { status: 'error', result, message };
  if (httpStatus === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="tycho"');
  res.status(httpStatus).json(body);
}

/** Any thrown value → the envelope. Unknown errors never leak their text: it may hold internals. */
export function sendThrown(res: Response, e: unknown): { status: number; code: TychoErrorCode } {
  if (isTychoError(e)) {
    const status = HTTP_STATUS[e.code];
    sendError(res, status, e.code, e.message, undefined, e.leftInPlace);
    return { status, code: e.code };
  }
  sendError(res, 500, 'internal', 'Something unexpected went wrong inside Tycho; the server log has the details.');
  return { status: 500, code: 'internal' };
}

/**
 * A body with many mistakes (a fuzzer's, or a client of another version) is answered with one
 * sentence, its first mistake; result.errors lists every one, field by field, for a program.
 */
export function sendInvalid(res: Response, errors: FieldError[]): void {
  const first = errors[0]?.message.replace(/\.$/, '') ?? 'it does not match /openapi.json';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more ${errors.length === 2 ? 'problem' : 'problems'}, each in result.errors)` : '';
  sendError(res, 400, 'usage', `The request is not valid: ${first}${more}.`, errors);
}
