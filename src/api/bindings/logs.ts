/** POST /system/logs: `logs`, the last lines of a system's log, secrets taken out. */
import { Type, type Static } from '@sinclair/typebox';
import type { LogsInput, LogsResult } from '../../commands/logs.js';
import { DEFAULT_TAIL, MAX_TAIL } from '../../k8s/pod-logs.js';
import type { RestBinding } from '../rest-binding.js';
import { EXAMPLE_NAME } from '../wire.js';

export const LogsRequest = Type.Object(
  {
    name: Type.Unsafe<string>(Type.Ref('SystemName')),
    tail: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TAIL, default: DEFAULT_TAIL, description: 'How many of the last lines.' })),
    previous: Type.Optional(Type.Boolean({ default: false, description: "The container's previous run (what it printed before it crashed or restarted)." })),
  },
  { $id: 'LogsRequest', additionalProperties: false },
);

export const LogsAnswer = Type.Object(
  {
    name: Type.String(),
    pod: Type.String({ description: 'The pod the log was read from.' }),
    tail: Type.Integer(),
    previous: Type.Boolean(),
    text: Type.String({ description: 'The last lines, as the container wrote them, with secrets replaced by [REDACTED].' }),
    redacted: Type.Integer({ minimum: 0, description: 'How many secrets were taken out.' }),
  },
  { $id: 'LogsResult', additionalProperties: false },
);

export const LogsResponse = Type.Object(
  { status: Type.Unsafe<'success'>({ type: 'string', enum: ['success'] }), result: Type.Unsafe<Static<typeof LogsAnswer>>(Type.Ref('LogsResult')), message: Type.String({ description: 'One sentence for a person.' }) },
  { $id: 'LogsResponse', additionalProperties: false, description: "The system's last log lines." },
);

type LogsRequest = Static<typeof LogsRequest>;
type LogsAnswerBody = Static<typeof LogsAnswer>;

const lines = (text: string) => (text === '' ? 0 : text.replace(/\n$/, '').split('\n').length);

export const logsBinding: RestBinding<LogsInput, LogsResult, LogsRequest, LogsAnswerBody> = {
  path: '/system/logs',
  body: LogsRequest,
  bodyRequired: true,
  schemas: [LogsAnswer],
  doc: {
    operationId: 'systemLogs',
    summary: "A system's log",
    description: `The last lines (tail, default ${DEFAULT_TAIL}) of the system's container log, or of its previous run with previous: true. Secrets are replaced by [REDACTED] by their shape (tokens, keys, password= and the like).`,
    requestExamples: {
      last: { summary: 'The last lines', value: { name: EXAMPLE_NAME, tail: 50 } },
      previous: { summary: 'Before the last crash', value: { name: EXAMPLE_NAME, previous: true } },
    },
    success: {
      status: 200,
      description: 'The log.',
      schema: LogsResponse,
      examples: {
        log: {
          summary: 'Three lines',
          value: {
            status: 'success',
            result: { name: EXAMPLE_NAME, pod: `${EXAMPLE_NAME}-7d9c5b6f4-x2x9k`, tail: 3, previous: false, text: 'Listening on 0.0.0.0:8888\ntoken=[REDACTED]\nGET / 200\n', redacted: 1 },
            message: `3 lines of the log of ${EXAMPLE_NAME}`,
          },
        },
      },
    },
    errors: [
      { code: 'not_found', description: 'There is no system with that name, or it has no log to show (no pod yet, or no previous run).', message: `"${EXAMPLE_NAME}" has not restarted, so there is no previous log; leave out --previous to see the current one.` },
    ],
  },
  input: ({ name, tail, previous }) => ({ kind: 'logs', name, tail: tail ?? DEFAULT_TAIL, previous: previous ?? false }),
  answer: (r) => ({
    result: { name: r.name, pod: r.pod, tail: r.tail, previous: r.previous, text: r.text, redacted: r.redacted },
    message: `${lines(r.text)} line${lines(r.text) === 1 ? '' : 's'} of the ${r.previous ? 'previous ' : ''}log of ${r.name}`,
  }),

  request: ({ name, tail, previous }) => ({ body: { name, tail, ...(previous ? { previous } : {}) } }),
  // The answer carries the log, not the system: the CLI prints only the log.
  result: async (a) => ({
    kind: 'logs',
    name: a.name,
    pod: a.pod,
    tail: a.tail,
    previous: a.previous,
    text: a.text,
    redacted: a.redacted,
    system: { name: a.name, namespace: '', image: '', ports: [], url: null, ready: false, stage: 'ready', owner: '', ownerId: '', origin: '', created: '', expires: null, annotations: {} },
  }),
};
