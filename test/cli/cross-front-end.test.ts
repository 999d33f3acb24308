/**
 * One launcher, one kind of system: what the REST API starts, the CLI (on the kubeconfig)
 * sees and tears down, and the other way round.
 */
import { waitFor } from '../support/cluster.js';
import { call, objectsIn, originalBody, serverInFreshNamespace } from '../api/helpers.js';
import { openUrl } from '../support/open-url.js';
import { errorLine, tycho } from './run-cli.js';


const live = serverInFreshNamespace('cross');

const cli = (args: string[]) => tycho(args, { KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: live.ns, TYCHO_OWNER: 'carol' });

it('started over REST, listed and torn down with the CLI', async () => {
  const started = await call(live.server.url, '/system/start', originalBody('rest-made'), { headers: { 'X-Tycho-Owner': 'alice' } });
  expect(started.status).toBe(201);
  const url: string = started.json.result.url;

  const listed = await cli(['list']);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(new RegExp(`rest-made\\s+ready\\s+${url.replace(/\./g, '\\.')}\\s+jupyter/datascience-notebook\\s+alice`));

  const down = await cli(['down', '-n', 'rest-made']);
  expect([down.code, down.stdout]).toEqual([0, 'Deleted system rest-made\n']);

  const gone = await call(live.server.url, '/system/status', { name: 'rest-made' });
  expect(gone.status).toBe(404);
  expect(await objectsIn(live.ns)).toEqual([]);
  await waitFor(async () => 'refused' in (await openUrl(url)), { what: `${url} to stop answering` });
});

it('started with the CLI, seen and deleted over REST', async () => {
  const up = await cli(['up', '-n', 'cli-made', '-c', 'nginx', '-p', '80', '-e', 'GREETING=hi']);
  expect(up.code).toBe(0);
  const url = up.stdout.trim();

  const status = await call(live.server.url, '/system/status', { name: 'cli-made' });
  expect(status.status).toBe(200);
  expect(status.json.result).toEqual([
    expect.objectContaining({ name: 'cli-made', image: 'nginx', url, ready: true, owner: 'carol', origin: 'cli', namespace: live.ns, port: Number(new URL(url).port) }),
  ]);

  const deleted = await call(live.server.url, '/system/delete', { name: 'cli-made' });
  expect(deleted.json).toEqual({ status: 'success', result: null, message: 'Deleted system cli-made' });
  expect(await objectsIn(live.ns)).toEqual([]);
  await waitFor(async () => 'refused' in (await openUrl(url)), { what: `${url} to stop answering` });

  const after = await cli(['status', '-n', 'cli-made']);
  expect(after.code).toBe(3);
  expect(errorLine(after)).toBe('tycho: There is no system named "cli-made".');
});

it('a name taken on one front end is refused on the other', async () => {
  expect((await cli(['up', '-n', 'taken', '-c', 'nginx', '-p', '80'])).code).toBe(0);
  const r = await call(live.server.url, '/system/start', originalBody('taken'));
  expect(r.status).toBe(409);
  expect(r.json.message).toMatch(/^The name "taken" is already in use by carol since /);
  expect((await call(live.server.url, '/system/delete', { name: 'taken' })).status).toBe(200);

  expect((await call(live.server.url, '/system/start', originalBody('taken-too'))).status).toBe(201);
  const again = await cli(['up', '-n', 'taken-too', '-c', 'nginx', '-p', '80']);
  expect(again.code).toBe(4);
  expect(errorLine(again)).toMatch(/already in use by api since/);
  expect((await cli(['down', 'taken-too'])).code).toBe(0);
});
