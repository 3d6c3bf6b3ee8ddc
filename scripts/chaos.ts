/**
 * Chaos run: execute sweeps while killing the coordinator at random moments, resume until done,
 * and compare every grid point with a clean run of the same specs in a separate database.
 *
 *   npx tsc -p . && node dist/scripts/chaos.js [--spec sweeps/chaos.yaml --spec sweeps/chaos-train.yaml]
 *       [--kills 12] [--seed 1] [--threads 2] [--parallel 1] [--sigint 0.25]
 *       [--min-ms 100] [--max-ms 2500] [--max-memory 96] [--dir /tmp/...] [--keep]
 *       [--db postgres://… --workers K --lease 2]
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
 * - Many machines (`--workers K`, with `--db URL` of an empty PostgreSQL database, or alone on an
 *   SQLite file in `<dir>`): the specs are submitted, K `worker` processes run them as if on K
 *   machines with a `--lease`-second lease, and `--kills` seeded `kill -9`s hit random workers
 *   at random moments (timed as above, from the victim's first claim or start), each replaced by a new worker on its machine;
 *   see `scripts/chaos-workers.ts`. The comparison is the same.
 *
 * Prints the seed first and, last, one line `kills=K tasks=N lost=0 duplicated=0 mismatched=0
 * crashes=0`; exits 1 if any of these counts is non-zero (2 on bad options). Timing randomness
 * comes from `makeRng` (src/util/rng.ts), never `Math.random`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRng } from '../src/util/rng.js';
import { compareSweep } from '../test/helpers/verify.js';
import { loadSpecFile } from '../src/spec/spec.js';
import { openStore, redactUrl } from '../src/store/open.js';
import { workersChaos } from './chaos-workers.js';

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
  db: string | null;
  workers: number;
  leaseS: number;
}

function usage(msg: string): never {
  process.stderr.write(`chaos: ${msg}\nsee the header of scripts/chaos.ts for the options\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = { specs: [], kills: 12, seed: 1, threads: 2, parallel: 1, sigint: 0.25, minMs: 100, maxMs: 2500, maxMemory: 96, dir: null, keep: false, db: null, workers: 0, leaseS: 2 };
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
      case '--db':
        if (!v) usage('--db expects a database (postgres:// URL or file)');
        o.db = v;
        i++;
        break;
      case '--workers':
        o.workers = Math.floor(num('workers', v, 1));
        i++;
        break;
      case '--lease':
        o.leaseS = num('lease', v, 1);
        i++;
        break;
      default:
        usage(`unknown option ${a}`);
    }
  }
  if (o.specs.length === 0) o.specs = [join(ROOT, 'sweeps/chaos.yaml'), join(ROOT, 'sweeps/chaos-train.yaml')];
  if (o.maxMs < o.minMs) usage('--max-ms must be >= --min-ms');
  if (o.sigint > 1) usage('--sigint is a probability in [0, 1]');
  if (o.db && o.workers === 0) usage('--db needs --workers K (the workers that share it)');
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

/** What the phases of a chaos run share. */
interface Chaos {
  o: Options;
  rng: ReturnType<typeof makeRng>;
  chaosDb: string;
  /** Options of every `run` started. */
  common: string[];
  log(s: string): void;
  /** Unexpected ends so far, in words. */
  crashes: string[];
  /** Record an unexpected end. */
  crash(what: string, e: Exit): void;
}

/** Counts of the single-machine chaos, shared by its coordinator slots. */
interface Counts {
  kills: number;
  sigints: number;
  runs: number;
}

/** How one run is interrupted: every random number is drawn when it starts, so the schedule depends on the seed only. */
interface Interruption {
  /** During its startup (else after its first claim). */
  early: boolean;
  delay: number;
  bySigint: boolean;
  /** A second SIGINT after `gap` ms. */
  twice: boolean;
  gap: number;
}

function drawInterruption(c: Chaos): Interruption {
  const { rng, o } = c;
  const early = rng.uniform() < 0.2;
  const delay = early ? rng.uniform() * 1500 : o.minMs + rng.uniform() * (o.maxMs - o.minMs);
  const bySigint = rng.uniform() < o.sigint;
  const twice = rng.uniform() < 1 / 3;
  const gap = 20 + rng.uniform() * 300;
  return { early, delay, bySigint, twice, gap };
}

