/** The CLI's exit status for each kind of failure, so scripts can branch on them. */
import type { TychoErrorCode } from '../k8s/errors.js';

export const EXIT_CODES: Record<TychoErrorCode, number> = {
  internal: 1,
  usage: 2,
  claim_unavailable: 2,
  not_found: 3,
  // Already being torn down (or marked to expire): nothing to do, and not a failure.
  already_terminating: 11,
  torn_down: 9,
  name_in_use: 4,
  forbidden: 5,
  unauthorized: 5,
  not_owner: 5,
  // Refused by the namespace's quota or limits: a refusal, like forbidden.
  quota_exceeded: 5,
  // Refused by the operator's policy (src/policy): a refusal, like not_owner.
  policy: 5,
  image_pull_failed: 6,
  crash_looping: 6,
  container_config: 6,
  unschedulable: 6,
  invalid_spec: 6,
  timeout: 7,
  cluster_unreachable: 8,
  // Failed, and part of it is still in the cluster: a script must tear it down.
  rollback_incomplete: 10,
};
