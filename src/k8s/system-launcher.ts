/**
 * What the commands need from a launcher: up, down, status and list of systems. The
 * in-process Launcher (launcher.ts) runs them against Kubernetes. (The CLI's remote mode
 * needs none: it asks a Tycho server to run the whole command, cli/remote.ts.)
 */
import type { LogRequest, SystemLogs } from './pod-logs.js';
import type { ExpirySettings } from './expiry.js';
import type { LaunchSpec, Stage, SystemInfo } from './spec.js';

export interface UpOptions {
  wait?: boolean;
  onProgress?: (stage: Stage, info: { describe: string }) => void;
  timeoutSeconds?: number;
  /** Ties the launch's log lines together, from the front end to the reconciler; kept on the Deployment. */
  launchId?: string;
}

export interface SystemLauncher {
  up(spec: LaunchSpec, opts?: UpOptions): Promise<SystemInfo>;
  /** `by`: the owner id of who asked ("slack:U…", "cli:alice"), recorded on the system before it is deleted. */
  down(name: string, by?: string): Promise<SystemInfo>;
  status(name: string): Promise<SystemInfo>;
  list(): Promise<SystemInfo[]>;
  /** The last lines of the system's container log (pod-logs.ts), as written: not redacted yet. */
  logs(name: string, req: LogRequest): Promise<SystemLogs>;
  /**
   * Moves the system's expiry (expiry.ts, extendedExpiry): `ttl` (else the default TTL) more,
   * capped at now + the maximum. `by`: who asked, for the log.
   */
  /** `from`: the expiry an Extend button was made for; if it has moved since, nothing is written (`already`). */
  extend(name: string, o?: { ttl?: string; by?: string; from?: string; retires?: string }): Promise<Extended>;
  /** Replaces the system's pod as `kubectl rollout restart` does; `by`: who asked, for the log. Returns the system as it was. */
  restart(name: string, by?: string): Promise<SystemInfo>;
  /**
   * The operator's expiry rules when this launcher applies them itself, so the command layer can
   * refuse a --ttl over the maximum as bad input. (The CLI's remote mode runs no command
   * locally: the server's command layer applies the server's.)
   */
  readonly expiry?: ExpirySettings;
}

export interface Extended {
  system: SystemInfo;
  /** The maximum TTL cut the extension short. */
  capped: boolean;
  /** Not extended: the expiry had moved since the button (`from`) was made. */
  already?: boolean;
}
