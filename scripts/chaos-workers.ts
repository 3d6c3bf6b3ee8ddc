/**
 * The many-machines half of the chaos run (`scripts/chaos.ts --db postgres://… --workers K`): the
 * specs are submitted to a shared database and K `ntk-sweep worker` processes run them, each as
 * if on its own machine (its own `NTK_SWEEP_HOSTNAME`, a short lease). At seeded random moments (mostly
 * `[min-ms, max-ms]` after the victim's first claim, one time in five within 1.5 s of its start) a
 * random worker gets `kill -9` and its slot starts a new one, under the same machine name (so it
 * may take the dead one's points over at once by the pid check) while the other machines can
 * only wait for the lease to expire. Once the kills are spent the workers run to the end; one
 * more worker must then find nothing left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Rng } from '../src/util/rng.js';
import { openStore } from '../src/store/open.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface WorkersChaosOptions {
  db: string;
  specs: string[];
  names: string[];
  workers: number;
  kills: number;
  threads: number;
  minMs: number;
  maxMs: number;
  maxMemory: number;
  /** Lease of every worker, seconds. */
  leaseS: number;
  rng: Rng;
  log: (s: string) => void;
}

export interface WorkersChaosResult {
  kills: number;
  runs: number;
  crashes: string[];
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<Exit> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-10_000)));
  return { child, done: new Promise<Exit>((res) => child.on('exit', (code, signal) => res({ code, signal, stderr }))) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolve once the worker with process id `pid` has claimed a grid point in `db`, or has exited. */
async function firstClaim(db: string, pid: number, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  while (!gone) {
    const s = await openStore(db, { readonly: true });
    try {
      if ((await s.query(`SELECT 1 AS x FROM task_log WHERE event = 'claim' AND owner LIKE '%:${pid}:%' LIMIT 1`)).length) return;
    } finally {
      await s.close();
    }
    await sleep(100);
  }
}

/** Grid points of `names` in `db` that are pending or running. */
async function unfinished(db: string, names: string[]): Promise<number> {
  const s = await openStore(db, { readonly: true });
  try {
    let n = 0;
    for (const name of names) {
      const c = await s.counts(name);
      n += c.pending + c.running;
    }
    return n;
  } finally {
    await s.close();
  }
}

/**
 * Submit the specs to `o.db` (which must not hold these sweeps yet), run them with `o.workers`
 * workers under seeded `kill -9`s, then check that one more worker finds nothing to do.
 */
export async function workersChaos(o: WorkersChaosOptions): Promise<WorkersChaosResult> {
  const out: WorkersChaosResult = { kills: 0, runs: 0, crashes: [] };
  const crash = (what: string, e: Exit): void => {
    out.crashes.push(`${what}: code ${e.code} signal ${e.signal}; stderr: ${e.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    o.log(`UNEXPECTED ${out.crashes[out.crashes.length - 1]}`);
  };
  const existing = await openStore(o.db).then(async (s) => {
    try {
      return (await s.sweeps()).map((x) => x.name);
    } finally {
      await s.close();
    }
  });
  const again = o.names.filter((n) => existing.includes(n));
  if (again.length) throw new Error(`${o.db} already holds sweep(s) ${again.join(', ')}: give the chaos run an empty database`);
  for (const spec of o.specs) {
    const r = await start(['submit', spec, '--db', o.db]).done;
    if (r.code !== 0) crash(`submit ${spec}`, r);
  }
  const args = ['worker', '--db', o.db, '--threads', String(o.threads), '--max-memory', String(o.maxMemory), '--lease', String(o.leaseS), '--quiet', '--sweep', ...o.names];
  const live: ({ child: ChildProcess; done: Promise<Exit> } | null)[] = new Array(o.workers).fill(null);
  const killed = new Set<ChildProcess>();
  const slot = async (k: number): Promise<void> => {
    for (;;) {
      const w = start(args, { NTK_SWEEP_HOSTNAME: `chaos-machine-${k}` });
      out.runs++;
      live[k] = w;
      const e = await w.done;
      live[k] = null;
      if (killed.has(w.child)) continue; // the slot's machine starts a new worker
      if (e.code !== 0) crash(`worker on chaos-machine-${k}`, e);
      return;
    }
  };
  const slots = Array.from({ length: o.workers }, (_, k) => slot(k));
  let running = o.workers;
  for (const s of slots) void s.then(() => running--);
  while (out.kills < o.kills && running > 0) {
    // every random number of this kill is drawn now, so the schedule depends on the seed only
    const early = o.rng.uniform() < 0.2;
    const delay = early ? o.rng.uniform() * 1500 : o.minMs + o.rng.uniform() * (o.maxMs - o.minMs);
    const k = Math.floor(o.rng.uniform() * o.workers);
    const w = live[k];
    if (!w) {
      await sleep(50);
      continue;
    }
    // mostly at a random moment after the worker started working; sometimes during its startup
    if (!early) await firstClaim(o.db, w.child.pid!, w.done);
    await sleep(delay);
    if (w.child.exitCode !== null || live[k] !== w) continue;
    killed.add(w.child);
    w.child.kill('SIGKILL');
    out.kills++;
    o.log(`kill ${out.kills}: kill -9 of the worker on chaos-machine-${k} ${Math.round(delay)} ms after ${early ? 'its start' : 'its first claim'}`);
  }
  await Promise.all(slots);
  const last = await start(args).done;
  if (last.code !== 0) crash('final worker', last);
  const left = await unfinished(o.db, o.names);
  if (left > 0) out.crashes.push(`after the final worker, ${left} grid point(s) are still pending or running`);
  return out;
}
