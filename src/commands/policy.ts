/**
 * What a person may ask for in a launch, as the operator configured it: which service types
 * they may pick and how much cpu, memory and GPU one system may have. Every front end applies
 * this one check (runCommand does; Slack also before its ack), so a refusal reads the same
 * everywhere and nothing is created.
 */
import { UsageError } from '../k8s/errors.js';
import { compareQuantity, parseCpu, parseMemory } from '../k8s/quantity.js';
import type { ExposeMode } from '../k8s/spec.js';
import type { LaunchRequest } from './up.js';
import { usageLine } from './usage.js';

export interface LaunchPolicy {
  /** What --expose (or --service-type) may choose. The configured default is always among them. */
  exposeModes: readonly ExposeMode[];
  /** Per system, as Kubernetes quantities (validated when the configuration is read). */
  maxCpu: string;
  maxMemory: string;
  maxGpu: number;
  /**
   * Where each limit was set, when it was the policy file (limits.maxCpu, …): refusals then name
   * that key instead of the environment variable.
   */
  fromFile?: Partial<Record<LimitKey, true>>;
}

export type LimitKey = 'exposeModes' | 'maxCpu' | 'maxMemory' | 'maxGpu';

export const DEFAULT_LIMITS = { maxCpu: '4', maxMemory: '16Gi', maxGpu: 1 } as const;

/** The environment variables behind each rule, named in every refusal so a person knows whom to ask for what. */
export const POLICY_SETTINGS = {
  exposeModes: 'TYCHO_USER_EXPOSE_MODES',
  /** The older spelling of exposeModes, in Service types. */
  serviceTypes: 'TYCHO_USER_SERVICE_TYPES',
  maxCpu: 'TYCHO_MAX_CPU',
  maxMemory: 'TYCHO_MAX_MEMORY',
  maxGpu: 'TYCHO_MAX_GPU',
} as const;

/**
 * The policy that applies to one request, or null when none does: an admin's request, or the
 * CLI in remote mode (where the server applies its own).
 */
export type PolicyFor = LaunchPolicy | null;

const orList = (xs: readonly string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);

/** How a refusal names the setting: the policy file's key when it was set there, else the environment variable. */
function setting(policy: LaunchPolicy, key: LimitKey): string {
  return policy.fromFile?.[key] ? `policy: limits.${key}` : `the operator's setting ${POLICY_SETTINGS[key]}`;
}

const over = (what: string, limit: string, named: string) => `${what} is more than the ${limit} a system may have here (${named}); ask for less, or ask an admin.`;

/** The first limit the launch breaks: the rule's key (limits.maxCpu) and one sentence; null when none. Quantities are compared exactly. */
export function launchPolicyRefusal(args: LaunchRequest, policy: PolicyFor): { rule: `limits.${LimitKey}`; message: string } | null {
  if (!policy) return null;
  if (args.expose && !policy.exposeModes.includes(args.expose)) {
    return { rule: 'limits.exposeModes', message: `Exposing a system as ${args.expose} is not allowed here: people may choose only ${orList(policy.exposeModes)} (${setting(policy, 'exposeModes')}); ask an admin.` };
  }
  const cpu = args.cpu === undefined ? undefined : parseCpu(args.cpu);
  if (cpu && compareQuantity(cpu, parseCpu(policy.maxCpu)!) > 0) return { rule: 'limits.maxCpu', message: over(`The cpu amount "${args.cpu}"`, `${policy.maxCpu} cpu`, setting(policy, 'maxCpu')) };
  const memory = args.memory === undefined ? undefined : parseMemory(args.memory);
  if (memory && compareQuantity(memory, parseMemory(policy.maxMemory)!) > 0) return { rule: 'limits.maxMemory', message: over(`The memory amount "${args.memory}"`, policy.maxMemory, setting(policy, 'maxMemory')) };
  if (args.gpu !== undefined && args.gpu > policy.maxGpu) {
    const message =
      policy.maxGpu === 0
        ? `GPUs are not available to launches here (${setting(policy, 'maxGpu')} is 0); ask an admin.`
        : over(`The GPU count ${args.gpu}`, `${policy.maxGpu} GPU${policy.maxGpu === 1 ? '' : 's'}`, setting(policy, 'maxGpu'));
    return { rule: 'limits.maxGpu', message };
  }
  return null;
}

/** Returns the first rule the launch breaks, as one sentence, or null. */
export function checkLaunchPolicy(args: LaunchRequest, policy: PolicyFor): string | null {
  return launchPolicyRefusal(args, policy)?.message ?? null;
}

/** checkLaunchPolicy for front ends: a refusal is bad input, with the `up` usage line. */
export function enforceLaunchPolicy(args: LaunchRequest, policy: PolicyFor, prefix: string): void {
  const why = checkLaunchPolicy(args, policy);
  if (why) throw new UsageError(why, usageLine('up', prefix));
}
