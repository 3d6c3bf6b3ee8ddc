/**
 * Limits on a spec's size, in a module of their own so that the command line can declare its
 * options (e.g. `--max-points` and its default) without loading the spec machinery.
 */

/** Default grid limit: grid points a spec may have unless the limit is raised (`--max-points`). */
export const DEFAULT_MAX_POINTS = 1_000_000;
