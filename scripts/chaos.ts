/**
 * Chaos run: execute sweeps while killing the coordinator at random moments, resume until done,
 * and compare every grid point with a clean run of the same specs in a separate database.
 *
 *   npx tsc -p . && node dist/scripts/chaos.js [--spec sweeps/chaos.yaml --spec sweeps/chaos-train.yaml]
 *       [--kills 12] [--seed 1] [--threads 2] [--parallel 1] [--sigint 0.25]
 *       [--min-ms 100] [--max-ms 2500] [--max-memory 96] [--dir /tmp/...] [--keep]
 *   (or ./scripts/chaos with the same options)
 *
 * - Reference: each spec is run once, uninterrupted, into `<dir>/reference.sqlite`.
 * - Chaos: each spec gets its share of `--kills` (`kills × i / specs` rounding). `--parallel P`
 *   coordinators run the spec concurrently on `<dir>/chaos.sqlite`; each is stopped after a
 *   random delay (drawn from a seeded generator, so `--seed` replays the same schedule; only the
 *   machine's speed varies): mostly `[min-ms, max-ms]` after its first claim, one time in five
 *   `[0, 1500]` ms after its start (during startup, schema creation or registration). It is
 *   stopped with probability `--sigint` by SIGINT (a third of those followed by a second SIGINT,
 *   which exits at once), otherwise by `kill -9`, and restarted. Once a spec's kills are
 *   spent its coordinators run to the end; then one more run must find nothing left to execute.
 * - Compare (`test/helpers/verify.ts`): `lost` = grid points missing or unfinished; `duplicated` =
 *   recorded twice or held under two live leases at once (from the `task_log` audit trail);
 *   `mismatched` = different status, attempt count, error text, or any metric value (whole series,
 *   bit for bit). `crashes` = runs that ended in any other way than expected (an exit code other
 *   than 0/1 after a clean run, other than 130 after SIGINT, a hang, ...).
 *
 * Prints the seed first and, last, one line `kills=K tasks=N lost=0 duplicated=0 mismatched=0
 * crashes=0`; exits 1 if any of these counts is non-zero (2 on bad options). Timing randomness
 * comes from `makeRng` (src/data/rng.ts), never `Math.random`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRng } from '../src/util/rng.js';
import { compareSweep } from '../test/helpers/verify.js';
import { loadSpecFile } from '../src/spec/spec.js';
import { openStore } from '../src/store/open.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Options {
  specs: string[];
  kills: number;
  seed: number;
  threads: number;
  parallel: number;
  sigint: number;
  minMs: number;
  maxMs: number;
  maxMemory: number;
  dir: string | null;
  keep: boolean;
}

function usage(msg: string): never {
  process.stderr.write(`chaos: ${msg}\nsee the header of scripts/chaos.ts for the options\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { specs: [], kills: 12, seed: 1, threads: 2, parallel: 1, sigint: 0.25, minMs: 100, maxMs: 2500, maxMemory: 96, dir: null, keep: false };
  const num = (name: string, v: string | undefined, min: number): number => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x) || x < min) usage(`--${name} expects a number >= ${min}, got ${v}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--spec':
        if (!v) usage('--spec expects a path');
        o.specs.push(v);
        i++;
        break;
      case '--kills':
        o.kills = Math.floor(num('kills', v, 0));
        i++;
        break;
      case '--seed':
        o.seed = Math.floor(num('seed', v, 0));
        i++;
        break;
      case '--threads':
        o.threads = Math.floor(num('threads', v, 1));
        i++;
        break;
      case '--parallel':
        o.parallel = Math.floor(num('parallel', v, 1));
        i++;
        break;
      case '--sigint':
        o.sigint = num('sigint', v, 0);
        i++;
        break;
      case '--min-ms':
        o.minMs = num('min-ms', v, 0);
        i++;
        break;
      case '--max-ms':
        o.maxMs = num('max-ms', v, 0);
        i++;
        break;
      case '--max-memory':
        o.maxMemory = Math.floor(num('max-memory', v, 0));
        i++;
        break;
      case '--dir':
        if (!v) usage('--dir expects a path');
        o.dir = v;
        i++;
        break;
      case '--keep':
        o.keep = true;
        break;
      default:
        usage(`unknown option ${a}`);
    }
  }
  if (o.specs.length === 0) o.specs = [join(ROOT, 'sweeps/chaos.yaml'), join(ROOT, 'sweeps/chaos-train.yaml')];
  if (o.maxMs < o.minMs) usage('--max-ms must be >= --min-ms');
  if (o.sigint > 1) usage('--sigint is a probability in [0, 1]');
  return o;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const done = new Promise<Exit>((res) => child.on('exit', (code, signal) => res({ code, signal, stdout, stderr })));
  return { child, done };
}

const sleep = (ms: number): Promise<'timeout'> => new Promise((r) => setTimeout(() => r('timeout'), ms));

/** `p`, or 'timeout' after `ms` (the timer is cleared either way, so it never holds the process). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Wait until the coordinator with process id `pid` has claimed work in `db` (or `exited` settles). */
async function firstClaim(db: string, pid: number, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!gone && Date.now() < deadline) {
    try {
      const s = await openStore(db, { readonly: true });
      try {
        const rows = await s.query(`SELECT 1 AS x FROM task_log WHERE event = 'claim' AND owner LIKE '%:${pid}:%' LIMIT 1`);
        if (rows.length) return;
      } finally {
        await s.close();
      }
    } catch {
      // the database is not created yet
    }
    await sleep(100);
  }
}

