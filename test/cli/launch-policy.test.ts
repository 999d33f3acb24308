/**
 * The CLI follows the same launch policy as Slack and REST (issue 8), in direct mode (the limits
 * of its own environment) and in remote mode (the server's), with the same sentence and exit
 * status; and it records its command with env values masked.
 */
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { ANN_COMMAND } from '../../src/k8s/labels.js';
import { kubeConfig, waitFor } from '../support/cluster.js';
import { objectsIn, serverInFreshNamespace, TOKEN } from '../api/helpers.js';
import { errorLine, tycho } from './run-cli.js';

const live = serverInFreshNamespace('cli-policy', { token: TOKEN });
const direct = (args: string[]) => tycho(args, { KUBECONFIG: process.env.KUBECONFIG!, TYCHO_NAMESPACE: live.ns, TYCHO_OWNER: 'carol' });
const remote = (args: string[]) => tycho([...args, '-s', live.server.url], { TYCHO_OWNER: 'carol', TYCHO_API_TOKEN: TOKEN });

describe('launch options beyond the policy', () => {
  it('--cpu 60 is refused the same way in direct and remote mode: exit 2, the rule and its setting named; nothing is created', async () => {
    const [d, r] = [await direct(['up', '-n', 'big', '-c', 'nginx', '-p', '80', '--cpu', '60']), await remote(['up', '-n', 'big', '-c', 'nginx', '-p', '80', '--cpu', '60'])];
    expect([d.code, r.code]).toEqual([2, 2]);
    expect(errorLine(d)).toBe(`tycho: The cpu amount "60" is more than the 4 cpu a system may have here (the operator's setting TYCHO_MAX_CPU); ask for less, or ask an admin.`);
    expect(errorLine(r)).toBe(errorLine(d));
    expect(d.stderr).toContain('Usage: tycho up');
    expect(await objectsIn(live.ns)).toEqual([]);
  });

  it.each([
    [['--service-type', 'LoadBalancer'], /^tycho: Exposing a system as loadbalancer is not allowed here: people may choose only nodeport \(the operator's setting TYCHO_USER_EXPOSE_MODES\)/],
    [['--memory', '200Gi'], /TYCHO_MAX_MEMORY/],
    [['--memory', '99999999999999999999Ei'], /^tycho: The memory amount "99999999999999999999Ei" is too large: Kubernetes can hold less than 8Ei\.$/],
  ])('%j is refused in direct mode with exit 2; nothing is created', async (extra, why) => {
    const run = await direct(['up', '-n', 'refused', '-c', 'nginx', '-p', '80', ...extra]);
    expect(run.code).toBe(2);
    expect(errorLine(run)).toMatch(why);
    expect(await objectsIn(live.ns)).toEqual([]);
  });
});

describe('secrets stay secret', () => {
  const apps = () => kubeConfig().makeApiClient(AppsV1Api);
  const core = () => kubeConfig().makeApiClient(CoreV1Api);
  const secretGone = (name: string) => waitFor(() => core().readNamespacedSecret({ namespace: live.ns, name }).then(() => false, (e: { code?: number }) => e.code === 404), { what: `the Secret ${name} to be garbage-collected` });

  it('direct mode records `-e KEY=***` and keeps --secret-env in a Secret', async () => {
    const up = await direct(['up', '-n', 'cli-secret', '-c', 'nginx', '-p', '80', '-e', 'DB_USER=alice', '--secret-env', 'DB_PASSWORD=hunter2', '--no-wait']);
    expect(up.code).toBe(0);
    expect(up.stdout + up.stderr).not.toContain('hunter2');
    const dep = await apps().readNamespacedDeployment({ namespace: live.ns, name: 'cli-secret' });
    expect(dep.metadata?.annotations?.[ANN_COMMAND]).toBe('tycho up -n cli-secret -c nginx -p 80 -e DB_USER=*** --secret-env DB_PASSWORD=*** --no-wait');
    expect(JSON.stringify(dep)).not.toContain('hunter2');
    const secret = await core().readNamespacedSecret({ namespace: live.ns, name: 'cli-secret' });
    expect(Buffer.from(secret.data?.DB_PASSWORD ?? '', 'base64').toString('utf8')).toBe('hunter2');
    expect((await direct(['down', 'cli-secret'])).code).toBe(0);
    await secretGone('cli-secret');
  });

  it('remote mode sends --secret-env as secret_env, and the server keeps it in a Secret', async () => {
    const up = await remote(['up', '-n', 'remote-secret', '-c', 'nginx', '-p', '80', '--secret-env', 'API_KEY=s3cret', '--no-wait']);
    expect(up.code).toBe(0);
    const dep = await apps().readNamespacedDeployment({ namespace: live.ns, name: 'remote-secret' });
    expect(JSON.stringify(dep)).not.toContain('s3cret');
    const secret = await core().readNamespacedSecret({ namespace: live.ns, name: 'remote-secret' });
    expect(Buffer.from(secret.data?.API_KEY ?? '', 'base64').toString('utf8')).toBe('s3cret');
    expect((await remote(['down', 'remote-secret'])).code).toBe(0);
    await secretGone('remote-secret');
  });
});
