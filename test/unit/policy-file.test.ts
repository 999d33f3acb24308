/**
 * The policy file (TYCHO_POLICY_FILE) and its environment overrides, read by loadConfig: every
 * problem names the file, the key and the expected form, all at once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadLauncherConfig } from '../../src/config.js';
import { checkLaunchPolicy } from '../../src/commands/policy.js';
import { configProblems } from '../support/config-problems.js';

const dir = mkdtempSync(join(tmpdir(), 'tycho-policy-'));
let n = 0;
function policyFile(text: string): string {
  const path = join(dir, `policy-${++n}.yaml`);
  writeFileSync(path, text);
  return path;
}

const problems = configProblems;

const GOOD = `
channels: { allow: [C0TEAM0001] }
users:
  allow: [U0ALICE001, U0BOB00001]
admins: [U0ADMIN001]
images:
  allow: [ghcr.io/our-org/, docker.io/jupyter/*-notebook]
systems: { maxPerUser: 2, maxTotal: 20 }
limits: { maxCpu: "2", maxMemory: 8Gi, maxGpu: 0, exposeModes: [nodeport, cluster] }
list: { scope: channel }
`;

describe('the policy file', () => {
  it('is read into the configuration', () => {
    const c = loadConfig({ TYCHO_POLICY_FILE: policyFile(GOOD), TYCHO_ADMINS: 'U0OLDADM01' });
    expect(c.access).toMatchObject({ channels: ['C0TEAM0001'], users: ['U0ALICE001', 'U0BOB00001'], maxPerUser: 2, maxTotal: 20, listScope: 'channel' });
    expect(c.access.images!.map((r) => r.text)).toEqual(['ghcr.io/our-org/', 'docker.io/jupyter/*-notebook']);
    expect(c.admins).toEqual(['U0ADMIN001', 'U0OLDADM01']);
    expect(c.policy).toMatchObject({ maxCpu: '2', maxMemory: '8Gi', maxGpu: 0, exposeModes: ['nodeport', 'cluster'] });
  });

  it('names the file key in a limit refusal when the limit came from the file', () => {
    const c = loadLauncherConfig({ TYCHO_POLICY_FILE: policyFile(GOOD) });
    expect(checkLaunchPolicy({ name: 'x', image: 'nginx', ports: [80], env: [], cpu: '3' }, c.policy)).toBe(
      'The cpu amount "3" is more than the 2 cpu a system may have here (policy: limits.maxCpu); ask for less, or ask an admin.',
    );
  });

  it('is overridden key by key by the environment, and the old variables keep working', () => {
    const c = loadConfig({
      TYCHO_POLICY_FILE: policyFile(GOOD),
      TYCHO_MAX_CPU: '8',
      TYCHO_USER_EXPOSE_MODES: 'loadbalancer',
      TYCHO_ALLOWED_IMAGES: 'quay.io/team/',
      TYCHO_MAX_SYSTEMS_PER_USER: '5',
      TYCHO_LIST_SCOPE: 'namespace',
    });
    expect(c.policy).toMatchObject({ maxCpu: '8', maxMemory: '8Gi', exposeModes: ['nodeport', 'loadbalancer'] });
    expect(c.policy.fromFile).toEqual({ maxMemory: true, maxGpu: true });
    expect(c.access).toMatchObject({ maxPerUser: 5, maxTotal: 20, listScope: 'namespace', channels: ['C0TEAM0001'] });
    expect(c.access.images!.map((r) => r.text)).toEqual(['quay.io/team/']);
    expect(checkLaunchPolicy({ name: 'x', image: 'nginx', ports: [80], env: [], cpu: '9' }, c.policy)).toMatch(/\(the operator's setting TYCHO_MAX_CPU\)/);
  });

  it('without a file, everything is open as before', () => {
    expect(loadConfig({}).access).toEqual({ channels: null, users: null, images: null, maxPerUser: null, maxTotal: null, listScope: 'namespace' });
  });

  it('reports every problem at once, each naming the file, the key and the expected form', () => {
    const file = policyFile(`
channels: { allow: ["#general"] }
users: { allow: [U0ALICE001, alice] }
admins: U0ADMIN001
images:
  allow: [ghcr.io/our-org/, docker.io/library/nginx, our-org, 7]
systems: { maxPerUser: 0, maxTotal: many }
limits: { maxCpu: lots, maxMemory: 512Mi, exposeModes: [public] }
list: { scope: everywhere }
quota: 3
`);
    const name = file.split('/').pop();
    expect(problems({ TYCHO_POLICY_FILE: file })).toEqual([
      `${name}: quota is not a policy key; the keys are channels, users, admins, images, systems, limits, list.`,
      `${name}: channels.allow[0] must be a Slack channel ID such as C0123ABCD (IDs, never names).`,
      `${name}: users.allow[1] must be a Slack user ID such as U0123ABCD (IDs, never names).`,
      `${name}: admins must be a list of Slack user IDs.`,
      `${name}: images.allow[2] must be a registry/repository prefix such as ghcr.io/our-org/, or a pattern such as docker.io/jupyter/*-notebook.`,
      `${name}: images.allow[3] must be a registry/repository prefix such as ghcr.io/our-org/, or a pattern such as docker.io/jupyter/*-notebook.`,
      `${name}: systems.maxPerUser must be the most systems one person may have, a whole number from 1 to 1000.`,
      `${name}: systems.maxTotal must be the most systems Tycho may run, a whole number from 1 to 100000.`,
      `${name}: limits.maxCpu must be a cpu amount such as 4 or 2500m.`,
      `${name}: limits.exposeModes[0] must be one of ingress, nodeport, loadbalancer, cluster.`,
      `${name}: list.scope must be namespace (every system) or channel (only those launched from the asking channel).`,
      `${name}: limits.maxMemory must be at least 1Gi (the limit every app gets by default).`,
    ]);
  });

  it('names a file that is not YAML, or cannot be read', () => {
    const bad = policyFile('images: [unclosed\n');
    expect(problems({ TYCHO_POLICY_FILE: bad })[0]).toMatch(new RegExp(`^${bad.split('/').pop()}: is not valid YAML at line \\d+`));
    expect(problems({ TYCHO_POLICY_FILE: join(dir, 'missing.yaml') })).toEqual([`TYCHO_POLICY_FILE names ${join(dir, 'missing.yaml')}, which cannot be read (ENOENT); mount the policy ConfigMap there, or unset it.`]);
    expect(problems({ TYCHO_POLICY_FILE: policyFile('images:\n  allow: [x]\n  deny: [y]\n') })).toContain(`policy-${n}.yaml: images.deny is not a policy key; under images the keys are allow.`);
    expect(problems({ TYCHO_POLICY_FILE: policyFile('images: { allow: ghcr.io/our-org/ }\n') })).toEqual([
      `policy-${n}.yaml: images.allow must be a list of registry/repository prefixes or patterns, such as [ghcr.io/our-org/, docker.io/jupyter/*-notebook].`,
    ]);
  });

  it('refuses bad environment overrides by name', () => {
    expect(problems({ TYCHO_ALLOWED_CHANNELS: '#general', TYCHO_ALLOWED_IMAGES: 'our-org', TYCHO_MAX_SYSTEMS: '0', TYCHO_LIST_SCOPE: 'all' })).toEqual([
      'TYCHO_ALLOWED_CHANNELS must be a comma-separated list of Slack channel IDs such as C0123ABCD (IDs, never #names).',
      'TYCHO_ALLOWED_IMAGES must be a comma-separated list of a registry/repository prefix such as ghcr.io/our-org/, or a pattern such as docker.io/jupyter/*-notebook.',
      'TYCHO_MAX_SYSTEMS must be the most systems Tycho may run, a whole number from 1 to 100000.',
      'TYCHO_LIST_SCOPE must be one of namespace, channel.',
    ]);
  });
});
