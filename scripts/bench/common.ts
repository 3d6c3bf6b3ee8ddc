/**
 * Shared helpers of the side-by-side benchmarks in `scripts/bench/` (flow, kernel-recursion,
 * engine-overhead, pool-speedup, peak-rss, all): argument parsing, the Python reference runner,
 * raw float64 files, timing and the machine description printed with every result.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The ntk-sweep CLI of the built tree, `dist/src/cli/main.js` (this file is `dist/scripts/bench/common.js`). */
export const CLI = path.join(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..'), 'dist', 'src', 'cli', 'main.js');

/** `--key value` / `--flag` arguments into a map (values as strings; flags as "true"). */
export function parseArgs(argv: string[], defaults: Record<string, string>): Record<string, string> {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}; options: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    const key = a.slice(2);
    if (!(key in defaults)) throw new Error(`unknown option ${a}; options: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = 'true';
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

/** One line describing the machine and its current load (timings on a shared machine are noisy). */
export function machineLine(): string {
  const l = loadavg().map((v) => v.toFixed(2)).join(' ');
  return `machine: ${cpus()[0]?.model ?? '?'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; load average ${l}; node ${process.version}`;
}

/** A temporary directory, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Write a Float64Array as raw little-endian float64 (numpy `fromfile(dtype=float64)`). */
export function writeF64(file: string, a: Float64Array): void {
  writeFileSync(file, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
}

/**
 * Run a Python script string with a JSON config as `argv[1]`, with the BLAS thread count set
 * through `OPENBLAS_NUM_THREADS` / `OMP_NUM_THREADS` / `MKL_NUM_THREADS`; the script must print
 * one JSON object as its last stdout line.
 * @throws Error with Python's last stderr line when it fails.
 */
export function runPython<T>(python: string, script: string, cfg: unknown, blasThreads: number, timeoutMs = 6 * 3600_000): T {
  const env = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(blasThreads),
    OMP_NUM_THREADS: String(blasThreads),
    MKL_NUM_THREADS: String(blasThreads),
  };
  const r = spawnSync(python, ['-c', script, JSON.stringify(cfg)], { env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: timeoutMs });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status} signal ${r.signal}`).trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${python} failed: ${why}`);
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as T;
}

/** Wall-clock and process CPU seconds of `fn` (CPU = user + system over all threads). */
export function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

/** One timed CLI command: wall-clock seconds from spawn to exit, CPU seconds of the whole process, its stdout. */
export interface CliRun {
  wall: number;
  /** User + system CPU seconds of the command's process, all its threads (NaN if it could not be read). */
  cpu: number;
  stdout: string;
}

/**
 * Run `node dist/src/cli/main.js ...args` as a user does and time the whole command. The CPU time
 * is read inside the child at exit (`process.cpuUsage()`, which counts every thread of the
 * process, the pool's included) by a one-line preload hook; `nodeArgs` go before it (e.g.
 * `--cpu-prof`); `cli` is another build's `main.js` to compare with (default {@link CLI}).
 * @throws Error with the last lines of its output when the command exits non-zero.
 */
export function runCliTimed(args: string[], nodeArgs: string[] = [], cli = CLI): CliRun {
  const { dir, cleanup } = tempDir('ntk-bench-cli-');
  try {
    const hook = path.join(dir, 'cpu-hook.cjs');
    const usage = path.join(dir, 'cpu.json');
    writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(usage)}, JSON.stringify(process.cpuUsage())));\n`);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...nodeArgs, '-r', hook, cli, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`ntk-sweep ${args[0]} exited ${r.status}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
    let cpu = NaN;
    try {
      const u = JSON.parse(readFileSync(usage, 'utf8')) as { user: number; system: number };
      cpu = (u.user + u.system) / 1e6;
    } catch {
      // no usage written (the process ended without running its exit handlers): CPU unknown
    }
    return { wall, cpu, stdout: r.stdout };
  } finally {
    cleanup();
  }
}

/** Fixed-width table printing. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = header.map((_h, j) => Math.max(...cells.map((r) => String(r[j] ?? '').length)));
  return cells.map((r) => r.map((c, j) => String(c ?? '').padEnd(widths[j])).join('  ')).join('\n');
}

/** Short number formatting: 3 significant digits, exponent for very small/large values. */
/** Median of `xs` (mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}

/** Python preamble shared by the references: imports and a wall-clock helper. */
export const PY_PRELUDE = `
import json, sys, time, os, resource
import numpy as np
cfg = json.loads(sys.argv[1])
def now(): return time.perf_counter()
def maxrss_mib(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
`;

/**
 * Python: one Dense∘ReLU layer of the NNGP/NTK recursion as a numpy user writes it (σ_w = 1,
 * σ_b = 0; arc-cosine formulas of Cho & Saul 2009 and Jacot et al. 2018), in place on full
 * `[n, n]` arrays with preallocated buffers: `layer(S, T, buf, th)` turns `S = Σ^l`, `T = Θ^l`
 * into `Σ^{l+1}`, `Θ^{l+1}`. Needs `np` (from {@link PY_PRELUDE}).
 */
export const PY_RELU_LAYER = `
inv2pi = 1.0 / (2 * np.pi)

def layer(S, T, buf, th):
    # one Dense∘ReLU layer in place: S ← Σ^{l+1}, T ← Θ^{l+1}
    s = np.sqrt(np.diag(S).copy())
    np.outer(s, s, out=buf)              # sqrt(Σ_ii Σ_jj)
    np.divide(S, buf, out=S)             # ρ
    np.clip(S, -1.0, 1.0, out=S)
    np.arccos(S, out=th)                 # θ
    np.subtract(np.pi, th, out=th)       # π − θ
    np.multiply(T, th, out=T)
    T *= inv2pi                          # Θ Σ̇,  Σ̇ = (π − θ)/(2π)
    np.multiply(th, S, out=th)           # (π − θ) ρ
    np.multiply(S, S, out=S)
    np.subtract(1.0, S, out=S)
    np.maximum(S, 0.0, out=S)
    np.sqrt(S, out=S)                    # sin θ
    S += th
    S *= buf
    S *= inv2pi                          # Σ^{l+1}
    T += S                               # Θ^{l+1}
`;
