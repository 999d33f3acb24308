/**
 * A 300 MB body to a real Tycho server process (`node dist/server/main.js`, Slack in HTTP
 * mode, the REST API with a token): each is answered 413 without being held in memory. The
 * server's peak resident memory (VmHWM in /proc) is read afterwards, so nothing is sampled
 * and nothing is timed; the pod's limit is 384Mi, and buffering the body alone would pass it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createTestNamespace } from '../support/cluster.js';
import { FakeSlack } from '../support/fake-slack.js';
import { postToSlackEndpoint, slackSignature, slashCommandBody } from '../support/slack-signing.js';
import { objectsIn, post, TOKEN, zeros } from './helpers.js';

const MAIN = new URL('../../dist/server/main.js', import.meta.url).pathname;
const BODY = 300_000_000;
const MiB = 1024 * 1024;
const POD_LIMIT = 384 * MiB;
const SECRET = randomBytes(16).toString('hex');

let ns: string;
let slack: FakeSlack;
let server: ChildProcess;
let base: string;

/** Starts the server as the image does, and resolves with its URL once it listens. */
function startServerProcess(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (l) => seen.push(l));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      seen.push(l);
      const url = /"msg":"listening".*"url":"([^"]+)"/.exec(l)?.[1];
      if (url) resolve({ child, url });
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${seen.join('\n')}`)));
  });
}

/** Peak resident memory of the process so far, in bytes. */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb) * 1024;
}

beforeAll(async () => {
  ns = await createTestNamespace('body-limit');
  slack = await FakeSlack.start();
  const started = await startServerProcess({
    PORT: '0',
    HOST: '127.0.0.1',
    TYCHO_NAMESPACE: ns,
    TYCHO_LOCAL_CLUSTER: 'never',
    TYCHO_LOG_LEVEL: 'info',
    SLACK_BOT_TOKEN: 'xoxb-test-0000-not-a-real-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    TYCHO_API_TOKEN: TOKEN,
  });
  server = started.child;
  base = started.url;
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  await slack?.stop();
});

const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

describe('a 300 MB body is refused with 413 before it is read', () => {
  it('POST /slack/events, unsigned and streamed (chunked): 413', async () => {
    const r = await post(`${base}/slack/events`, { headers: form, body: zeros(BODY) });
    expect([r.status, r.text]).toEqual([413, 'The request body is larger than 64 kB.']);
  });

  it('POST /slack/events, signed headers and a declared Content-Length: 413', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const headers = { ...form, 'Content-Length': String(BODY), 'X-Slack-Request-Timestamp': String(ts), 'X-Slack-Signature': slackSignature(SECRET, ts, 'x') };
    const r = await post(`${base}/slack/events`, { headers, body: zeros(BODY) });
    expect(r.status).toBe(413);
  });

  it('POST /system/start with the token, streamed: 413 in the envelope, nothing created', async () => {
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` };
    const r = await post(`${base}/system/start`, { headers, body: zeros(BODY) });
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ status: 'error', result: { error: 'The request body is larger than 64 kB.', code: 'usage' }, message: 'The request body is larger than 64 kB.' });
    expect(await objectsIn(ns)).toEqual([]);
  });

  it('the server kept well under the pod limit throughout, and still answers Slack', async () => {
    const peak = await peakRss(server.pid!);
    expect(peak).toBeLessThan(POD_LIMIT * 0.6);
    const help = slashCommandBody({ text: 'help', user_id: 'U0ALICE001', channel_id: 'C0TEAM0001', response_url: slack.responseUrl('after') });
    const r = await postToSlackEndpoint(`${base}/slack/events`, help, { secret: SECRET });
    expect(r.status).toBe(200);
    expect(r.text).toContain('up -n NAME');
  });
});
