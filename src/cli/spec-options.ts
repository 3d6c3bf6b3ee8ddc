/**
 * Command-line options of the commands that read a spec (`run`, `submit`, `slurm`), declared
 * without loading the spec machinery: a command's `--help` does not validate any spec.
 */
import { DEFAULT_MAX_POINTS } from '../spec/limits.js';

/** `--max-points`: the largest grid accepted (product of the grid list lengths). */
export const MAX_POINTS_OPTION = {
  type: 'number',
  default: DEFAULT_MAX_POINTS,
  describe: 'Largest grid (product of the grid list lengths) accepted; a bigger one is refused before anything is written (exit 2)',
} as const;