/** Parse the `--json` summary of a run, or null (killed runs print none). */
function summary(e: Exit): { pending: number; running_elsewhere: number; executed: number } | null {
  try {
    return JSON.parse(e.stdout);
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const rng = makeRng({ purpose: 'chaos', seed: o.seed });
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'ntk-sweep-chaos-'));
  const refDb = join(dir, 'reference.sqlite');
  const chaosDb = join(dir, 'chaos.sqlite');
  const t0 = Date.now();
  const log = (s: string): void => void process.stderr.write(`[chaos ${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);
  process.stdout.write(
    `chaos: seed=${o.seed} kills=${o.kills} threads=${o.threads} parallel=${o.parallel} sigint=${o.sigint} delay=${o.minMs}..${o.maxMs}ms dir=${dir}\n` +
      `chaos: specs ${o.specs.join(', ')}\n`,
  );
  const common = ['--threads', String(o.threads), '--max-memory', String(o.maxMemory), '--json', '--quiet'];
  const crashes: string[] = [];
  const crash = (what: string, e: Exit): void => {
    crashes.push(`${what}: code ${e.code} signal ${e.signal}; stderr: ${e.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    log(`UNEXPECTED ${crashes[crashes.length - 1]}`);
  };

  const names: string[] = [];
  for (const spec of o.specs) {
    names.push(loadSpecFile(spec).name);
    log(`reference run of ${spec}`);
    const r = await start(['run', spec, '--db', refDb, ...common]).done;
    if (r.code !== 0 && r.code !== 1) crash(`reference run of ${spec}`, r);
  }

  let kills = 0;
  let sigints = 0;
  let runs = 0;
  for (let si = 0; si < o.specs.length; si++) {
    const spec = o.specs[si];
    const budget = Math.round((o.kills * (si + 1)) / o.specs.length) - Math.round((o.kills * si) / o.specs.length);
    let spent = 0;
    let complete = false;
    log(`chaos on ${spec}: ${budget} kills, ${o.parallel} coordinator(s)`);
    const slot = async (k: number): Promise<void> => {
      while (!complete) {
        const p = start(['run', spec, '--db', chaosDb, ...common]);
        runs++;
        const interrupt = spent < budget;
        // every random number of this run is drawn now, so the schedule depends on the seed only
        const early = rng.uniform() < 0.2;
        const delay = early ? rng.uniform() * 1500 : o.minMs + rng.uniform() * (o.maxMs - o.minMs);
        const bySigint = rng.uniform() < o.sigint;
        const twice = rng.uniform() < 1 / 3;
        const gap = 20 + rng.uniform() * 300;
        let first: Exit | 'timeout';
        if (!interrupt) first = await p.done;
        else {
          // mostly at a random moment after the coordinator started working; sometimes during its startup
          if (!early) await firstClaim(chaosDb, p.child.pid!, p.done, 120_000);
          first = await within(p.done, delay);
        }
        if (first !== 'timeout') {
          const e = first;
          const s = summary(e);
          if (e.code !== 0 && e.code !== 1) crash(`run ${runs} (coordinator ${k})`, e);
          else if (s && s.pending === 0 && s.running_elsewhere === 0) complete = true;
          continue;
        }
        if (spent >= budget) {
          // another coordinator spent the budget meanwhile: let this one finish
          const e = await p.done;
          if (e.code !== 0 && e.code !== 1) crash(`run ${runs} (coordinator ${k})`, e);
          else if (summary(e)?.pending === 0 && summary(e)?.running_elsewhere === 0) complete = true;
          continue;
        }
        spent++;
        const nth = ++kills;
        const when = `${Math.round(delay)} ms after ${early ? 'start' : 'its first claim'}`;
        if (bySigint) {
          sigints++;
          p.child.kill('SIGINT');
          if (twice) {
            await sleep(gap);
            p.child.kill('SIGINT');
          }
          const e = await within(p.done, 60_000);
          if (e === 'timeout') {
            p.child.kill('SIGKILL');
            crash(`run ${runs}: no exit within 60 s of SIGINT`, await p.done);
          } else {
            const ok = e.code === 130 || e.code === 0 || e.code === 1 || e.signal === 'SIGINT';
            log(`kill ${nth}: SIGINT${twice ? ' x2' : ''} ${when} -> exit ${e.code ?? e.signal}`);
            if (!ok) crash(`run ${runs} after SIGINT`, e);
          }
        } else {
          p.child.kill('SIGKILL');
          const e = await p.done;
          log(`kill ${nth}: kill -9 ${when} -> ${e.signal ?? 'exit ' + e.code}`);
        }
      }
    };
    await Promise.all(Array.from({ length: o.parallel }, (_, k) => slot(k)));
    // one more run must find nothing left to execute
    const last = await start(['run', spec, '--db', chaosDb, ...common]).done;
    const s = summary(last);
    if ((last.code !== 0 && last.code !== 1) || !s) crash(`final run of ${spec}`, last);
    else if (s.executed !== 0 || s.pending !== 0) crashes.push(`final run of ${spec} still executed ${s.executed} and left ${s.pending} pending`);
  }

  let tasks = 0;
  let lost = 0;
  let duplicated = 0;
  let mismatched = 0;
  let interrupted = 0;
  let resumed = 0;
  for (const name of names) {
    const c = await compareSweep(refDb, chaosDb, name);
    tasks += c.tasks;
    lost += c.lost;
    duplicated += c.duplicated;
    mismatched += c.mismatched;
    interrupted += c.interrupted;
    resumed += c.resumed_from_checkpoint;
    for (const ex of c.examples) log(`${name}: ${ex}`);
  }
  for (const c of crashes) log(`crash: ${c}`);
  process.stdout.write(
    `chaos: ${runs} runs, ${sigints} of the kills by SIGINT, ${interrupted} grid points interrupted at least once, ` +
      `${resumed} resumed from a checkpoint, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  process.stdout.write(`kills=${kills} tasks=${tasks} lost=${lost} duplicated=${duplicated} mismatched=${mismatched} crashes=${crashes.length}\n`);
  const bad = lost + duplicated + mismatched + crashes.length > 0;
  if (!o.keep && !o.dir && !bad) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`chaos: databases kept in ${dir}\n`);
  process.exitCode = bad ? 1 : 0;
}

await main();
