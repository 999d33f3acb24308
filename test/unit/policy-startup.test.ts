/**
 * The server does not start on a bad policy file: the process (`node dist/server/main.js`, what
 * the image runs) exits 2 before it touches any cluster, and its one message names the file's
 * key and the expected form. Needs `npm run build`, which `npm test` does first.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = new URL('../../dist/server/main.js', import.meta.url).pathname;

test('a bad policy file stops the server at start, naming the key and the expected form', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tycho-policy-start-'));
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, 'images:\n  allow:\n    - ghcr.io/our-org/\n    - docker.io/library/nginx\n    - our-org\nsystems: { maxPerUser: -1 }\n');
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [MAIN], { cwd: dir, env: { PATH: process.env.PATH!, TYCHO_POLICY_FILE: file, TYCHO_LOCAL_CLUSTER: 'never', KUBECONFIG: join(dir, 'none') } }, (e, stdout, stderr) =>
      resolve({ code: e ? Number((e as { code?: number }).code) : 0, stdout, stderr }),
    ),
  );
  expect(run.code).toBe(2);
  expect(run.stderr).toBe(
    "Tycho's configuration has 2 problems:\n" +
      '  - policy.yaml: images.allow[2] must be a registry/repository prefix such as ghcr.io/our-org/, or a pattern such as docker.io/jupyter/*-notebook.\n' +
      '  - policy.yaml: systems.maxPerUser must be the most systems one person may have, a whole number from 1 to 1000.\n',
  );
  expect(run.stdout).toBe('');
});
