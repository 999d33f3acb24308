/**
 * The Tycho server as a process: configuration from the environment, the logger, signals and exit
 * statuses. Two entry points run it: src/server/main.ts (the container image, which has no local
 * cluster) and src/local/start-server.ts (`npm start`, which starts one when none is configured).
 */
import dotenv from 'dotenv';
import { ConfigError, loadConfig } from '../config.js';
import { startTycho, type StartOptions } from './tycho.js';
import { createLogger } from '../log.js';

export async function runServer(opts: Pick<StartOptions, 'localCluster'> = {}): Promise<void> {
  dotenv.config({ quiet: true });
  let log = createLogger();
  try {
    const config = loadConfig();
    log = createLogger({ level: config.logLevel });
    const tycho = await startTycho(config, log, opts);
    const shutdown = (signal: string) => {
      log.info('shutting down', { signal });
      (signal === 'SIGTERM' ? tycho.drain() : tycho.stop()).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    log.error('Tycho could not start', { error: (e as Error).message });
    process.exit(1);
  }
}
