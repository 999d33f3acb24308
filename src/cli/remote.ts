/** Placeholder replaced by the REST client (issue 4). */
import type { Backend } from '../k8s/backend.js';
import { ClusterUnreachable } from '../k8s/errors.js';
import type { LaunchSpec, SystemInfo } from '../k8s/spec.js';

export class RemoteBackend implements Backend {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}
  up(_spec: LaunchSpec): Promise<SystemInfo> {
    return Promise.reject(new ClusterUnreachable('Remote mode is not available yet.'));
  }
  down(): Promise<SystemInfo> {
    return Promise.reject(new ClusterUnreachable('Remote mode is not available yet.'));
  }
  status(): Promise<SystemInfo> {
    return Promise.reject(new ClusterUnreachable('Remote mode is not available yet.'));
  }
  list(): Promise<SystemInfo[]> {
    return Promise.reject(new ClusterUnreachable('Remote mode is not available yet.'));
  }
}
