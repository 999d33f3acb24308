/**
 * `tycho logs` (direct and remote) and POST /system/logs: the last lines of a system's log as the
 * simulated kubelet serves them through the API server, secrets redacted, the previous run's log
 * of a crashed container, and one sentence for what cannot be shown.
 */
import { call, serverInFreshNamespace, TOKEN } from '../api/helpers.js';
import { errorLine, tycho } from './run-cli.js';

const live = serverInFreshNamespace('cli-logs', { token: TOKEN });
const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };
const direct = (args: string[]) => tycho(args, { KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: live.ns, TYCHO_OWNER: 'carol' });
const remote = (args: string[]) => tycho([...args, '-s', live.server.url], { TYCHO_OWNER: 'carol', TYCHO_API_TOKEN: TOKEN });

const BEARER = 'abcdefgh12345678ZZ';

describe('logs', () => {
  beforeAll(async () => {
    const up = await direct(['up', '-n', 'logs-app', '-c', 'nginx', '-p', '80', '-e', `SIMULATED_LOG=calling the API with Authorization: Bearer ${BEARER}`]);
    expect(up.code).toBe(0);
  });

  it('REST, the CLI and the CLI through the server show the same last lines, redacted', async () => {
    const r = await call(live.server.url, '/system/logs', { name: 'logs-app', tail: 5 }, auth);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'success', result: { name: 'logs-app', tail: 5, previous: false, redacted: 1 }, message: '5 lines of the log of logs-app' });
    const text: string = r.json.result.text;
    expect(text.split('\n')).toEqual(['Loading configuration', 'calling the API with Authorization: Bearer [REDACTED]', 'Listening on 0.0.0.0:80', 'Ready to serve requests', 'GET / 200', '']);
    expect(r.text).not.toContain(BEARER);

    for (const run of [direct, remote]) {
      const out = await run(['logs', '-n', 'logs-app', '--tail', '5']);
      expect(out).toEqual({ code: 0, stdout: text, stderr: 'tycho: warning: 1 secret replaced by [REDACTED].\n' });
    }
    expect(JSON.parse((await remote(['logs', 'logs-app', '--tail', '5', '--json'])).stdout)).toMatchObject({ name: 'logs-app', text, redacted: 1 });
  });

  it('--previous of a crashed container shows what it printed before it crashed; of one that never restarted, one sentence', async () => {
    const up = await direct(['up', '-n', 'logs-crash', '-c', 'example/crashloop:1', '-p', '80']);
    expect(up.code).not.toBe(0); // crash_looping: it is kept for inspection
    for (const run of [direct, remote]) {
      const out = await run(['logs', '-n', 'logs-crash', '--previous']);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('Error: simulated crash (the image name contains "crashloop")\nexit status 1\n');
    }
    const r = await call(live.server.url, '/system/logs', { name: 'logs-app', previous: true }, auth);
    expect(r.status).toBe(404);
    expect(r.json).toMatchObject({ status: 'error', result: { code: 'not_found' }, message: '"logs-app" has not restarted, so there is no previous log; leave out --previous to see the current one.' });
    const cli = await direct(['logs', '-n', 'logs-app', '--previous']);
    expect(cli.code).toBe(3);
    expect(errorLine(cli)).toBe('tycho: "logs-app" has not restarted, so there is no previous log; leave out --previous to see the current one.');
  });

  it('a system whose container never started, or whose pod has no node, gets one sentence', async () => {
    expect((await direct(['up', '-n', 'logs-pull', '-c', 'example/pull-error:1', '-p', '80'])).code).not.toBe(0);
    expect((await direct(['up', '-n', 'logs-gpu', '-c', 'nginx', '-p', '80', '--gpu', '1'])).code).not.toBe(0);
    const pull = await call(live.server.url, '/system/logs', { name: 'logs-pull' }, auth);
    expect([pull.status, pull.json.result.code, pull.json.message]).toEqual([404, 'not_found', '"logs-pull"\'s container has not started yet, so it has no log to show.']);
    const gpu = await remote(['logs', '-n', 'logs-gpu']);
    expect([gpu.code, errorLine(gpu)]).toEqual([3, 'tycho: "logs-gpu"\'s pod is waiting for a node, so it has no log yet.']);
  });

  it('bad input gets one sentence: no such system, a bad --tail', async () => {
    const missing = await call(live.server.url, '/system/logs', { name: 'no-such-app' }, auth);
    expect([missing.status, missing.json.message]).toEqual([404, 'There is no system named "no-such-app".']);
    expect((await call(live.server.url, '/system/logs', { name: 'logs-app', tail: 0 }, auth)).status).toBe(400);
    const bad = await direct(['logs', '-n', 'logs-app', '--tail', 'lots']);
    expect(bad).toMatchObject({ code: 2, stdout: '', stderr: 'tycho: --tail takes a whole number of lines from 1 to 10000, not "lots".\nUsage: tycho logs -n NAME [--tail N] [--previous]\n' });
    const none = await remote(['logs', '-n', 'no-such-app']);
    expect([none.code, errorLine(none)]).toEqual([3, 'tycho: There is no system named "no-such-app".']);
  });
});
