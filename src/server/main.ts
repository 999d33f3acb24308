/**
 * `npm start`: the Tycho server. Slack (Socket Mode or HTTP), the REST API and health routes
 * on one port, all on the one launcher. With no cluster configured it starts the built-in
 * local control plane and says so.
 */
import dotenv from 'dotenv';
import { ConfigError, loadConfig } from '../config.js';
import { startTycho } from './tycho.js';
import { createLogger } from './log.js';

dotenv.config({ quiet: true });
let log = createLogger();

try {
  const config = loadConfig();
  log = createLogger({ level: config.logLevel });
  const tycho = await startTycho(config, log);
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
