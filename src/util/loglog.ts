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
