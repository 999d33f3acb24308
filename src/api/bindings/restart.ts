/** POST /system/restart: `restart`, a system's pod replaced as `kubectl rollout restart` does (Tycho's own). */
import type { RestartInput, RestartResult } from '../../commands/restart.js';
import type { RestBinding } from '../rest-binding.js';
import { DeleteResponse, EXAMPLE_NAME, NameRequest } from '../wire.js';

export const restartBinding: RestBinding<RestartInput, RestartResult, NameRequest, null> = {
  path: '/system/restart',
  body: NameRequest,
  bodyRequired: true,
  doc: {
    operationId: 'restartSystem',
    summary: "Replace a system's pod",
    description:
      "Replaces the system's pod with a fresh one, as `kubectl rollout restart` does (the pod template's kubectl.kubernetes.io/restartedAt annotation): the Deployment, Service and URL stay. Answers once the restart is asked; the new pod follows (status shows it). X-Tycho-Owner names who asked.",
    owner: true,
    requestExamples: { byName: { summary: 'By name', value: { name: EXAMPLE_NAME } } },
    success: {
      status: 200,
      description: 'The restart is under way.',
      schema: DeleteResponse,
      examples: { restarting: { summary: 'Restarting', value: { status: 'success', result: null, message: `Restarting system ${EXAMPLE_NAME}: its pod is being replaced` } } },
    },
    errors: [{ code: 'not_found', description: 'There is no system with that name.', message: `There is no system named "${EXAMPLE_NAME}".` }],
  },
  input: ({ name }) => ({ kind: 'restart', name }),
  answer: (_result, { name }) => ({ result: null, message: `Restarting system ${name}: its pod is being replaced` }),

  request: ({ name }) => ({ body: { name } }),
  // The answer says only that it is under way; the system itself is the server's status.
  result: async (_answer, { name }, _ctx, server) => {
    const system = await server
      .run({ kind: 'status', name })
      .then((r) => r.systems[0])
      .catch(() => undefined);
    return {
      kind: 'restart',
      system: system ?? { name, namespace: '', image: '', ports: [], url: null, ready: false, stage: 'ready', owner: '', ownerId: '', origin: '', created: '', expires: null, annotations: {} },
    };
  },
};
