/**
 * Kubernetes quantities ("500m", "0.3", "512Mi", "1e3" is not one of ours) read as exact
 * fractions of BigInts. Bounds are compared exactly: no floating point, and no int64 that
 * silently turns "99999999999999999999Ei" into 9223372036854775807 bytes, as the API server does.
 */

/** value = num / den, in the base unit (cores for cpu, bytes for memory). den > 0. */
export interface Quantity {
  num: bigint;
  den: bigint;
}

/** The grammar each kind accepts: a plain decimal and one optional suffix. */
export const CPU_QUANTITY_RE = /^(\d+(?:\.\d+)?|\.\d+)(m)?$/;
export const MEMORY_QUANTITY_RE = /^(\d+(?:\.\d+)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

const BINARY_POWER: Record<string, bigint> = { Ki: 1n, Mi: 2n, Gi: 3n, Ti: 4n, Pi: 5n, Ei: 6n };
const DECIMAL_POWER: Record<string, bigint> = { k: 1n, M: 2n, G: 3n, T: 4n, P: 5n, E: 6n };

/** Kubernetes keeps every quantity's base value (bytes, or millicores for cpu) in an int64. */
export const INT64_MAX = 2n ** 63n - 1n;

function parse(text: string, re: RegExp): Quantity | undefined {
  const m = re.exec(text);
  if (!m) return undefined;
  const [whole = '', fraction = ''] = m[1]!.split('.');
  let num = BigInt(`${whole}${fraction}` || '0');
  let den = 10n ** BigInt(fraction.length);
  const suffix = m[2];
  if (suffix === 'm') den *= 1000n;
  else if (suffix && suffix in BINARY_POWER) num *= 1024n ** BINARY_POWER[suffix]!;
  else if (suffix && suffix in DECIMAL_POWER) num *= 1000n ** DECIMAL_POWER[suffix]!;
  return { num, den };
}

/** Cores: "2", "0.3", "500m". */
export function parseCpu(text: string): Quantity | undefined {
  return parse(text, CPU_QUANTITY_RE);
}

/** Bytes: "512Mi", "1G", "1024". */
export function parseMemory(text: string): Quantity | undefined {
  return parse(text, MEMORY_QUANTITY_RE);
}

/** -1, 0 or 1 as a is below, equal to or above b. */
export function compareQuantity(a: Quantity, b: Quantity): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function isZero(q: Quantity): boolean {
  return q.num === 0n;
}

/** A whole number of base units (scaled by `unitsPerBase`, e.g. 1000 millicores per core) as a Quantity. */
export function quantityOf(units: bigint, unitsPerBase = 1n): Quantity {
  return { num: units, den: unitsPerBase };
}
