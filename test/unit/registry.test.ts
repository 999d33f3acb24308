/**
 * A new command is one module: registered here (test-only, nothing else edited), it is offered
 * by every front end, each derived from the registry. It gets an OpenAPI path that a
 * maintained validator accepts, a REST route that answers and validates its body, a CLI verb
 * in direct and in remote mode (the remote call made from its REST binding), a place in
 * `help`, and a Slack command. Unregistered, it is gone from what is derived again.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Type } from '@sinclair/typebox';
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { openApiDocument } from '../../src/api/openapi.js';
import type { RestBinding } from '../../src/api/rest-binding.js';
import { mountApi } from '../../src/api/routes.js';
import { handleSlashCommand, type SlashCommandArgs } from '../../src/bot/listeners/slash-command.js';
import type { BotContext } from '../../src/bot/context.js';
import { NAME_FLAG, type CommandModule, type FlagReader } from '../../src/commands/command.js';
import { parseCommand } from '../../src/commands/parser.js';
import { registerCommand } from '../../src/commands/registry.js';
import { limiter } from '../../src/concurrency.js';
import type { SystemLauncher } from '../../src/k8s/system-launcher.js';
import { checkName } from '../../src/k8s/validate.js';
import { silentLogger } from '../../src/log.js';
import { tycho } from '../cli/run-cli.js';

interface ShoutInput {
  kind: 'shout';
  name: string;
}
interface ShoutResult {
  kind: 'shout';
  text: string;
}

const ShoutRequest = Type.Object({ name: Type.String({ minLength: 1, maxLength: 63 }) }, { $id: 'ShoutRequest', additionalProperties: false });
const ShoutResponse = Type.Object(
  { status: Type.Unsafe<'success'>({ type: 'string', enum: ['success'] }), result: Type.Object({ text: Type.String() }), message: Type.String() },
  { $id: 'ShoutResponse', additionalProperties: false },
);

const rest: RestBinding<ShoutInput, ShoutResult, { name: string }, { text: string }> = {
  path: '/system/shout',
  body: ShoutRequest,
  bodyRequired: true,
  doc: {
    operationId: 'shoutSystem',
    summary: 'Shout a name',
    description: 'A command that exists only in this test.',
    owner: true,
    requestExamples: { one: { summary: 'One name', value: { name: 'web' } } },
    success: { status: 200, description: 'Shouted.', schema: ShoutResponse, examples: { shouted: { summary: 'Shouted', value: { status: 'success', result: { text: 'WEB!' }, message: 'WEB!' } } } },
    errors: [{ code: 'not_found', description: 'No such name.', message: 'There is no system named "web".' }],
  },
  input: ({ name }) => ({ kind: 'shout', name }),
  answer: ({ text }) => ({ result: { text }, message: text }),
  request: ({ name }) => ({ body: { name } }),
  result: async ({ text }) => ({ kind: 'shout', text }),
};

/** Says who asked, so each front end's caller shows: Slack's user, the CLI's, the REST owner header. */
const shout: CommandModule<'shout', ShoutInput, ShoutResult> = {
  name: 'shout',
  usage: 'shout -n NAME',
  summary: 'Shout NAME, saying who asked.',
  flags: [NAME_FLAG],
  read(r: FlagReader) {
    const name = r.single('name');
    if (name === undefined) r.refuse('Say what to shout with -n NAME.');
    r.check(checkName(name));
    return { kind: 'shout', name };
  },
  run: async ({ name }, ctx) => ({ kind: 'shout', text: `${name.toUpperCase()}! (asked by ${ctx.caller.owner.display})` }),
  text: (r) => r.text,
  rest,
};

/** The command needs no cluster: any launcher call is a mistake. */
const noLauncher = new Proxy({} as SystemLauncher, {
  get: (_t, method) => () => Promise.reject(new Error(`the launcher was called (${String(method)})`)),
});

let unregister: () => void;
let server: Server;
let url: string;

