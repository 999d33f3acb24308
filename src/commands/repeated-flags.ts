/**
 * The flags people repeat (-e, --secret-env, -p), found in one pass over the words.
 *
 * yargs-parser copies a flag's whole list every time the flag repeats, so 20,000 `-e` took
 * seconds (quadratic). The parser takes these flags out here and hands yargs-parser the rest;
 * the recorded command uses the same scan to mask values. The rules are yargs-parser's for an
 * array flag that is not greedy: `-e VALUE` or `-e=VALUE`, where VALUE may not look like a flag
 * (a negative number does not), and nothing after `--` is a flag.
 */

export interface FlagUse {
  /** The flag's canonical name, e.g. "env" for -e and --env. */
  key: string;
  /** Index of the flag's word. */
  at: number;
  /** Index of the separate value word; undefined when the value was inline (`--env=A=1`) or missing. */
  valueAt?: number;
  /** '' when missing. */
  value: string;
}

const NEGATIVE_NUMBER = /^-([0-9]+(\.[0-9]+)?|\.[0-9]+)$/;
const looksLikeFlag = (w: string) => w.startsWith('-') && !NEGATIVE_NUMBER.test(w);

/** spellings: canonical name → every way to write it, e.g. { env: ['--env', '-e'] }. */
export function scanFlags(words: readonly string[], spellings: Readonly<Record<string, readonly string[]>>): FlagUse[] {
  const byWord = new Map<string, string>();
  for (const [key, forms] of Object.entries(spellings)) for (const f of forms) byWord.set(f, key);
  const uses: FlagUse[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '--') break;
    const eq = w.indexOf('=');
    const inlineKey = eq > 0 ? byWord.get(w.slice(0, eq)) : undefined;
    if (inlineKey) {
      uses.push({ key: inlineKey, at: i, value: w.slice(eq + 1) });
      continue;
    }
    const key = byWord.get(w);
    if (!key) continue;
    const next = words[i + 1];
    if (next !== undefined && !looksLikeFlag(next)) {
      uses.push({ key, at: i, valueAt: i + 1, value: next });
      i++;
    } else {
      uses.push({ key, at: i, value: '' });
    }
  }
  return uses;
}

/** Takes the flags out: their values by name (in order), and the words left for yargs-parser. */
export function takeFlags(words: readonly string[], spellings: Readonly<Record<string, readonly string[]>>): { values: Map<string, string[]>; rest: string[] } {
  const uses = scanFlags(words, spellings);
  const taken = new Set<number>();
  const values = new Map<string, string[]>();
  for (const u of uses) {
    taken.add(u.at);
    if (u.valueAt !== undefined) taken.add(u.valueAt);
    let list = values.get(u.key);
    if (!list) values.set(u.key, (list = []));
    list.push(u.value);
  }
  return { values, rest: words.filter((_, i) => !taken.has(i)) };
}
