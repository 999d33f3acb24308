/**
 * Each error code maps to Slack's words, an HTTP status and an exit code in exactly one table
 * per front end, and the CLI's remote mode recovers the code from a server's answer, so a
 * script sees the exit status of direct mode. Without a code in the answer (an older server),
 * the code is read back from the HTTP status through the server's own table, not a copy of it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP_STATUS, sendThrown } from '../../src/api/envelope.js';
import { TITLES } from '../../src/bot/error-text.js';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { codeOfStatus } from '../../src/cli/remote.js';
import { TYCHO_ERROR_CODES, TychoError, type TychoErrorCode } from '../../src/k8s/errors.js';
import { tycho } from '../cli/run-cli.js';

/** Any code, as the server would throw it. */
class Coded extends TychoError {
  constructor(
    readonly code: TychoErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const sentence = (code: string) => `Something of kind ${code} happened; do the thing for ${code}.`;

/** What the fake server answers next: a coded error (as Tycho does), or the same without result.code (an older server). */
let next: { code: TychoErrorCode; withCode: boolean } = { code: 'internal', withCode: true };
let server: Server;
let url: string;

beforeAll(async () => {
  const app = express();
  app.post('/system/status', (_req, res) => {
    if (next.withCode) sendThrown(res, new Coded(next.code, sentence(next.code)));
    else res.status(HTTP_STATUS[next.code]).json({ status: 'error', result: { error: sentence(next.code) }, message: sentence(next.code) });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

it('has exactly one entry per code in each front end\'s table: Slack, HTTP, exit status', () => {
  for (const table of [TITLES, HTTP_STATUS, EXIT_CODES]) {
    expect(Object.keys(table).sort()).toEqual([...TYCHO_ERROR_CODES].sort());
  }
});

describe('the CLI in remote mode', () => {
  it.each([...TYCHO_ERROR_CODES])('recovers %s from the server\'s answer, with its sentence and exit status', async (code) => {
    next = { code, withCode: true };
    const text = await tycho(['list', '-s', url], { TYCHO_OWNER: 'carol' });
    expect(text.code).toBe(EXIT_CODES[code]);
    expect(text.stderr.split('\n')[0]).toBe(`tycho: ${sentence(code)}`);
    const json = await tycho(['list', '--json', '-s', url], { TYCHO_OWNER: 'carol' });
    expect(JSON.parse(json.stdout)).toEqual({ error: { code, message: sentence(code) } });
  });

  it.each([...TYCHO_ERROR_CODES])('reads %s back from the HTTP status alone as a code with that status', async (code) => {
    next = { code, withCode: false };
    const json = await tycho(['list', '--json', '-s', url], { TYCHO_OWNER: 'carol' });
    const recovered = (JSON.parse(json.stdout) as { error: { code: TychoErrorCode } }).error.code;
    expect(HTTP_STATUS[recovered]).toBe(HTTP_STATUS[code]);
    expect(json.code).toBe(EXIT_CODES[recovered]);
  });

  it('reads a status the table does not have as a refused request (4xx) or a failure (5xx)', () => {
    expect([codeOfStatus(413), codeOfStatus(415), codeOfStatus(502)]).toEqual(['usage', 'usage', 'internal']);
  });
});
