/** Placeholder: the Slack front end (issue 3) starts here. */
import type express from 'express';
import type { Backend } from '../k8s/backend.js';
import type { SlackConfig } from '../config.js';
import type { Logger } from '../server/log.js';

export interface BotDeps {
  slack: Exclude<SlackConfig, { mode: 'off' }>;
  backend: Backend;
  /** Slack channel ID told about every launch, failure and teardown. */
  notifyChannel?: string;
  /** Slack user IDs that may tear down anyone's system. */
  admins: string[];
  log: Logger;
  /** The shared HTTP app; in HTTP mode Slack posts to POST /slack/events on it. */
  http: express.Express;
}

export interface RunningBot {
  stop(): Promise<void>;
}

export async function startBot(_deps: BotDeps): Promise<RunningBot> {
  return { stop: async () => {} };
}
