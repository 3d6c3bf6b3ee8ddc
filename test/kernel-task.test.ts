import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDataset } from '../src/data/index.js';
import { linalg } from '../src/linalg/index.js';
import { gradientFlowPredict, kernelMatrix, kernelStats, predictionMetrics, kernelFold, splitTrainTest } from '../src/ntk/index.js';
import { dataParams } from '../src/spec/params.js';
import { chooseKernelSolver, krylovThreshold, runKernelBatch, type KernelBatchOptions } from '../src/tasks/kernel.js';
import type { MetricRow, Params, TaskInput, TaskReporter } from '../src/tasks/types.js';

/** Run a kernel batch and collect every task's metrics by name. */
async function run(base: Params, depths: number[], ts: number[], options: KernelBatchOptions): Promise<Map<string, Record<string, number>>> {
  const tasks: TaskInput[] = depths.flatMap((depth) => ts.map((t) => ({ id: `d${depth}-t${t}`, params: { ...base, depth, t } })));
  const out = new Map<string, Record<string, number>>();
  const ended = new Set<string>();
  const reporter: TaskReporter = {
    progress: () => undefined,
    metrics: (id: string, rows: MetricRow[]) => {
      const m = out.get(id) ?? {};
      for (const r of rows) m[r.name] = r.value;
      out.set(id, m);
    },
    end: (id, end) => {
      assert.equal(end.status, 'done');
      ended.add(id);
    },
  };
  await runKernelBatch(tasks, { reporter }, options);
  assert.equal(ended.size, tasks.length, 'every grid point ended');
  return out;
}

const MNIST = { dataset: 'mnist', n_train: 300, n_test: 100, center: true, unit_norm: true, data_seed: 0, kernel: 'ntk', sigma_w: 1, sigma_b: 0 };

test('eigh solver reproduces kernelMatrix + splitTrainTest + eigh + gradientFlowPredict (bit for bit; time_scale absolute to 1e-12)', async () => {
  for (const base of <Params[]>[
    { ...MNIST, time_scale: 'normalized' },
    { ...MNIST, unit_norm: false, time_scale: 'normalized', kernel: 'nngp' },
    { ...MNIST, time_scale: 'absolute', diag_reg: 1e-3 },
  ]) {
    const depth = 4;
    const ts = [10, Infinity];
    const got = await run(base, [depth], ts, { solver: 'eigh' });
    // the same computation written out with the public building blocks
    const data = loadDataset(dataParams(base));
    const N = data.n_train;
    const m = data.n_test;
    const x = new Float64Array((N + m) * data.d);
    x.set(data.x_train);
    x.set(data.x_test, N * data.d);
    const kernel = base.kernel as 'ntk' | 'nngp';
    kernelFold(x, N + m, data.d, { sigma_w: 1, sigma_b: 0, depths: [depth], ntk: kernel === 'ntk' }, (_L, state) => {
      const bar = splitTrainTest(kernelMatrix(state, kernel, 'normalized'), N, m);
      const eigBar = linalg().eigh(N, bar.k_train);
      const stats = kernelStats(bar.k_train, N, eigBar, kernel === 'ntk' ? 0.25 : 1); // ReLU limits without bias
      // the pre-krylov task code: K = c·K̄ for a constant diagonal, else the log-space kernelMatrix
      const logDiag = kernel === 'ntk' ? state.log_ntk_diag : state.log_nngp_diag;
      const constant = base.unit_norm;
      const c = base.time_scale === 'absolute' ? Math.exp(logDiag[0]) : 1;
      const full = constant
        ? { k_train: bar.k_train.map((v) => v * c), k_cross: bar.k_cross.map((v) => v * c) }
        : splitTrainTest(kernelMatrix(state, kernel, base.time_scale === 'absolute' ? 'absolute' : 'train_diag_mean', { n_train: N }), N, m);
      const flow = gradientFlowPredict({
        n_train: N,
        n_test: m,
        n_out: data.k,
        k_train: full.k_train,
        k_cross: full.k_cross,
        y_train: data.y_train,
        t: ts,
        diag_reg: Number(base.diag_reg ?? 0),
        eig: constant ? (c === 1 ? eigBar : { values: eigBar.values.map((v) => v * c), vectors: eigBar.vectors }) : undefined,
      });
      ts.forEach((t, i) => {
        const row = got.get(`d${depth}-t${t}`)!;
        assert.equal(row.solver_krylov, 0);
        assert.equal(row.logdet, stats.logdet, `${JSON.stringify(base)}: logdet`);
        assert.equal(row.lambda_min, stats.lambda_min);
        assert.equal(row.offdiag_mean, stats.offdiag_mean);
        const pm = predictionMetrics(flow.predictions[i].test, data.y_test, m, data.k);
        if (base.time_scale === 'absolute') {
          // the task keeps the absolute scale in the stopping time (log space), not in K: same
          // numbers up to rounding
          assert.ok(Math.abs(row.test_mse - pm.mse) <= 1e-12 * pm.mse, `${JSON.stringify(base)}, t = ${t}: test_mse ${row.test_mse} vs ${pm.mse}`);
        } else assert.equal(row.test_mse, pm.mse, `${JSON.stringify(base)}, t = ${t}: test_mse`);
        assert.equal(row.test_acc, pm.test_acc);
        assert.equal(row.n_null_modes, flow.n_null);
        assert.equal(row.krylov_dim, undefined, 'no krylov metrics on the eigh path');
      });
    });
  }
});

