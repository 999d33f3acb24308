/**
 * The command as Tycho records it on the Deployment (tycho.renci.org/command), for whoever
 * inspects the objects later. Anyone who can read Deployments can read it, so the values of
 * -e and --secret-env are masked (`-e KEY=***`), and words are quoted so the record reads back
 * into the same words.
 */
import { scanFlags } from './repeated-flags.js';

export const MASK = '***';

function maskPair(value: string): string {
  const eq = value.indexOf('=');
  return eq < 0 ? MASK : `${value.slice(0, eq)}=${MASK}`;
}

/** Single quotes unless the word is plainly safe; `'` itself as '\'' (what splitShellWords reads back). */
export function quoteWord(w: string): string {
  if (/^[\w@%+=:,./*-]+$/.test(w)) return w;
  return `'${w.replace(/'/g, `'\\''`)}'`;
}

/** spellings: the flags whose values are masked, as for scanFlags. */
export function recordedCommand(prefix: string, words: readonly string[], spellings: Readonly<Record<string, readonly string[]>>): string {
  const shown = [...words];
  for (const u of scanFlags(words, spellings)) {
    if (u.valueAt !== undefined) shown[u.valueAt] = maskPair(u.value);
    else if (u.value !== '') shown[u.at] = `${words[u.at]!.slice(0, words[u.at]!.indexOf('='))}=${maskPair(u.value)}`;
  }
  return `${prefix}${shown.map(quoteWord).join(' ')}`;
}

/**
 * Stray words quoted back in a refusal (`tycho -- up -e TOKEN=s3cret` leaves "-e" and
 * "TOKEN=s3cret" as words, not a flag): whatever a KEY=VALUE word holds after its `=` may be a
 * secret, and so may any word after a dash-word, so both are masked as the record masks them.
 */
export function strayWords(words: readonly string[]): string {
  return words.map((w, i) => (w.includes('=') ? maskPair(w) : i > 0 && words[i - 1]!.startsWith('-') ? MASK : w)).join(' ');
}
