/**
 * fast-check's options for Tycho's fuzz tests: a seed and path from the environment replay a
 * failure (fast-check prints both in the message jest shows), and the number of runs can be
 * raised for a longer hunt.
 */
import type { Parameters } from 'fast-check';

export function fuzzOptions(defaultRuns = 1000): Parameters<unknown> {
  const seed = process.env.TYCHO_FUZZ_SEED;
  const path = process.env.TYCHO_FUZZ_PATH;
  const runs = process.env.TYCHO_FUZZ_RUNS;
  return {
    numRuns: runs ? Number(runs) : defaultRuns,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(seed && path ? { path } : {}),
    // The full counterexample and seed in the thrown error, which is jest's failure message.
    verbose: 0,
  };
}