test('krylov solver agrees with the eigh solver within 1e-6 on statistics and prediction metrics (depths 1, 3, 30; t up to ∞)', async () => {
  const ts = [1, 100, 1e4, Infinity];
  const depths = [1, 3, 30];
  for (const base of <Params[]>[
    { ...MNIST, time_scale: 'normalized' },
    { ...MNIST, unit_norm: false, time_scale: 'normalized' },
    { ...MNIST, time_scale: 'absolute', diag_reg: 1e-4 },
  ]) {
    const a = await run(base, depths, ts, { solver: 'eigh' });
    const b = await run(base, depths, ts, { solver: 'krylov' });
    for (const [id, ref] of a) {
      const got = b.get(id)!;
      assert.equal(got.solver_krylov, 1);
      assert.equal(got.krylov_converged, 1, `${id}: converged`);
      assert.ok(got.krylov_dim > 0 && got.krylov_dim < 2 * Number(base.n_train));
      assert.ok(got.lambda_err_est < 1e-6, `${id}: lambda_err_est ${got.lambda_err_est}`);
      const close = (name: string, tol: number) => {
        const e = Math.abs(got[name] - ref[name]) / Math.max(Math.abs(ref[name]), 1e-300);
        assert.ok(e <= tol, `${JSON.stringify(base)} ${id}: ${name} ${got[name]} vs ${ref[name]} (rel ${e})`);
      };
      for (const name of ['offdiag_mean', 'offdiag_min', 'offdiag_max', 'dist_to_limit', 'lambda_max', 'kernel_scale_log10']) close(name, 1e-6);
      if (ref.lambda_min > 1e-10) {
        close('lambda_min', 1e-6);
        close('cond', 1e-6);
        // logdet: absolute 1e-8 per point (a sum of N logs)
        assert.ok(Math.abs(got.logdet - ref.logdet) < 1e-8 * Number(base.n_train), `${id}: logdet ${got.logdet} vs ${ref.logdet}`);
        assert.equal(got.n_null_modes, 0, 'positive definite: Cholesky factor exists');
      } else {
        // numerically singular (depth 1 on centered data: rank N − 1): no Cholesky factor of K̄
        assert.ok(Math.abs(got.lambda_min) < 1e-12, `${id}: lambda_min ${got.lambda_min} at rounding level (eigh: ${ref.lambda_min})`);
        // logdet is rounding noise on both paths here (−∞ when the factorization, or eigh's smallest
        // eigenvalue, falls on the wrong side of 0), so it is not compared
      }
      for (const name of ['train_mse', 'test_mse', 'test_r2', 'pred_spread']) {
        const e = Math.abs(got[name] - ref[name]);
        assert.ok(e <= 1e-6 * Math.max(1, Math.abs(ref[name])), `${JSON.stringify(base)} ${id}: ${name} ${got[name]} vs ${ref[name]}`);
      }
      assert.equal(got.test_acc, ref.test_acc, `${id}: test_acc`);
    }
  }
});

test('solver choice: auto switches to krylov above a backend-dependent n_train; the environment can force either', () => {
  assert.equal(chooseKernelSolver(krylovThreshold('openblas'), 'openblas', 'auto'), 'eigh');
  assert.equal(chooseKernelSolver(krylovThreshold('openblas') + 1, 'openblas', 'auto'), 'krylov');
  assert.ok(krylovThreshold('js') < krylovThreshold('openblas'), 'the slower eigh switches earlier');
  assert.equal(chooseKernelSolver(100, 'js', 'krylov'), 'krylov');
  assert.equal(chooseKernelSolver(100_000, 'js', 'eigh'), 'eigh');
  assert.throws(() => chooseKernelSolver(10, 'js', 'lanczos'), /not one of auto, eigh, krylov/);
});

