/**
 * The Node flags the image starts the server with: the flags in the Dockerfile's
 * `CMD ["node", ...flags, "dist/server/main.js"]`. The benchmark runs the server with the same
 * ones, so what it measures is what the image runs, and the Dockerfile stays the one place they
 * are written.
 */
import { readFileSync } from 'node:fs';
import { distPath } from './app-process.js';

export const SERVER_ENTRY = 'dist/server/main.js';

export function imageNodeFlags(dockerfile = readFileSync(distPath('../Dockerfile'), 'utf8')): string[] {
  const cmd = dockerfile.split('\n').find((l) => l.startsWith('CMD '));
  const argv = cmd ? (JSON.parse(cmd.slice(4)) as unknown) : undefined;
  if (!Array.isArray(argv) || argv[0] !== 'node' || argv.at(-1) !== SERVER_ENTRY) {
    throw new Error(`the Dockerfile's CMD is not ["node", ...flags, "${SERVER_ENTRY}"]: ${cmd ?? 'none'}`);
  }
  return argv.slice(1, -1) as string[];
}
