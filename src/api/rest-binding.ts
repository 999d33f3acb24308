/**
 * How a command is offered over REST: its path, its request schema (TypeBox, named like those
 * of wire.ts), how an accepted body becomes the command's input and how its result becomes the
 * envelope's answer; and, the other way round, how the CLI's remote mode asks a Tycho server to
 * run it. A command module declares one (CommandModule.rest); routes.ts makes the route,
 * openapi.ts the document's path, cli/remote.ts the client call, all from it.
 */
import type { TObject, TSchema } from '@sinclair/typebox';
import type { RunContext } from '../commands/command.js';
import type { Command, ResultOf } from '../commands/registry.js';
import type { TychoErrorCode } from '../k8s/errors.js';
import type { Stage } from '../k8s/spec.js';

export interface Example {
  summary: string;
  value: unknown;
}

/** Asks the same server to run another command (a start answer is followed by a status). */
export interface RemoteSession {
  run<C extends Command>(cmd: C): Promise<ResultOf<C['kind']>>;
}

/** The client half: what the CLI's remote mode sends, and how it reads the answer back. */
export interface RestCall<Input, Result, Body = any, Answer = any> {
  /** POST path, e.g. "/system/start". */
  path: `/system/${string}`;
  /**
   * The input as the request a server reads back into the same input. Throws a UsageError for
   * what the wire cannot say (the server would not do it).
   */
  request(input: Input, ctx: RunContext): { body: Body; query?: Record<string, string> };
  /** The envelope's result as the command's result, as direct mode would give it. */
  result(answer: Answer, input: Input, ctx: RunContext, server: RemoteSession): Promise<Result>;
  /** While the call runs, the CLI reports the stages of this system as direct mode does (a start). */
  progress?: { name(input: Input): string; finalStage(result: Result): Stage };
}

/** What the OpenAPI document says of the operation, beyond its schemas. */
export interface RestDoc {
  operationId: string;
  summary: string;
  description: string;
  requestExamples: Record<string, Example>;
  /** Who asks (X-Tycho-Owner) matters to this operation, so the document names the header. */
  owner?: boolean;
  success: { status: 200 | 201; description: string; schema: TSchema; examples: Record<string, Example> };
  /**
   * The failures this operation has besides those of every operation (400, 401, 403, 413, 415,
   * 500, 503); each one's HTTP status is HTTP_STATUS's for its code.
   */
  errors?: { code: TychoErrorCode; description: string; message: string }[];
}

/** A command served at its own path: the client half plus the route and its document. */
export interface RestBinding<Input, Result, Body = any, Answer = any> extends RestCall<Input, Result, Body, Answer> {
  /** The body's schema (named: it has an $id); the request is validated against it before `input`. */
  body: TSchema;
  /** Whether a body must be sent (status may be asked without one). */
  bodyRequired: boolean;
  /** The query parameters, if any (each optional). */
  query?: TObject;
  /** Named schemas the body or the answer refer to that wire.ts does not list. */
  schemas?: TSchema[];
  doc: RestDoc;
  /** A body (and query) the schemas accepted → the command's input. May refuse with a UsageError. */
  input(body: Body, query: Record<string, unknown>): Input;
  /** What the request asks of the run besides the input (a start's wait and timeout). */
  options?(query: Record<string, unknown>): Pick<RunContext, 'wait' | 'timeoutSeconds'>;
  /** The command's result → the envelope's result and its one sentence. */
  answer(result: Result, body: Body): { result: Answer; message: string };
}

/**
 * A command whose call is another command's route (`list` is status without a name): the CLI
 * calls that path; no route or document entry of its own.
 */
export interface SharedRestCall<Input, Result, Body = any, Answer = any> extends RestCall<Input, Result, Body, Answer> {
  sharesRouteOf: string;
}

export type RestSpec<Input, Result> = RestBinding<Input, Result> | SharedRestCall<Input, Result>;

export function isServed<I, R>(b: RestSpec<I, R> | undefined): b is RestBinding<I, R> {
  return !!b && !('sharesRouteOf' in b);
}
