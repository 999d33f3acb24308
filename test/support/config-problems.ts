/** What loadConfig refuses in an environment: its problems, one sentence each (fails the test if it accepts). */
import { expect } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config.js';

export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}
