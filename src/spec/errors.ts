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