beforeAll(async () => {
  unregister = registerCommand(shout);
  const app = express();
  mountApi(app, { launcher: noLauncher, policy: null, allowedHosts: [], log: silentLogger });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  unregister?.();
  await new Promise((resolve) => server?.close(resolve));
});

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('a command registered at run time', () => {
  it('has an OpenAPI path, in a document a maintained validator accepts, with its own schemas', async () => {
    const doc = openApiDocument();
    const op = doc.paths['/system/shout']?.post;
    expect(op).toMatchObject({ operationId: 'shoutSystem', tags: ['system'], summary: 'Shout a name' });
    expect(Object.keys(op!.responses)).toEqual(expect.arrayContaining(['200', '400', '404']));
    expect(op!.parameters?.map((p) => p.name)).toEqual(['X-Tycho-Owner']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['ShoutRequest', 'ShoutResponse']));
    const result = await new Validator().validate(structuredClone(doc) as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors).toBeUndefined();
  });

  it('has a REST route that answers with the envelope, and refuses a body its schema does not accept', async () => {
    expect(await post('/system/shout', { name: 'web' }, { 'X-Tycho-Owner': 'dave' })).toEqual({
      status: 200,
      body: { status: 'success', result: { text: 'WEB! (asked by dave)' }, message: 'WEB! (asked by dave)' },
    });
    const bad = await post('/system/shout', { name: 5 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 'error', result: { code: 'usage', errors: [{ field: 'body.name', rule: 'type' }] } });
    // The existing routes are still there, and the list of routes names the new one.
    const unknown = await post('/system/nope', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('/system/status, /system/logs, /system/restart and /system/shout');
  });

  it('is a CLI verb, in direct mode and in remote mode (through its REST binding), and help lists it', async () => {
    const direct = await tycho(['shout', '-n', 'web'], { TYCHO_OWNER: 'carol' });
    expect(direct).toEqual({ code: 0, stdout: 'WEB! (asked by carol)\n', stderr: '' });
    // Remote: the server runs it, for the owner the CLI sends.
    const remote = await tycho(['shout', '-n', 'web', '-s', url], { TYCHO_OWNER: 'carol' });
    expect(remote).toEqual({ code: 0, stdout: 'WEB! (asked by carol)\n', stderr: '' });
    expect(JSON.parse((await tycho(['shout', '-n', 'web', '--json', '-s', url], { TYCHO_OWNER: 'carol' })).stdout)).toEqual({ kind: 'shout', text: 'WEB! (asked by carol)' });
    // Bad input gets the sentence and the command's own usage line.
    const bad = await tycho(['shout'], { TYCHO_OWNER: 'carol' });
    expect(bad).toMatchObject({ code: 2, stderr: 'tycho: Say what to shout with -n NAME.\nUsage: tycho shout -n NAME\n' });
    expect((await tycho(['help'], {})).stdout).toContain('tycho shout -n NAME\n    Shout NAME, saying who asked.');
    expect((await tycho(['help', 'shout'], {})).stdout).toContain('Usage: tycho shout -n NAME');
  });

  it('is a Slack command, run for the Slack user who typed it', async () => {
    const acks: unknown[] = [];
    const said: unknown[] = [];
    const args = {
      command: { user_id: 'U0ALICE001', channel_id: 'C0TEAM0001', text: 'shout -n web', command: '/tycho' },
      ack: async (m?: unknown) => void acks.push(m),
      respond: async (m: unknown) => void said.push(m),
      client: {},
      context: {},
    } as unknown as SlashCommandArgs;
    const ctx: BotContext = {
      launcher: noLauncher,
      admins: [],
      policy: { exposeModes: ['nodeport'], maxCpu: '4', maxMemory: '16Gi', maxGpu: 1 },
      log: silentLogger,
      tearingDown: new Map(),
      launches: limiter(1),
    };
    await handleSlashCommand(args, ctx);
    expect(acks).toEqual([undefined]);
    // The command's words are shown as text (a mention in them is not made live: Tycho's rule for outside text).
    expect(said).toEqual([expect.objectContaining({ response_type: 'ephemeral', text: 'WEB! (asked by `&lt;@U0ALICE001&gt;)`' })]);
  });
});

it('is gone from what is derived once unregistered; the built-in commands are as they were', () => {
  const whisper: CommandModule<'whisper', { kind: 'whisper'; name: string }, { kind: 'whisper' }> = {
    name: 'whisper',
    usage: 'whisper -n NAME',
    summary: 'Say nothing.',
    flags: [NAME_FLAG],
    read: (r: FlagReader) => ({ kind: 'whisper', name: r.single('name') ?? r.refuse('Say what to whisper with -n NAME.') }),
    run: async () => ({ kind: 'whisper' }),
  };
  const again = registerCommand(whisper);
  expect(parseCommand(['whisper', '-n', 'web'], { frontEnd: 'cli', prefix: 'tycho ' }).command).toEqual({ kind: 'whisper', name: 'web' });
  again();
  expect(() => parseCommand(['whisper', '-n', 'web'], { frontEnd: 'cli', prefix: 'tycho ' })).toThrow('"whisper" is not a Tycho command; use one of up, down, extend, status, list, logs, restart, help, shout.');
  expect(Object.keys(openApiDocument().paths).filter((p) => p.startsWith('/system/'))).toEqual(['/system/start', '/system/delete', '/system/extend', '/system/status', '/system/logs', '/system/restart', '/system/shout']);
  // The original client's spellings come from the modules too.
  expect(parseCommand(['--down', '-n', 'web'], { frontEnd: 'cli', prefix: 'tycho ' }).command).toEqual({ kind: 'down', name: 'web' });
  expect(() => registerCommand(shout)).toThrow('A command named "shout" is registered already.');
});
