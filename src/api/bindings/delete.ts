/** POST /system/delete: `down`, as the original Tycho's delete. */
import type { DownInput, DownResult } from '../../commands/down.js';
import type { RestBinding } from '../rest-binding.js';
import { DeleteResponse, EXAMPLE_NAME, NameRequest } from '../wire.js';

export const deleteBinding: RestBinding<DownInput, DownResult, NameRequest, null> = {
  path: '/system/delete',
  body: NameRequest,
  bodyRequired: true,
  doc: {
    operationId: 'deleteSystem',
    summary: 'Delete a system',
    description: "Removes the system's Deployment, Pods and Service, and answers once they are gone. X-Tycho-Owner names who asked: Slack's closing reply in the system's thread says so.",
    owner: true,
    requestExamples: { byName: { summary: 'By name', value: { name: EXAMPLE_NAME } } },
    success: {
      status: 200,
      description: 'Deleted.',
      schema: DeleteResponse,
      examples: { deleted: { summary: 'Deleted', value: { status: 'success', result: null, message: `Deleted system ${EXAMPLE_NAME}` } } },
    },
    errors: [{ code: 'not_found', description: 'There is no system with that name.', message: `There is no system named "${EXAMPLE_NAME}".` }],
  },
  input: ({ name }) => ({ kind: 'down', name }),
  answer: (_result, { name }) => ({ result: null, message: `Deleted system ${name}` }),

  request: ({ name }) => ({ body: { name } }),
  // The answer says only that it is gone; the system as it was stays on the server.
  result: async (_answer, { name }) => ({
    kind: 'down',
    system: { name, namespace: '', image: '', ports: [], url: null, ready: false, stage: 'terminating', owner: '', ownerId: '', origin: '', created: '', expires: null, annotations: {} },
  }),
};