/** Interrupt the running coordinator `p` as `plan` says (SIGINT, once or twice, or kill -9), as kill `nth`, and check how it ended. */
async function interrupt(c: Chaos, p: ReturnType<typeof start>, plan: Interruption, nth: number, run: number, counts: Counts): Promise<void> {
  const when = `${Math.round(plan.delay)} ms after ${plan.early ? 'start' : 'its first claim'}`;
  if (!plan.bySigint) {
    p.child.kill('SIGKILL');
    const e = await p.done;
    c.log(`kill ${nth}: kill -9 ${when} -> ${e.signal ?? 'exit ' + e.code}`);
    return;
  }
  counts.sigints++;
  p.child.kill('SIGINT');
  if (plan.twice) {
    await sleep(plan.gap);
    p.child.kill('SIGINT');
  }
  const e = await within(p.done, 60_000);
  if (e === 'timeout') {
    p.child.kill('SIGKILL');
    c.crash(`run ${run}: no exit within 60 s of SIGINT`, await p.done);
  } else {
    const ok = e.code === 130 || e.code === 0 || e.code === 1 || e.signal === 'SIGINT';
    c.log(`kill ${nth}: SIGINT${plan.twice ? ' x2' : ''} ${when} -> exit ${e.code ?? e.signal}`);
    if (!ok) c.crash(`run ${run} after SIGINT`, e);
  }
}

/** Whether a run that ended by itself left the sweep complete (recording an unexpected end). */
function endedComplete(c: Chaos, e: Exit, what: string): boolean {
  if (e.code !== 0 && e.code !== 1) {
    c.crash(what, e);
    return false;
  }
  const s = summary(e);
  return !!s && s.pending === 0 && s.running_elsewhere === 0;
}

/**
 * One coordinator slot of the chaos on `spec`: start `run` again and again until the sweep is
 * complete, interrupting runs while the spec's kill budget (`spec.spent < spec.budget`, shared
 * by the slots) lasts.
 */
async function coordinatorSlot(c: Chaos, spec: { file: string; budget: number; spent: number; complete: boolean }, k: number, counts: Counts): Promise<void> {
  while (!spec.complete) {
    const p = start(['run', spec.file, '--db', c.chaosDb, ...c.common]);
    const run = ++counts.runs;
    const interrupting = spec.spent < spec.budget;
    const plan = drawInterruption(c);
    let first: Exit | 'timeout';
    if (!interrupting) first = await p.done;
    else {
      // mostly at a random moment after the coordinator started working; sometimes during its startup
      if (!plan.early) await firstClaim(c.chaosDb, p.child.pid!, p.done, 120_000);
      first = await within(p.done, plan.delay);
    }
    if (first !== 'timeout') {
      if (endedComplete(c, first, `run ${run} (coordinator ${k})`)) spec.complete = true;
      continue;
    }
    if (spec.spent >= spec.budget) {
      // another coordinator spent the budget meanwhile: let this one finish
      if (endedComplete(c, await p.done, `run ${run} (coordinator ${k})`)) spec.complete = true;
      continue;
    }
    spec.spent++;
    await interrupt(c, p, plan, ++counts.kills, run, counts);
  }
}

/** The single-machine chaos: `--parallel` coordinators (`run`) per spec, interrupted and restarted; then one more run must find nothing left. */
async function coordinatorChaos(c: Chaos): Promise<Counts> {
  const { o } = c;
  const counts: Counts = { kills: 0, sigints: 0, runs: 0 };
  for (let si = 0; si < o.specs.length; si++) {
    const file = o.specs[si];
    const budget = Math.round((o.kills * (si + 1)) / o.specs.length) - Math.round((o.kills * si) / o.specs.length);
    const spec = { file, budget, spent: 0, complete: false };
    c.log(`chaos on ${file}: ${budget} kills, ${o.parallel} coordinator(s)`);
    await Promise.all(Array.from({ length: o.parallel }, (_, k) => coordinatorSlot(c, spec, k, counts)));
    const last = await start(['run', file, '--db', c.chaosDb, ...c.common]).done;
    const s = summary(last);
    if ((last.code !== 0 && last.code !== 1) || !s) c.crash(`final run of ${file}`, last);
    else if (s.executed !== 0 || s.pending !== 0) c.crashes.push(`final run of ${file} still executed ${s.executed} and left ${s.pending} pending`);
  }
  return counts;
}

