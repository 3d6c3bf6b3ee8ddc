/**
 * Run every benchmark of the README's performance table in sequence, each a side-by-side comparison with a numpy /
 * Python reference (see each script's header for what is timed and how):
 *
 *   npx tsc -p . && node dist/scripts/bench/all.js [--quick] [--only a,b,c,d,e,f,g]
 *
 * | case | script | default size | typical time on 2 shared cores |
 * |---|---|---|---|
 * | a | kernel-recursion.js | n = 10,000, depths 1..100 | ~15 min |
 * | b | flow.js | n_train = 4,000, 50 t | ~3 min |
 * | c | train.js (owned by the training work) | width 1024, depth 3, N = 256 | ~1 min |
 * | d | engine-overhead.js --profile | 10,000 debug points | minutes (see README) |
 * | e | pool-speedup.js | 16 kernel jobs + 64 debug tasks | ~3 min |
 * | f | peak-rss.js --numpy 10000 | n_train 10,000 and 20,000 | ~1 h |
 * | g | depth-time.js --numpy-depth 50 | depth-time.yaml at n_train 10,000; numpy measured to depth 50 | ~1 h |
 *
 * `--quick` shrinks every case (a: n = 2000, depth 30; b: 2000; d: 1000 points; e: 8 jobs;
 * f: 4000 only; g: n_train 500, numpy to depth 100) to check that everything runs, in a few minutes. Timings on a shared machine are
 * noisy: each script takes the minimum over repeats and prints the load average; run the
 * benchmarks one at a time (this script does) on an otherwise idle machine for publishable numbers.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './common.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function main(): void {
  const o = parseArgs(process.argv.slice(2), { quick: 'false', only: 'a,b,c,d,e,f,g' });
  const quick = o.quick === 'true';
  const cases: Record<string, [string, string[]]> = {
    a: ['kernel-recursion.js', quick ? ['--n', '2000', '--depth', '30'] : []],
    b: ['flow.js', quick ? ['--n', '2000', '--n-test', '500', '--reps', '1'] : []],
    c: ['train.js', quick ? ['--steps', '2'] : []],
    d: ['engine-overhead.js', quick ? ['--tasks', '1000', '--reps', '1'] : ['--profile']],
    e: ['pool-speedup.js', quick ? ['--points', '8', '--reps', '1'] : []],
    f: ['peak-rss.js', quick ? ['--sizes', '4000', '--depths', '1,3'] : ['--numpy', '10000']],
    g: ['depth-time.js', quick ? ['--n-train', '500', '--numpy-depth', '100'] : ['--numpy-depth', '50']],
  };
  const failed: string[] = [];
  for (const key of o.only.split(',')) {
    const c = cases[key];
    if (!c) throw new Error(`unknown case ${key}; cases: ${Object.keys(cases).join(', ')}`);
    console.log(`\n===== (${key}) node ${c[0]} ${c[1].join(' ')} =====`);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [path.join(here, c[0]), ...c[1]], { stdio: 'inherit' });
    console.log(`===== (${key}) exit ${r.status}, ${((performance.now() - t0) / 1000).toFixed(0)} s =====`);
    if (r.status !== 0) failed.push(key);
  }
  if (failed.length) {
    console.log(`\nfailed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main();
