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

/**
 * The exit code of an error that ended a command, after printing it: bad spec or data 2, a
 * {@link CliError}'s own code, storage 3, anything else 70 (an internal error, with its stack).
 * Errors are told apart by name, so this module loads none of the modules that throw them.
 */
export function exitCodeOf(e: unknown): number {
  const name = e instanceof Error ? e.name : '';
  if (e instanceof CliError) {
    process.stderr.write(`error: ${e.message}\n`);
    return e.exitCode;
  }
  if (name === 'SpecError') {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return EXIT.USAGE;
  }
  if (name === 'StoreError') {
    process.stderr.write(`storage error: ${(e as Error).message}\n`);
    return EXIT.STORAGE;
  }
  if (name === 'DataError') {
    process.stderr.write(`data error: ${(e as Error).message}\n`);
    return EXIT.USAGE;
  }
  process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 70;
}

/** Whether a command has installed its own SIGINT/SIGTERM handling (see {@link installEarlySignals}). */
let handedOver = false;

/**
 * For `run --json`: until the command takes over the signals ({@link takeOverSignals}), a Ctrl-C
 * or SIGTERM (while modules load) exits at once with 130 / 143, nothing having been written,
 * and prints a JSON summary on stdout that says so. (Other commands keep the default action,
 * which also stops synchronous work.)
 */
export function installEarlySignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      if (handedOver) return;
      const code = sig === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM;
      process.stdout.write(JSON.stringify(earlySummary(sig), null, 2) + '\n');
      process.stderr.write(`\n${sig}: exiting now; nothing was written\n`);
      process.exit(code);
    });
  }
}

/** The `--json` summary of a command stopped by `signal` before it started any work. */
export function earlySummary(signal: string): Record<string, unknown> {
  return { interrupted: true, signal, started: false, executed: 0, note: 'stopped before any grid point was registered or run; nothing was written' };
}

/** A command installs its own signal handlers from here on; the early ones stand aside. */
export function takeOverSignals(): void {
  handedOver = true;
}

/**
 * A yargs usage message with each unknown option named once: yargs lists both spellings of a
 * dashed flag (`Unknown arguments: bogus-flag, bogusFlag`).
 */
export function usageMessage(msg: string): string {
  const m = /^Unknown arguments?: (.*)$/s.exec(msg);
  if (!m) return msg;
  const names = m[1].split(', ');
  const dashed = (s: string) => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
  const kept = names.filter((n) => n === dashed(n) || !names.includes(dashed(n)));
  return `Unknown argument${kept.length === 1 ? '' : 's'}: ${kept.join(', ')}`;
}
