#!/usr/bin/env node
/**
 * ntk-sweep command line (yargs). Every command takes `--db` (a file, or a postgres:// URL; default $NTK_SWEEP_DB, else db/ntk-sweep.sqlite).
 * Exit codes are in ./exit.ts.
 *
 * Startup: a command's module is loaded only when that command is named, so `status` does not
 * pay for `run`. `--help` without a command, or an unknown command, loads them all to list them;
 * that stays cheap because a command module declares its options with light imports only and
 * loads what it works with (the store drivers, the spec validator, the worker pool, Vega) in its
 * handler. `--version` alone is answered before yargs is loaded.
 */
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { EXIT, EXIT_HELP, exitCodeOf, installEarlySignals, usageMessage } from './exit.js';

/** Registers one command (its name, options and handler) on the parser. */
type Register = (y: Argv) => Argv;

/** Every command and where its module is: adding a command is one line here. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./commands/run.js')).registerRun,
  submit: async () => (await import('./commands/submit.js')).registerSubmit,
  worker: async () => (await import('./commands/worker.js')).registerWorker,
  status: async () => (await import('./commands/status.js')).registerStatus,
  query: async () => (await import('./commands/read.js')).registerQuery,
  export: async () => (await import('./commands/read.js')).registerExport,
  report: async () => (await import('./commands/report.js')).registerReport,
  prune: async () => (await import('./commands/prune.js')).registerPrune,
  merge: async () => (await import('./commands/merge.js')).registerMerge,
  slurm: async () => (await import('./commands/slurm.js')).registerSlurm,
  kernel: async () => (await import('./commands/kernel.js')).registerKernel,
  slope: async () => (await import('./commands/slope.js')).registerSlope,
  params: async () => (await import('./commands/params.js')).registerParams,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
};

/** The version in our package.json (dist/src/cli/main.js → ../../../package.json). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The command named on the command line (its first word that is not an option), if it is one of ours. */
function commandOf(argv: string[]): string | undefined {
  const first = argv.find((w) => !w.startsWith('-'));
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? first : undefined;
}

async function main(): Promise<void> {
  // `ntk-sweep export | head`: the reader went away; that is not an error
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const args = process.argv.slice(2);
  if (args.length === 1 && args[0] === '--version') {
    process.stdout.write(packageVersion() + '\n');
    return;
  }
  // before anything heavy loads: a Ctrl-C of `run --json` from now on still prints its summary
  if (commandOf(args) === 'run' && args.includes('--json')) installEarlySignals();
  const [{ default: yargs }, { defaultDb }] = await Promise.all([import('yargs'), import('../store/open.js')]);
  const named = commandOf(args);
  let cli: Argv = yargs(args)
    .scriptName('ntk-sweep')
    .version(packageVersion())
    .usage(
      '$0 <command> [options]\n\nExhaustive width × depth × dataset-size sweeps for Neural Tangent Kernel research: ' +
        'closed-form infinite-width kernels (kind: kernel) and finite-width training (kind: train), on every core, into SQLite or PostgreSQL (one sweep over many machines).',
    )
    .option('db', { type: 'string', default: defaultDb(), describe: 'SQLite database file, or a postgres:// URL (default: $NTK_SWEEP_DB, else db/ntk-sweep.sqlite)', global: true })
    .strict()
    .demandCommand(1, `name a command: ${Object.keys(COMMANDS).join(', ')}`)
    .recommendCommands()
    .epilog(EXIT_HELP + '\nDocs: README.md; spec fields: `ntk-sweep params`.')
    // yargs renders the help text after every command starts (to show it on a failure, which this
    // CLI never does): without --help, unwrapped text renders several times faster
    .wrap(wantsHelp(args) ? Math.min(110, process.stdout.columns || 100) : null)
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`error: ${usageMessage(msg)}\nrun with --help for usage\n`);
      process.exit(EXIT.USAGE);
    });
  for (const name of named ? [named] : Object.keys(COMMANDS)) cli = (await COMMANDS[name]())(cli);
  try {
    await cli.parseAsync();
  } catch (e) {
    process.exitCode = exitCodeOf(e);
  }
}

/** Whether `args` ask for help text (`--help`, `-h`, or `help` as the command). */
function wantsHelp(args: string[]): boolean {
  return args.some((a) => a === '--help' || a === '-h') || args[0] === 'help';
}

await main();
