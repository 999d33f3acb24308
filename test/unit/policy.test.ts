/** The operator's launch policy: what a person who is not an admin may ask for, compared exactly. */
import { checkLaunchPolicy, enforceLaunchPolicy, type LaunchPolicy } from '../../src/commands/policy.js';
import type { LaunchRequest } from '../../src/commands/up.js';
import { UsageError } from '../../src/k8s/errors.js';

const policy: LaunchPolicy = { exposeModes: ['nodeport'], maxCpu: '4', maxMemory: '16Gi', maxGpu: 1 };
const up = (extra: Partial<LaunchRequest> = {}): LaunchRequest => ({ name: 'web', image: 'nginx', ports: [80], env: [], ...extra });

describe('the launch policy', () => {
  it.each([
    [{ cpu: '4' }],
    [{ cpu: '4000m' }],
    [{ cpu: '3.999' }],
    [{ memory: '16Gi' }],
    [{ memory: '17179869184' }],
    [{ memory: '16384Mi' }],
    [{ memory: '17G' }], // 17,000,000,000 bytes is less than 16Gi (17,179,869,184)
    [{ gpu: 1 }],
    [{ expose: 'nodeport' as const }],
  ])('allows what is within the limits: %j', (extra) => {
    expect(checkLaunchPolicy(up(extra), policy)).toBeNull();
  });

  it.each([
    [{ cpu: '60' }, /^The cpu amount "60" is more than the 4 cpu a system may have here \(the operator's setting TYCHO_MAX_CPU\)/],
    [{ cpu: '4001m' }, /TYCHO_MAX_CPU/],
    [{ cpu: '4.0000000000000000001' }, /TYCHO_MAX_CPU/],
    [{ memory: '200Gi' }, /^The memory amount "200Gi" is more than the 16Gi a system may have here \(the operator's setting TYCHO_MAX_MEMORY\)/],
    [{ memory: '17179869185' }, /TYCHO_MAX_MEMORY/],
    [{ memory: '18G' }, /TYCHO_MAX_MEMORY/],
    [{ memory: '99999999999999999999Ei' }, /TYCHO_MAX_MEMORY/],
    [{ gpu: 2 }, /^The GPU count 2 is more than the 1 GPU a system may have here \(the operator's setting TYCHO_MAX_GPU\)/],
    [{ expose: 'loadbalancer' as const }, /^Exposing a system as loadbalancer is not allowed here: people may choose only nodeport \(the operator's setting TYCHO_USER_EXPOSE_MODES\)/],
  ])('refuses what is beyond them, in one sentence naming the rule and the setting: %j', (extra, why) => {
    const refusal = checkLaunchPolicy(up(extra), policy);
    expect(refusal).toMatch(why);
    expect(refusal!.split(/(?<=[.;])\s/).length).toBeLessThanOrEqual(2);
  });

  it('says GPUs are not available at all when the maximum is 0', () => {
    expect(checkLaunchPolicy(up({ gpu: 1 }), { ...policy, maxGpu: 0 })).toMatch(/GPUs are not available to launches here \(the operator's setting TYCHO_MAX_GPU is 0\)/);
  });

  it('applies nothing to an admin (no policy)', () => {
    expect(checkLaunchPolicy(up({ cpu: '60', memory: '200Gi', gpu: 4, expose: 'loadbalancer' }), null)).toBeNull();
  });

  it('refuses as bad input, with the up usage line of the front end', () => {
    let e: unknown;
    try {
      enforceLaunchPolicy(up({ cpu: '60' }), policy, '/tycho ');
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(UsageError);
    expect((e as UsageError).usage).toMatch(/^Usage: \/tycho up -n NAME/);
  });
});
