import { TychoError } from '../../src/k8s/errors.js';

/** Awaits a call that must fail with one of Tycho's coded errors, and returns that error. */
export async function failureOf(p: Promise<unknown>): Promise<TychoError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TychoError);
    return e as TychoError;
  }
  throw new Error('expected the call to fail');
}
