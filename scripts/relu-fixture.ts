/**
 * Records the ReLU kernels and kernel-task metrics of the code as it is when run, into
 * `test/fixtures/relu-bits.<backend>.json` (one file per linear-algebra backend: the input Gram and
 * the eigendecompositions round differently on each; `NTK_SWEEP_LINALG=js|native` picks it) and
 * the task ids of the shipped ReLU sweeps into `test/fixtures/relu-task-ids.json`, so that later refactors can be checked bit for bit
 * (`test/ntk-relu-bits.test.ts`). Each entry stores its inputs (points as JSON numbers, which
 * round-trip float64 exactly) and the SHA-256 of the float64 bytes of every output.
 *
 * Usage (from a build of the commit whose numbers are the reference, in the repository root):
 *   npx tsc -p . && NTK_SWEEP_LINALG=js node dist/scripts/relu-fixture.js && NTK_SWEEP_LINALG=native node dist/scripts/relu-fixture.js
 * The committed fixture was written at commit ae7c388 (before activations existed).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { makeRng } from '../src/util/rng.js';
import { linalg } from '../src/linalg/index.js';
import { kernelMatrix, kernelFold, type KernelName, type KernelScale } from '../src/ntk/index.js';
import { expandSpec } from '../src/spec/expand.js';
import { loadSpecFile } from '../src/spec/spec.js';
import { runKernelBatch } from '../src/tasks/kernel.js';
import type { MetricRow, Params, TaskInput } from '../src/tasks/types.js';

/** SHA-256 (hex) of the bytes of a float64 array. */
export function digest(a: Float64Array): string {
  return createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
}

export interface KernelCase {
  n: number;
  d: number;
  x: number[];
  sigma_w: number;
  sigma_b: number;
  depths: number[];
  /** `${depth}:${kernel}:${scale}` → digest; plus `${depth}:logdiag` of the four log arrays. */
  digests: Record<string, string>;
}

export interface TaskCase {
  params: Params;
  depths: number[];
  ts: number[];
  /** `${depth}:${t}` → metric name → float64 bits (16 hex digits). */
  values: Record<string, Record<string, string>>;
}

/** Points: seeded normals with unequal norms, plus a duplicate and an antipodal pair. */
function points(n: number, d: number, seed: number): number[] {
  const rng = makeRng({ purpose: 'relu-fixture', seed });
  const x = new Float64Array(n * d);
  rng.fillNormal(x);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) x[i * d + k] *= 0.5 + i / n;
  for (let k = 0; k < d; k++) {
    x[1 * d + k] = x[0 * d + k]; // duplicate of point 0
    x[2 * d + k] = -x[3 * d + k]; // antipodal to point 3
  }
  return Array.from(x);
}

const KERNELS: KernelName[] = ['ntk', 'nngp', 'rho'];
const SCALES: KernelScale[] = ['normalized', 'absolute', 'train_diag_mean'];

/** Digests of every kernel matrix of `c` computed with `fold` (same signature as kernelFold). */
export function kernelDigests(c: Omit<KernelCase, 'digests'>, fold: typeof kernelFold, matrix: typeof kernelMatrix): Record<string, string> {
  const out: Record<string, string> = {};
  fold(Float64Array.from(c.x), c.n, c.d, { sigma_w: c.sigma_w, sigma_b: c.sigma_b, depths: c.depths }, (L, state) => {
    for (const k of KERNELS) for (const s of SCALES) out[`${L}:${k}:${s}`] = digest(matrix(state, k, s, { n_train: Math.ceil(c.n / 2) }));
    const logs = new Float64Array(4 * c.n);
    logs.set(state.log_nngp_diag, 0);
    logs.set(state.log_nngp_diag_lo, c.n);
    logs.set(state.log_ntk_diag, 2 * c.n);
    logs.set(state.log_ntk_diag_lo, 3 * c.n);
    out[`${L}:logdiag`] = digest(logs);
  });
  return out;
}

/** The float64 bits of `v` as 16 hex digits. */
export function bits(v: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

/** Metric values (as bits) of a kernel batch (eigh solver), per (depth, t). */
export async function taskValues(c: Omit<TaskCase, 'values'>, run: typeof runKernelBatch): Promise<Record<string, Record<string, string>>> {
  const tasks: TaskInput[] = c.depths.flatMap((depth) => c.ts.map((t) => ({ id: `${depth}:${t}`, params: { ...c.params, depth, t } })));
  const got = new Map<string, MetricRow[]>();
  await run(tasks, { reporter: { progress: () => undefined, metrics: (id, rows) => got.set(id, [...(got.get(id) ?? []), ...rows]), end: () => undefined } }, { solver: 'eigh' });
  const values: Record<string, Record<string, string>> = {};
  for (const [id, rows] of got) values[id] = Object.fromEntries(rows.map((r) => [r.name, bits(r.value)]));
  return values;
}

/** Task ids of the shipped ReLU sweeps (they must not change, so existing databases resume). */
export function sweepTaskIds(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of SHIPPED_RELU_SWEEPS) out[name] = expandSpec(loadSpecFile(`sweeps/${name}.yaml`), 'sweeps').map((t) => t.id);
  return out;
}

export const SHIPPED_RELU_SWEEPS = ['quickstart', 'depth-limit', 'width-lazy'];

async function main(): Promise<void> {
  const kernelCases: KernelCase[] = [];
  for (const [sigma_w, sigma_b, seed] of [
    [1, 0, 1],
    [1.3, 0.2, 2],
    [0.8, 0.5, 3],
    [2.5, 0, 4],
  ]) {
    const base = { n: 9, d: 5, x: points(9, 5, seed), sigma_w, sigma_b, depths: [1, 2, 3, 10, 100, 1000] };
    kernelCases.push({ ...base, digests: kernelDigests(base, kernelFold, kernelMatrix) });
  }
  const taskCases: TaskCase[] = [];
  for (const params of <Params[]>[
    { dataset: 'mnist', n_train: 120, n_test: 40, center: true, unit_norm: true, data_seed: 0, kernel: 'ntk', sigma_w: 1, sigma_b: 0, time_scale: 'normalized', diag_reg: 0, diag_reg_mode: 'relative' },
    { dataset: 'mnist', n_train: 120, n_test: 40, center: true, unit_norm: false, data_seed: 0, kernel: 'nngp', sigma_w: 1, sigma_b: 0, time_scale: 'normalized', diag_reg: 0, diag_reg_mode: 'relative' },
  ]) {
    const base = { params, depths: [1, 5, 50], ts: [10, Infinity] };
    taskCases.push({ ...base, values: await taskValues(base, runKernelBatch) });
  }
  const file = new URL(`../../test/fixtures/relu-bits.${linalg().name}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify({ kernelCases, taskCases }, (_k, v) => (v === Infinity ? 'inf' : v), 1) + '\n');
  const ids = new URL('../../test/fixtures/relu-task-ids.json', import.meta.url);
  writeFileSync(ids, JSON.stringify({ taskIds: sweepTaskIds() }, null, 1) + '\n');
  process.stdout.write(`wrote ${file.pathname} (${kernelCases.length} kernel cases, ${taskCases.length} task cases) and ${ids.pathname}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
