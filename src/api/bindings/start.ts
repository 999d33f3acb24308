/** POST /system/start: `up`, as the original Tycho's start. */
import { urlWarning } from '../../commands/format.js';
import type { UpInput, UpResult } from '../../commands/up.js';
import { usageLine } from '../../commands/usage.js';
import { UsageError } from '../../k8s/errors.js';
import type { SystemInfo } from '../../k8s/spec.js';
import type { RestBinding } from '../rest-binding.js';
import { launchRequestFromBody, startBodyFor, startResult } from '../wire-conversions.js';
import { EXAMPLE_NAME, StartQuery, StartRequest, StartResponse, type StartResult } from '../wire.js';

/** The body the original client sends, exactly as the issue gives it. */
export const EXAMPLE_START = {
  name: EXAMPLE_NAME,
  containers: [
    {
      name: 'jupyter-data-science-3425-c',
      image: 'jupyter/datascience-notebook',
      command: ['start.sh', 'jupyter', 'lab', "--LabApp.token=''"],
      env: ['A=1'],
      limits: [{ cpus: '0.3', memory: '512M' }],
      ports: [{ containerPort: 8888 }],
    },
  ],
};

export const startBinding: RestBinding<UpInput, UpResult, StartRequest, StartResult> = {
  path: '/system/start',
  body: StartRequest,
  bodyRequired: true,
  query: StartQuery,
  doc: {
    operationId: 'startSystem',
    summary: 'Start a system',
    description: 'Creates a Deployment and a Service named after the system and, unless wait=false, answers once the app is ready, with its URL.',
    owner: true,
    requestExamples: {
      original: { summary: 'What the original client sends', value: EXAMPLE_START },
      minimal: { summary: 'Only what is required', value: { name: 'hello', containers: [{ image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
    },
    success: {
      status: 201,
      description: 'Started (and ready, unless wait=false).',
      schema: StartResponse,
      examples: {
        started: {
          summary: 'Started',
          value: {
            status: 'success',
            result: {
              containers: { 'jupyter-data-science-3425-c': { port: 30812 } },
              container_map: { 'jupyter-data-science-3425-c': { port: 30812 } },
              url: 'http://10.0.0.5:30812',
            },
            message: `Started system ${EXAMPLE_NAME}`,
          },
        },
      },
    },
    errors: [
      { code: 'name_in_use', description: 'The name is in use.', message: `The name "${EXAMPLE_NAME}" is already in use by alice since 2025-01-01T12:00:00.000Z. Pick another name, or tear that one down first.` },
      { code: 'torn_down', description: 'The system was torn down (by anyone) while the start waited for it to be ready.', message: `"${EXAMPLE_NAME}" was torn down while it was starting.` },
      {
        code: 'image_pull_failed',
        description: 'The system cannot run as asked; it is kept for inspection unless TYCHO_ON_FAILURE=delete.',
        message: 'The image "jupyter/no-such-image" could not be pulled. Check its name and tag, and that the cluster can reach its registry (ErrImagePull: not found)',
      },
      { code: 'timeout', description: 'The app was not ready in time.', message: `"${EXAMPLE_NAME}" was not ready after 300 s (last seen: pulling the image).` },
    ],
  },
  input: (body) => ({ kind: 'up', args: launchRequestFromBody(body) }),
  options: (query) => {
    const q = query as StartQuery;
    return { wait: q.wait ?? true, ...(q.timeout !== undefined ? { timeoutSeconds: q.timeout } : {}) };
  },
  answer({ system }, body) {
    const warning = urlWarning(system);
    return { result: startResult(body, system), message: `Started system ${body.name}${warning ? `. ${warning}` : ''}` };
  },

  request({ args }, ctx) {
    if (args.expose) {
      throw new UsageError("--expose (or --service-type) cannot be chosen with -s URL: the Tycho server's TYCHO_DEFAULT_EXPOSE decides it.", usageLine('up', ctx.prefix));
    }
    const query: Record<string, string> = {};
    if (ctx.wait === false) query.wait = 'false';
    if (ctx.timeoutSeconds !== undefined) query.timeout = String(ctx.timeoutSeconds);
    return { body: startBodyFor(args), query };
  },
  async result(started, { args }, ctx, server) {
    // The start answer has the original's shape; the full picture (for --json) is in status.
    const info = await server
      .run({ kind: 'status', name: args.name })
      .then((r) => r.systems[0])
      .catch(() => undefined);
    // What the server opened before answering, so remote mode warns as direct mode does.
    const urlCheck = started.url_checked !== undefined && started.url_verified !== undefined ? { urlCheck: { checked: started.url_checked, verified: started.url_verified } } : {};
    if (info) return { kind: 'up', system: { ...info, ...urlCheck } };
    const waited = ctx.wait !== false;
    const system: SystemInfo = {
      ...urlCheck,
      name: args.name,
      namespace: '',
      image: args.image,
      ports: [],
      url: started.url,
      ready: waited,
      stage: waited ? 'ready' : 'created',
      owner: ctx.caller.owner.display,
      ownerId: ctx.caller.owner.id,
      origin: 'api',
      created: new Date().toISOString(),
      expires: null,
      annotations: {},
    };
    return { kind: 'up', system };
  },
  progress: { name: ({ args }) => args.name, finalStage: ({ system }) => system.stage },
};
