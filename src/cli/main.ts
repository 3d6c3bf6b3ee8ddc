#!/usr/bin/env node
/**
 * ntk-sweep command line (yargs). Every command takes `--db` (a file, or a postgres:// URL; default $NTK_SWEEP_DB, else db/ntk-sweep.sqlite).
 * Exit codes are in ./exit.ts.
 */
import { readFileSync } from 'node:fs';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { SpecError } from '../spec/errors.js';
import { StoreError } from '../store/errors.js';
import { defaultDb } from '../store/open.js';
import { registerDoctor } from './commands/doctor.js';
import { registerKernel } from './commands/kernel.js';
import { registerMerge } from './commands/merge.js';
import { registerParams } from './commands/params.js';
import { registerExport, registerQuery, registerStatus } from './commands/read.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSlope } from './commands/slope.js';
import { registerSlurm } from './commands/slurm.js';
import { registerSubmit } from './commands/submit.js';
import { registerWorker } from './commands/worker.js';
import { CliError, EXIT, EXIT_HELP } from './exit.js';

/** The version in our package.json (dist/src/cli/main.js → ../../../package.json). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function report(e: unknown): number {
  if (e instanceof SpecError) {
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.USAGE;
  }
  if (e instanceof CliError) {
    process.stderr.write(`error: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof StoreError) {
    process.stderr.write(`storage error: ${e.message}\n`);
    return EXIT.STORAGE;
  }
  if (e instanceof Error && e.name === 'DataError') {
    process.stderr.write(`data error: ${e.message}\n`);
    return EXIT.USAGE;
  }
  process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return 70;
}

async function main(): Promise<void> {
  // `ntk-sweep export | head`: the reader went away; that is not an error
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  let cli: Argv = yargs(hideBin(process.argv))
    .scriptName('ntk-sweep')
    .version(packageVersion())
    .usage(
      '$0 <command> [options]\n\nExhaustive width × depth × dataset-size sweeps for Neural Tangent Kernel research: ' +
        'closed-form infinite-width kernels (kind: kernel) and finite-width training (kind: train), on every core, into SQLite or PostgreSQL (one sweep over many machines).',
    )
    .option('db', { type: 'string', default: defaultDb(), describe: 'SQLite database file, or a postgres:// URL (default: $NTK_SWEEP_DB, else db/ntk-sweep.sqlite)', global: true })
    .strict()
    .demandCommand(1, 'name a command: run, submit, worker, slurm, merge, status, query, export, report, kernel, slope, params, doctor')
    .recommendCommands()
    .epilog(EXIT_HELP + '\nDocs: README.md; spec fields: `ntk-sweep params`.')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`error: ${msg}\nrun with --help for usage\n`);
      process.exit(EXIT.USAGE);
    });
  for (const reg of [registerRun, registerSubmit, registerWorker, registerStatus, registerQuery, registerExport, registerReport, registerMerge, registerSlurm, registerKernel, registerSlope, registerParams, registerDoctor]) cli = reg(cli);
  try {
    await cli.parseAsync();
  } catch (e) {
    process.exitCode = report(e);
  }
}

await main();
