/** POST /system/status: `status` (with a name) and `list` (without), as the original Tycho's status. */
import type { ListInput, ListResult } from '../../commands/list.js';
import type { StatusInput, StatusResult } from '../../commands/status.js';
import { NotFound } from '../../k8s/errors.js';
import type { RestBinding, SharedRestCall } from '../rest-binding.js';
import { statusItem, systemFromStatusItem } from '../wire-conversions.js';
import { EXAMPLE_NAME, StatusRequest, StatusResponse, type StatusItem } from '../wire.js';

export const statusBinding: RestBinding<StatusInput, StatusResult, StatusRequest | undefined, StatusItem[]> = {
  path: '/system/status',
  body: StatusRequest,
  // No body at all means every system, like {}.
  bodyRequired: false,
  doc: {
    operationId: 'systemStatus',
    summary: 'Status of one system or all',
    description: 'With a name, a list of that one system (404 if unknown); with {} or no body, every system Tycho runs in its namespace.',
    requestExamples: {
      all: { summary: 'Every system', value: {} },
      one: { summary: 'One system', value: { name: EXAMPLE_NAME } },
    },
    success: {
      status: 200,
      description: 'The systems.',
      schema: StatusResponse,
      examples: {
        one: {
          summary: 'One ready system',
          value: {
            status: 'success',
            result: [
              {
                name: EXAMPLE_NAME,
                image: 'jupyter/datascience-notebook',
                url: 'http://10.0.0.5:30812',
                port: 30812,
                ready: true,
                owner: 'alice',
                created: '2025-01-01T12:00:00.000Z',
                expires: null,
                namespace: 'tycho',
                stage: 'ready',
                reason: null,
                ports: [{ port: 8888, nodePort: 30812 }],
                origin: 'api',
              },
            ],
            message: 'Found 1 system',
          },
        },
      },
    },
    errors: [{ code: 'not_found', description: 'There is no system with that name.', message: `There is no system named "${EXAMPLE_NAME}".` }],
  },
  input: (body) => (body?.name === undefined ? { kind: 'status' } : { kind: 'status', name: body.name }),
  answer({ systems }) {
    const n = systems.length;
    return { result: systems.map(statusItem), message: `Found ${n} system${n === 1 ? '' : 's'}` };
  },

  request: ({ name }) => ({ body: name === undefined ? {} : { name } }),
  async result(items, { name }) {
    if (name === undefined) return { kind: 'status', systems: items.map(systemFromStatusItem) };
    const first = items[0];
    if (!first) throw new NotFound(name);
    return { kind: 'status', systems: [systemFromStatusItem(first)], name };
  },
};

/** `list` asks the status route for every system. */
export const listCall: SharedRestCall<ListInput, ListResult, StatusRequest, StatusItem[]> = {
  path: '/system/status',
  sharesRouteOf: 'status',
  request: () => ({ body: {} }),
  result: async (items) => ({ kind: 'list', systems: items.map(systemFromStatusItem) }),
};
