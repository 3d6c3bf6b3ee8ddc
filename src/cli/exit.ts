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
  /** `merge` found grid points finished with other values in the target (reported, not overwritten). */
  CONFLICTS: 4,
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

/** The text given on the command line for `flag` (last occurrence; `--flag v` or `--flag=v`). */
function rawArgument(flag: string): string | undefined {
  const argv = process.argv.slice(2);
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag && i + 1 < argv.length) raw = argv[i + 1];
    else if (argv[i].startsWith(flag + '=')) raw = argv[i].slice(flag.length + 1);
  }
  return raw;
}

/**
 * A usage error for an option value: `--threads: expected a positive integer, got abc`. Shows
 * what was typed, not yargs' parsed number (which is NaN for `abc`).
 */
export function badOption(flag: string, expected: string, parsed: unknown): CliError {
  return new CliError(`${flag}: expected ${expected}, got ${rawArgument(flag) ?? String(parsed)}`, EXIT.USAGE);
}
