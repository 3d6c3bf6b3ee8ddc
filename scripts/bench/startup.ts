/**
 * Start time of every command: the wall time of a whole `ntk-sweep <command>` process that does
 * almost nothing, so what is measured is Node's start, module loading and argument parsing.
 * `status` and `query "SELECT 1"` run for real on a small database (one registered debug sweep);
 * every other command prints its `--help` (its module loaded, no work done). Minimum of
 * `--reps` runs (the machine is shared, the minimum is the least disturbed).
 *
 *   npx tsc -p . && node dist/scripts/bench/startup.js [--reps 7] [--before DIR]
 *
 * `--before DIR`: the root of another build (e.g. `git archive <commit> | tar -x -C DIR`, then
 * `npx tsc -p .` there with node_modules linked), measured the same way, side by side with the
 * ratio. The reference column is `node -e 0`: the start of Node itself, the floor.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { machineLine, parseArgs, tempDir } from './common.js';

const COMMANDS = ['status', 'query', 'export', 'run', 'submit', 'worker', 'report', 'prune', 'kernel', 'slope', 'params', 'doctor'];

/** Wall time (ms) of one process. */
function timeOnce(args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.split('\n').slice(-3).join(' ')}`);
  return ms;
}

/** Minimum over `reps` runs, or NaN when the command fails (e.g. absent from an older build). */
function best(args: string[], cwd: string, reps: number): number {
  let m = Infinity;
  try {
    for (let i = 0; i < reps; i++) m = Math.min(m, timeOnce(args, cwd));
  } catch {
    return NaN;
  }
  return m;
}

/** A database with one registered debug sweep, written by the build at `root` (its own schema version). */
function smallDb(root: string, dir: string, name: string): string {
  const db = path.join(dir, `${name}.sqlite`);
  const spec = path.join(dir, 'tiny.yaml');
  writeFileSync(spec, 'name: tiny\nkind: debug\ngrid:\n  x: [1, 2, 3]\n');
  timeOnce([path.join(root, 'dist/src/cli/main.js'), 'submit', spec, '--db', db], dir);
  return db;
}

/** The arguments that start `command` of the build at `root` without doing work. */
function argsOf(root: string, command: string, db: string): string[] {
  const main = path.join(root, 'dist/src/cli/main.js');
  if (command === 'status') return [main, 'status', '--db', db];
  if (command === 'query') return [main, 'query', 'SELECT 1 AS one', '--db', db];
  return [main, command, '--help'];
}

function main(): void {
  const o = parseArgs(process.argv.slice(2), { reps: '7', before: '' });
  const reps = Number(o.reps);
  const here = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
  const { dir, cleanup } = tempDir('ntk-startup-');
  try {
    const db = smallDb(here, dir, 'now');
    const before = o.before ? path.resolve(o.before) : '';
    const dbBefore = before ? smallDb(before, dir, 'before') : '';
    console.log(machineLine());
    const floor = best(['-e', '0'], dir, reps);
    console.log(`node -e 0 (the floor): ${floor.toFixed(0)} ms; minimum of ${reps} runs per command`);
    console.log(['command', 'ntk-sweep (ms)', o.before ? 'before (ms)' : '', o.before ? 'ratio' : ''].filter(Boolean).join('\t'));
    for (const c of COMMANDS) {
      const now = best(argsOf(here, c, db), dir, reps);
      const cols = [c.padEnd(8), now.toFixed(0)];
      if (before) {
        const then = best(argsOf(before, c, dbBefore), dir, reps);
        cols.push(Number.isNaN(then) ? '—' : then.toFixed(0), Number.isNaN(then) ? '—' : (now / then).toFixed(2));
      }
      console.log(cols.join('\t'));
    }
  } finally {
    cleanup();
  }
}

main();
