/** The rule functions of the policy (src/policy): images, channels, users, counts, list scope. */
import { checkImageRule, imageAllowed, imageRepository, imageRule } from '../../src/policy/images.js';
import { checkChannel, checkCounts, checkImage, checkUser, inScope, OPEN_POLICY, type AccessPolicy } from '../../src/policy/rules.js';
import type { SystemInfo } from '../../src/k8s/spec.js';

const policy = (p: Partial<AccessPolicy>): AccessPolicy => ({ ...OPEN_POLICY, ...p });
const system = (name: string, ownerId: string, extra: Partial<SystemInfo> = {}): SystemInfo =>
  ({ name, ownerId, owner: ownerId, stage: 'ready', annotations: {}, ...extra }) as SystemInfo;

describe('image references, as the runtime reads them', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.27', 'docker.io/library/nginx'],
    ['jupyter/datascience-notebook:latest', 'docker.io/jupyter/datascience-notebook'],
    ['index.docker.io/jupyter/base-notebook', 'docker.io/jupyter/base-notebook'],
    ['ghcr.io/our-org/app@sha256:abc', 'ghcr.io/our-org/app'],
    ['localhost:5000/app:dev', 'localhost:5000/app'],
    ['GHCR.io/our-org/app', 'ghcr.io/our-org/app'],
  ])('%s is %s', (image, repo) => expect(imageRepository(image)).toBe(repo));
});

describe('images.allow', () => {
  const rules = ['ghcr.io/our-org/', 'docker.io/library/nginx', 'docker.io/jupyter/*-notebook'].map(imageRule);
  it.each(['ghcr.io/our-org/app:1', 'ghcr.io/our-org/team/app', 'nginx', 'nginx:1.27', 'jupyter/datascience-notebook', 'docker.io/jupyter/base-notebook:2024'])('allows %s', (image) => {
    expect(imageAllowed(image, rules)).toBe(true);
  });
  it.each(['ghcr.io/our-org-evil/app', 'ghcr.io/other/app', 'nginxinc/nginx-unprivileged', 'evil.io/ghcr.io/our-org/app', 'jupyter/notebook-evil/x', 'docker.io/jupyter/a/b-notebook'])('refuses %s', (image) => {
    expect(imageAllowed(image, rules)).toBe(false);
  });
  it('a prefix without its slash still ends at a segment', () => {
    expect(imageAllowed('ghcr.io/our-org/app', [imageRule('ghcr.io/our-org')])).toBe(true);
    expect(imageAllowed('ghcr.io/our-org-evil/app', [imageRule('ghcr.io/our-org')])).toBe(false);
  });
  it('refuses in one sentence naming the rule', () => {
    expect(checkImage('evil/miner', policy({ images: [imageRule('ghcr.io/our-org/')] }))).toEqual({ rule: 'images.allow', message: 'Images must come from ghcr.io/our-org/ (policy: images.allow).' });
    expect(checkImage('evil/miner', policy({}))).toBeNull();
  });
  it.each(['our-org/', 'ghcr.io', '*/x', 'ghcr.io/**', 'GHCR.io/x/', 'ghcr.io/x y/', 'https://ghcr.io/x/'])('%s is not a rule', (text) => {
    expect(checkImageRule(text)).toMatch(/^must (be a registry\/repository prefix such as ghcr.io\/our-org\/|name a repository)/);
  });
});

describe('channels, users, counts, list scope', () => {
  it('channels.allow and users.allow by ID; unset allows all', () => {
    const p = policy({ channels: ['C0TEAM0001'], users: ['U0ALICE001'] });
    expect(checkChannel('C0TEAM0001', p)).toBeNull();
    expect(checkChannel('C0OTHER001', p)).toMatchObject({ rule: 'channels.allow', message: expect.stringMatching(/\(policy: channels\.allow\)\.$/) });
    expect(checkChannel(undefined, p)?.rule).toBe('channels.allow');
    expect(checkUser('U0ALICE001', p)).toBeNull();
    expect(checkUser('U0BOB00001', p)).toMatchObject({ rule: 'users.allow', message: expect.stringMatching(/\(policy: users\.allow\)\.$/) });
    expect(checkChannel('C0OTHER001', policy({}))).toBeNull();
    expect(checkUser('U0BOB00001', policy({}))).toBeNull();
  });

  it('counts the caller\'s and everyone\'s systems, not those being torn down', () => {
    const p = policy({ maxPerUser: 2, maxTotal: 3 });
    const mine = [system('a', 'slack:U1'), system('b', 'slack:U1', { stage: 'terminating' })];
    expect(checkCounts('slack:U1', mine, p)).toBeNull();
    expect(checkCounts('slack:U1', [...mine, system('c', 'slack:U1')], p)).toEqual({
      rule: 'systems.maxPerUser',
      message: 'You already have 2 systems, the most one person may have here; tear one down first (policy: systems.maxPerUser).',
    });
    expect(checkCounts('slack:U2', [...mine, system('c', 'slack:U1'), system('d', 'api:x')], p)?.rule).toBe('systems.maxTotal');
    expect(checkCounts('slack:U2', [system('c', 'slack:U1'), system('d', 'api:x')], p)).toBeNull();
  });

  it('list.scope channel keeps the systems launched from the asking channel', () => {
    const systems = [system('a', 'x', { annotations: { c: 'C1' } }), system('b', 'x', { annotations: { c: 'C2' } }), system('cli', 'x')];
    const channelOf = (s: SystemInfo) => s.annotations['c'];
    expect(inScope(systems, policy({ listScope: 'channel' }), 'C1', channelOf).map((s) => s.name)).toEqual(['a']);
    expect(inScope(systems, policy({ listScope: 'channel' }), undefined, channelOf)).toHaveLength(3);
    expect(inScope(systems, policy({}), 'C1', channelOf)).toHaveLength(3);
  });
});
