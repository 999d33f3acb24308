/**
 * The command parser under generated input, through both front ends (Slack's one string, the
 * CLI's argv): shell metacharacters, unicode, very long words, `--` tricks, repeated flags. Each
 * input gives a typed command or a UsageError whose message is one sentence (and whose usage
 * line is there); nothing else is ever thrown.
 *
 * A failure names fast-check's seed and path, which replay it exactly:
 *   TYCHO_FUZZ_SEED=<seed> TYCHO_FUZZ_PATH=<path> npx jest test/unit/parser-fuzz.test.ts
 * TYCHO_FUZZ_RUNS sets how many inputs each property tries (default 1000).
 */
import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { parseCommand } from '../../src/commands/parser.js';
import { UsageError } from '../../src/k8s/errors.js';
import { fuzzOptions } from '../support/fuzz.js';

const VERBS = ['up', 'down', 'status', 'list', 'help', 'ls', 'rm', 'start', 'stop', 'extend', 'UP', '--up', '--down', '--status', '--list'];
const FLAGS = ['-n', '--name', '-c', '--container', '-p', '--port', '-e', '--env', '--secret-env', '--cpu', '--memory', '--gpu', '--volume', '--expose', '--ttl', '--json', '--namespace', '-s', '--server', '--no-wait', '--timeout', '-h', '--help', '--', '-', '---', '--name=', '-n=', '--port=80', '--env=A=1', '--no-name', '--__proto__', '--constructor'];
const VALUES = ['web', 'nginx', 'nginx:1.25', '80', '0', '-1', '65536', '1e3', 'A=1', 'A==', '=', 'ghcr.io/x/y@sha256:abc', '500m', '1Gi', 'true', 'null', '__proto__', 'toString'];
const NASTY = ['$(rm -rf /)', '`id`', '; ls', '&& echo', '| cat', '>', '<', "'", '"', '\\', '\\"', '"unclosed', "'also", '*', '?', '~', '#', '\n', '\t', '\u0000', '\u202e', '名前', 'ñame', '👍', 'web\u200b', '%00', '{}', '[]', '<@U123>', '<!channel>'];

const word = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...VERBS, ...FLAGS, ...VALUES) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...FLAGS), fc.constantFrom(...VALUES, ...NASTY)).map(([f, v]) => `${f}=${v}`) },
  // Very long words: a name, an image, a value of thousands of characters.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('a', 'x-', '9', '$', 'é'), fc.integer({ min: 64, max: 20_000 })).map(([s, n]) => s.repeat(Math.ceil(n / s.length))) },
);
const words = fc.array(word, { maxLength: 14 });
/** How a sentence of Tycho's looks: one line, ending in a period or question mark, no stack. */
function checkRefusal(e: unknown): void {
  if (!(e instanceof UsageError)) throw new Error(`not a UsageError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  expect(e.message.length).toBeGreaterThan(0);
  expect(e.message).not.toMatch(/\n|\s+at\s+\S+\s+\(/);
  expect(e.message).toMatch(/[.?]$|\)$/);
  // Quoting a person's 20,000 characters back is no clear sentence.
  expect(e.message.length).toBeLessThanOrEqual(600);
}

function parsesOrRefuses(run: () => unknown): boolean {
  try {
    const p = run() as { command: { kind: string }; recorded: string };
    expect(typeof p.command.kind).toBe('string');
    expect(typeof p.recorded).toBe('string');
  } catch (e) {
    checkRefusal(e);
  }
  return true;
}

test('Slack: any text gives a command or one sentence of usage', () => {
  fc.assert(
    fc.property(
      fc.oneof(words.map((w) => w.join(' ')), fc.string({ unit: 'binary', maxLength: 200 })),
      (text) => parsesOrRefuses(() => parseCommand(text, { frontEnd: 'slack', prefix: '/tycho ' })),
    ),
    fuzzOptions(),
  );
});

test('CLI: any argv gives a command or one sentence of usage', () => {
  fc.assert(
    fc.property(words, (argv) => parsesOrRefuses(() => parseCommand(argv, { frontEnd: 'cli', prefix: 'tycho ' }))),
    fuzzOptions(),
  );
});

test('a secret env value never appears in what is recorded', () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9+/]{12,40}$/).map((s) => `S3CR3T${s}`);
  fc.assert(
    fc.property(words, secret, fc.constantFrom('-e', '--env', '--secret-env'), fc.nat(), (ws, value, flag, at) => {
      const argv = [...ws];
      argv.splice(at % (argv.length + 1), 0, flag, `TOKEN=${value}`);
      for (const parse of [() => parseCommand(argv, { frontEnd: 'cli', prefix: 'tycho ' }), () => parseCommand(argv.join(' '), { frontEnd: 'slack', prefix: '/tycho ' })]) {
        try {
          const p = parse();
          // What an `up` records goes on its Deployment, for anyone who can read Deployments.
          if (p.command.kind === 'up') expect(p.recorded).not.toContain(value);
        } catch (e) {
          checkRefusal(e);
          expect((e as Error).message).not.toContain(value);
        }
      }
    }),
    fuzzOptions(),
  );
});
