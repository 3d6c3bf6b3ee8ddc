/** Exit codes of every ntk-sweep command (documented in `--help` and the README). */
export const EXIT = {
  /** Success: the sweep is complete (every grid point done or diverged). */
  OK: 0,
  /** The run finished but some grid points failed after all their attempts (see `status`). */
  FAILED: 1,
  /** Bad input: invalid spec, unknown dataset, bad option or SQL. Nothing was written. */
  USAGE: 2,
  /** Storage fault: database unreadable/unwritable, disk full, not an ntk-sweep database. */
  STORAGE: 3,
  /** Interrupted by SIGINT (Ctrl-C); the database is consistent, re-run to resume. */
  SIGINT: 130,
  /** Interrupted by SIGTERM; the database is consistent, re-run to resume. */
  SIGTERM: 143,
} as const;

export const EXIT_HELP = `Exit codes: 0 complete, 1 some grid points failed, 2 bad input (nothing written), 3 storage fault, 130 SIGINT, 143 SIGTERM.`;

/** An error that ends the command with a given exit code and a one-paragraph message. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