const SPHERE = { dataset: 'sphere', d: 5, target: 'linear', n_train: 40, n_test: 20, center: false, unit_norm: true, data_seed: 0, kernel: 'ntk', sigma_w: 2, sigma_b: 0 };
/** log10 of the NTK diagonal of unit inputs at σ_w = 2, σ_b = 0: Θ^L(x,x) = L · (4/d) · 2^{L−1} (Σ doubles per layer). */
const log10Diag = (L: number, d: number) => Math.log10(L) + Math.log10(4 / d) + (L - 1) * Math.log10(2);

test('time_scale absolute past float64 (σ_w = 2, depth 1100 and 1200): finite predictions, equal to the t = ∞ predictor, both solvers', async () => {
  for (const solver of ['eigh', 'krylov'] as const) {
    const abs = await run({ ...SPHERE, time_scale: 'absolute' }, [1100, 1200], [1, Infinity], { solver });
    const inf = await run({ ...SPHERE, time_scale: 'normalized' }, [1100, 1200], [Infinity], { solver });
    for (const L of [1100, 1200]) {
      const ref = inf.get(`d${L}-tInfinity`)!;
      for (const t of [1, Infinity]) {
        const got = abs.get(`d${L}-t${t}`)!;
        assert.ok(log10Diag(L, 5) > 308, 'the raw kernel scale is beyond float64');
        assert.ok(Math.abs(got.kernel_scale_log10 - log10Diag(L, 5)) < 1e-9 * log10Diag(L, 5), `${solver} depth ${L}: kernel_scale_log10 ${got.kernel_scale_log10}`);
        for (const name of ['train_mse', 'test_mse', 'test_acc', 'test_r2', 'pred_spread']) {
          assert.ok(Number.isFinite(got[name]), `${solver} depth ${L} t ${t}: ${name} = ${got[name]}`);
          assert.ok(Math.abs(got[name] - ref[name]) <= 1e-9 * Math.max(1, Math.abs(ref[name])), `${solver} depth ${L} t ${t}: ${name} ${got[name]} vs t = ∞ ${ref[name]}`);
        }
      }
    }
  }
});

test('time_scale absolute at t equals time_scale normalized at t · Θ(x,x) (closed-form diagonal, σ_w = 2, depth 5)', async () => {
  const L = 5;
  const c = 10 ** log10Diag(L, 5);
  const abs = await run({ ...SPHERE, time_scale: 'absolute' }, [L], [0.01, 1], { solver: 'eigh' });
  for (const t of [0.01, 1]) {
    const norm = await run({ ...SPHERE, time_scale: 'normalized' }, [L], [t * c], { solver: 'eigh' });
    const got = abs.get(`d${L}-t${t}`)!;
    const ref = norm.get(`d${L}-t${t * c}`)!;
    for (const name of ['train_mse', 'test_mse', 'test_r2', 'pred_spread']) {
      assert.ok(Math.abs(got[name] - ref[name]) <= 1e-9 * Math.max(1, Math.abs(ref[name])), `t ${t}: ${name} ${got[name]} vs ${ref[name]}`);
    }
    assert.ok(got.train_mse > 1e-6 && got.train_mse < 0.99, `t ${t}: a finite time, neither start nor limit (train_mse ${got.train_mse})`);
  }
});

test('regression csv: a linear target is recovered exactly by the depth-1 (linear) kernel at t = ∞ (test_r2 = 1, test_mse = 0, no test_acc)', async () => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ntk-reg-'));
  const rows = Array.from({ length: 12 }, (_, i) => {
    const [a, b, c] = [Math.cos(i), Math.sin(2 * i), Math.cos(3 * i + 1)];
    return `${a},${b},${c},${a - 2 * b + 0.5 * c},${i < 8 ? 'train' : 'test'}`;
  });
  const path = join(dir, 'lin.csv');
  writeFileSync(path, ['a,b,c,y,split', ...rows].join('\n') + '\n');
  const base = { dataset: 'csv', path, label_column: 'y', task: 'regression', n_train: 8, n_test: 4, center: false, unit_norm: false, data_seed: 0, kernel: 'ntk', sigma_w: 1, sigma_b: 0, time_scale: 'normalized' };
  const got = (await run(base, [1], [Infinity], { solver: 'eigh' })).get('d1-tInfinity')!;
  assert.equal(got.test_acc, undefined, 'no accuracy for real-valued targets');
  assert.ok(got.test_mse < 1e-20, `test_mse ${got.test_mse}`);
  assert.ok(Math.abs(got.test_r2 - 1) < 1e-12, `test_r2 ${got.test_r2}`);
});
