/**
 * Logging schedules: the GD steps at which a training task evaluates and reports metrics.
 * Every schedule is a strictly increasing list of integers that starts at 0 and ends at `steps`.
 */

function checkSteps(steps: number): void {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`schedule: steps must be an integer >= 0, got ${steps}`);
}

/**
 * Every `every` steps: `0, every, 2·every, …`, plus `steps` itself if it is not a multiple.
 * @throws RangeError if `steps` is not an integer ≥ 0 or `every` not an integer ≥ 1.
 */
export function linearSchedule(steps: number, every: number): number[] {
  checkSteps(steps);
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`schedule: log_every must be an integer >= 1, got ${every}`);
  const out: number[] = [];
  for (let s = 0; s < steps; s += every) out.push(s);
  out.push(steps);
  return out;
}

/**
 * About `points` log-spaced steps: `0` and `round(steps^{i/(points−2)})` for
 * `i = 0..points−2` (so `1` and `steps` are included), duplicates from rounding removed — so
 * the result can be shorter than `points` when `steps` is small. `points = 2` gives `[0, steps]`;
 * `steps = 0` gives `[0]`.
 * @throws RangeError if `steps` is not an integer ≥ 0 or `points` not an integer ≥ 2.
 */
export function logSchedule(steps: number, points: number): number[] {
  checkSteps(steps);
  if (!Number.isInteger(points) || points < 2) throw new RangeError(`schedule: log_points must be an integer >= 2, got ${points}`);
  if (steps === 0) return [0];
  const set = new Set<number>([0, steps]);
  const m = points - 2;
  for (let i = 0; i <= m && m > 0; i++) set.add(Math.min(steps, Math.max(1, Math.round(Math.pow(steps, i / m)))));
  return [...set].sort((a, b) => a - b);
}
