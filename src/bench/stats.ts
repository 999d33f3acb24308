/** Distributions as the report gives them: p50/p95/p99 (nearest rank), plus n, min, max and mean. */
export interface Dist {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending list. */
function rank(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function dist(xs: number[]): Dist {
  const s = [...xs].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    p50: round(rank(s, 50)),
    p95: round(rank(s, 95)),
    p99: round(rank(s, 99)),
    min: round(s[0] ?? NaN),
    max: round(s.at(-1) ?? NaN),
    mean: round(s.reduce((a, b) => a + b, 0) / (s.length || NaN)),
  };
}

export interface Ratio {
  p50: number;
  p95: number;
  p99: number;
}

/** Tycho's figure over the baseline's, percentile by percentile (1.0 = no worse than the baseline). */
export function ratio(tycho: Dist, baseline: Dist): Ratio {
  const r = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  return { p50: r(tycho.p50, baseline.p50), p95: r(tycho.p95, baseline.p95), p99: r(tycho.p99, baseline.p99) };
}
