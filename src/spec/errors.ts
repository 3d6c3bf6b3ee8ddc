/** A spec that cannot run. `problems` are lines like `grid.depth[2]: expected a positive integer, got -1`. */
export class SpecError extends Error {
  constructor(
    readonly problems: string[],
    readonly file?: string,
  ) {
    super(`${file ? file + ': ' : ''}invalid sweep spec\n  ${problems.join('\n  ')}`);
    this.name = 'SpecError';
  }
}

/** Short rendering of an offending value for error messages. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
}