/** The chaos database against the reference, summed over the sweeps `names` (examples of differences logged). */
async function compareAll(c: Chaos, refDb: string, names: string[]) {
  const total = { tasks: 0, lost: 0, duplicated: 0, mismatched: 0, interrupted: 0, resumed: 0 };
  for (const name of names) {
    const r = await compareSweep(refDb, c.chaosDb, name);
    total.tasks += r.tasks;
    total.lost += r.lost;
    total.duplicated += r.duplicated;
    total.mismatched += r.mismatched;
    total.interrupted += r.interrupted;
    total.resumed += r.resumed_from_checkpoint;
    for (const ex of r.examples) c.log(`${name}: ${ex}`);
  }
  return total;
}

/** Uninterrupted runs of every spec into the reference database; returns the sweep names. */
async function referenceRuns(c: Chaos, refDb: string): Promise<string[]> {
  const names: string[] = [];
  for (const spec of c.o.specs) {
    names.push(loadSpecFile(spec).name);
    c.log(`reference run of ${spec}`);
    const r = await start(['run', spec, '--db', refDb, ...c.common]).done;
    if (r.code !== 0 && r.code !== 1) c.crash(`reference run of ${spec}`, r);
  }
  return names;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'ntk-sweep-chaos-'));
  const refDb = join(dir, 'reference.sqlite');
  const t0 = Date.now();
  const crashes: string[] = [];
  const log = (s: string): void => void process.stderr.write(`[chaos ${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);
  const c: Chaos = {
    o,
    rng: makeRng({ purpose: 'chaos', seed: o.seed }),
    chaosDb: o.db ?? join(dir, 'chaos.sqlite'),
    common: ['--threads', String(o.threads), '--max-memory', String(o.maxMemory), '--json', '--quiet'],
    log,
    crashes,
    crash: (what, e) => {
      crashes.push(`${what}: code ${e.code} signal ${e.signal}; stderr: ${e.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      log(`UNEXPECTED ${crashes[crashes.length - 1]}`);
    },
  };
  process.stdout.write(
    `chaos: seed=${o.seed} kills=${o.kills} threads=${o.threads} ${o.workers ? `workers=${o.workers} lease=${o.leaseS}s db=${redactUrl(c.chaosDb)}` : `parallel=${o.parallel}`} sigint=${o.sigint} delay=${o.minMs}..${o.maxMs}ms dir=${dir}\n` +
      `chaos: specs ${o.specs.join(', ')}\n`,
  );
  const names = await referenceRuns(c, refDb);
  let counts: Counts;
  if (o.workers > 0) {
    const w = await workersChaos({ db: c.chaosDb, specs: o.specs, names, workers: o.workers, kills: o.kills, threads: o.threads, minMs: o.minMs, maxMs: o.maxMs, maxMemory: o.maxMemory, leaseS: o.leaseS, rng: c.rng, log });
    counts = { kills: w.kills, sigints: 0, runs: w.runs };
    crashes.push(...w.crashes);
  } else {
    counts = await coordinatorChaos(c);
  }
  const t = await compareAll(c, refDb, names);
  for (const x of crashes) log(`crash: ${x}`);
  process.stdout.write(
    `chaos: ${counts.runs} runs, ${counts.sigints} of the kills by SIGINT, ${t.interrupted} grid points interrupted at least once, ` +
      `${t.resumed} resumed from a checkpoint, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  process.stdout.write(`kills=${counts.kills} tasks=${t.tasks} lost=${t.lost} duplicated=${t.duplicated} mismatched=${t.mismatched} crashes=${crashes.length}\n`);
  const bad = t.lost + t.duplicated + t.mismatched + crashes.length > 0;
  if (!o.keep && !o.dir && !bad) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`chaos: databases kept in ${dir}\n`);
  process.exitCode = bad ? 1 : 0;
}

await main();
