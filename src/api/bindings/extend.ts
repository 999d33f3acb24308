/** POST /system/extend: `extend`, a system's expiry moved (Tycho's own; the original had none). */
import type { ExtendInput, ExtendResult as ExtendCommandResult } from '../../commands/extend.js';
import type { RestBinding } from '../rest-binding.js';
import { EXAMPLE_NAME, ExtendRequest, ExtendResponse, ExtendResult, type ExtendResult as WireExtendResult } from '../wire.js';

export const extendBinding: RestBinding<ExtendInput, ExtendCommandResult, ExtendRequest, WireExtendResult> = {
  path: '/system/extend',
  body: ExtendRequest,
  bodyRequired: true,
  schemas: [ExtendRequest, ExtendResult, ExtendResponse],
  doc: {
    operationId: 'extendSystem',
    summary: 'Keep a system longer',
    description:
      'Every system expires (TYCHO_DEFAULT_TTL after its start, or its ttl) and is then removed. This moves its expiry by ttl (default TYCHO_DEFAULT_TTL), added to what is left, and never past now + TYCHO_MAX_TTL (a longer ttl is refused). X-Tycho-Owner names who asked.',
    owner: true,
    requestExamples: {
      byDefault: { summary: 'The default TTL more', value: { name: EXAMPLE_NAME } },
      oneHour: { summary: 'One hour more', value: { name: EXAMPLE_NAME, ttl: '1h' } },
    },
    success: {
      status: 200,
      description: 'Its new expiry.',
      schema: ExtendResponse,
      examples: {
        extended: { summary: 'Extended', value: { status: 'success', result: { name: EXAMPLE_NAME, expires: '2025-01-01T20:00:00.000Z', capped: false }, message: `Extended system ${EXAMPLE_NAME} until 2025-01-01T20:00:00.000Z` } },
      },
    },
    errors: [{ code: 'not_found', description: 'There is no system with that name.', message: `There is no system named "${EXAMPLE_NAME}".` }],
  },
  input: ({ name, ttl }) => ({ kind: 'extend', name, ...(ttl !== undefined ? { ttl } : {}) }),
  answer: ({ system, capped }, { name }) => ({ result: { name, expires: system.expires ?? '', capped }, message: `Extended system ${name} until ${system.expires ?? 'no set time'}` }),

  request: ({ name, ttl }) => ({ body: { name, ...(ttl !== undefined ? { ttl } : {}) } }),
  async result(answer, { name }, _ctx, server) {
    // The answer carries the new expiry; the rest of the system is the server's status.
    const system = await server
      .run({ kind: 'status', name })
      .then((r) => r.systems[0])
      .catch(() => undefined);
    const fallback = { name, namespace: '', image: '', ports: [], url: null, ready: false, stage: 'ready' as const, owner: '', ownerId: '', origin: '', created: '', expires: null, annotations: {} };
    return { kind: 'extend', system: { ...(system ?? fallback), expires: answer.expires }, capped: answer.capped };
  },
};
