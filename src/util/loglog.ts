/**
 * Ordinary least-squares fit of log(y) = a + slope · log(x).
 * @param x positive abscissae, @param y positive ordinates (same length ≥ 2).
 * @returns slope, intercept and the coefficient of determination r² of the log-log fit.
 * @throws RangeError if fewer than two distinct x or any non-positive value.
 */
export function fitLogLogSlope(x: number[], y: number[]): { slope: number; intercept: number; r2: number } {
  if (x.length !== y.length || x.length < 2) throw new RangeError('fitLogLogSlope: need at least two (x, y) pairs');
  if (x.some((v) => !(v > 0)) || y.some((v) => !(v > 0))) throw new RangeError('fitLogLogSlope: x and y must be positive');
  const lx = x.map(Math.log);
  const ly = y.map(Math.log);
  const n = lx.length;
  const mx = lx.reduce((a, b) => a + b, 0) / n;
  const my = ly.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (lx[i] - mx) ** 2;
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) ** 2;
  }
  if (sxx === 0) throw new RangeError('fitLogLogSlope: need at least two distinct x');
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** One observation of a log-log fit: a replicate's (`seed`) value `y` at abscissa `x`. */
export interface SlopePoint {
  /** Replicate identity (e.g. the seed as a string); one fit per distinct value. */
  seed: string;
  x: number;
  y: number;
}

/** A series' log-log slope: per-replicate fits summarised over replicates, plus the pooled fit. */
export interface SlopeOverSeeds {
  /** Replicates with at least two distinct x (those fitted). */
  seeds: number;
  /** Mean, sample standard deviation (NaN for one replicate), min and max of the per-replicate slopes; NaN when none could be fitted. */
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** Least-squares fit of every point at once (null with fewer than two distinct x). */
  pooled: { slope: number; intercept: number; r2: number } | null;
  /** Points used, and the range of their x. */
  points: number;
  xMin: number;
  xMax: number;
  /** Mean of log x and of log y over the points: the fitted line of slope `mean` passes through it. */
  logCentroid: { x: number; y: number };
}

/** Mean, sample standard deviation (NaN for fewer than 2), min and max of `v` (non-empty). */
function spread(v: number[]): { mean: number; sd: number; min: number; max: number } {
  const mean = v.reduce((p, q) => p + q, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((p, q) => p + (q - mean) ** 2, 0) / (v.length - 1)) : NaN;
  return { mean, sd, min: Math.min(...v), max: Math.max(...v) };
}

/**
 * The slope of log(y) against log(x) for one series, fitted per replicate by {@link fitLogLogSlope}
 * and summarised over replicates (mean ± sample sd, min, max), plus the pooled fit. This is what
 * `ntk-sweep slope` prints per group and what `report --fit` draws beside each line, so both
 * always agree.
 * @param points positive x and y (callers drop the others), at least one.
 * @throws RangeError if `points` is empty or holds a non-positive value.
 */
export function fitSlopeOverSeeds(points: SlopePoint[]): SlopeOverSeeds {
  if (points.length === 0) throw new RangeError('fitSlopeOverSeeds: no points');
  const seeds = new Map<string, { x: number[]; y: number[] }>();
  for (const p of points) {
    const e = seeds.get(p.seed) ?? { x: [], y: [] };
    e.x.push(p.x);
    e.y.push(p.y);
    seeds.set(p.seed, e);
  }
  const per = [...seeds.values()].filter((e) => new Set(e.x).size >= 2).map((e) => fitLogLogSlope(e.x, e.y).slope);
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const pooled = new Set(xs).size >= 2 ? fitLogLogSlope(xs, ys) : null;
  const sp = per.length ? spread(per) : { mean: NaN, sd: NaN, min: NaN, max: NaN };
  const logMean = (v: number[]): number => v.reduce((p, q) => p + Math.log(q), 0) / v.length;
  return { seeds: per.length, ...sp, pooled, points: points.length, xMin: Math.min(...xs), xMax: Math.max(...xs), logCentroid: { x: logMean(xs), y: logMean(ys) } };
}

/**
 * A slope as `report --fit` prints it beside its line: the mean over replicates and its sample
 * sd, two decimals, with a true minus sign (`−0.48 ± 0.02`); the sd is left out for a single
 * replicate, and `no fit` when nothing could be fitted.
 */
export function slopeLabel(s: Pick<SlopeOverSeeds, 'mean' | 'sd'>): string {
  if (!Number.isFinite(s.mean)) return 'no fit';
  const fixed = (v: number): string => {
    const t = v.toFixed(2);
    return t === '-0.00' ? '0.00' : t.replace('-', '−');
  };
  const m = fixed(s.mean);
  const mean = s.mean > 0 && m !== '0.00' ? `+${m}` : m;
  return Number.isFinite(s.sd) ? `${mean} ± ${fixed(s.sd)}` : mean;
}
