/**
 * The production entry point, which the container image runs: Slack (Socket Mode or HTTP), the
 * REST API and health routes on one port, all on the one launcher. It never imports the local
 * cluster, its node simulator or the benchmark (the image is built from this file's imports
 * alone, tsconfig.image.json); with no cluster configured it stops and says so. `npm start` runs
 * src/local/start-server.ts instead.
 */
import { runServer } from './run.js';

await runServer();
