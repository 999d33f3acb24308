/**
 * `npm start`: the Tycho server (src/server/run.ts), which starts the built-in local control
 * plane and says so when no cluster is configured. The container image runs src/server/main.ts,
 * which never loads this directory.
 */
import { runServer } from '../server/run.js';
import { ensureLocalCluster } from './embedded.js';

await runServer({ localCluster: ensureLocalCluster });
