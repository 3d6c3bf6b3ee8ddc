/**
 * Every parameter a sweep spec may set, documented once, here: its meaning, which task kinds
 * take it, its schema (zod), what the error message says is expected, and its default; and the
 * typed params a task reads, parsed from that one definition ({@link parseParams},
 * {@link dataParams}). Names follow docs/conventions.md §2.
 *
 * Tasks (worker side) import this module and nothing else from `spec/`: it depends only on zod,
 * the activation names of `ntk/` and the data types.
 */
import { z } from 'zod';
import { DATASETS, type DataParams } from '../data/types.js';
import { ACTIVATION_NAMES, ACTIVATION_PARAMS, NNGP_ONLY, type ActivationName } from '../ntk/activations.js';
import { show } from '../util/show.js';

/** Task kinds. `debug` runs engine self-tests (fault injection, overhead benchmarks), no science. */
export type Kind = 'kernel' | 'train' | 'debug';
export const KINDS: Kind[] = ['kernel', 'train', 'debug'];

export interface ParamDef {
  /** One-line meaning, shown by `ntk-sweep params`. */
  doc: string;
  kinds: Kind[];
  schema: z.ZodType;
  /** Human phrase completing "expected …". */
  expected: string;
  /** Filled in when the spec does not set the param (part of the task id either way). */
  default?: unknown;
  /** Belongs to the data selection / preprocessing (the `dataset` block). */
  data?: boolean;
  /**
   * The default value is left out of the task id: the param was added after task ids existed,
   * and leaving its default out keeps those ids, and the results stored under them, valid.
   */
  id_omits_default?: boolean;
}

const posInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();
const posNum = z.number().positive().finite();
const nonNegNum = z.number().nonnegative().finite();
const both: Kind[] = ['kernel', 'train'];

export const PARAMS: Record<string, ParamDef> = {
  // ---- data (dataset block) ----
  dataset: { doc: 'data source: mnist | fashion-mnist | sphere | csv', kinds: both, schema: z.enum(DATASETS), expected: `one of ${DATASETS.join(', ')}`, data: true },
  classes: {
    doc: 'class subset, e.g. [0, 1] (two classes give ±1 labels); default all classes',
    kinds: both,
    schema: z.array(nonNegInt).min(2).refine((a) => new Set(a).size === a.length),
    expected: 'a list of at least two distinct non-negative integers',
    data: true,
  },
  n_train: { doc: 'number of training points', kinds: both, schema: posInt, expected: 'a positive integer', data: true },
  n_test: { doc: 'number of test points', kinds: both, schema: posInt, expected: 'a positive integer', default: 500, data: true },
  data_seed: { doc: 'seed of the data selection (and of synthetic data)', kinds: both, schema: nonNegInt, expected: 'a non-negative integer', default: 0, data: true },
  center: { doc: 'subtract the train mean from train and test inputs', kinds: both, schema: z.boolean(), expected: 'true or false', default: false, data: true },
  unit_norm: { doc: 'project inputs to the unit sphere (after centering)', kinds: both, schema: z.boolean(), expected: 'true or false', default: true, data: true },
  d: { doc: 'input dimension of the sphere dataset', kinds: both, schema: posInt, expected: 'a positive integer', data: true },
  target: { doc: 'sphere labels: sign of a seeded random linear or quadratic function', kinds: both, schema: z.enum(['linear', 'quadratic']), expected: 'linear or quadratic', data: true },
  path: { doc: 'csv: one file with a `split` column (train/test)', kinds: both, schema: z.string().min(1), expected: 'a file path', data: true },
  train_path: { doc: 'csv: training file', kinds: both, schema: z.string().min(1), expected: 'a file path', data: true },
  test_path: { doc: 'csv: test file', kinds: both, schema: z.string().min(1), expected: 'a file path', data: true },
  task: {
    doc: 'csv: classification (each label a class) or regression (labels are real targets: test_mse, test_r2, no test_acc); unset: classification of integer or text labels, and real-valued labels are an error asking to choose',
    kinds: both,
    schema: z.enum(['classification', 'regression']),
    expected: 'classification or regression',
    data: true,
  },
  label_column: { doc: 'csv: name of the label column (default "label")', kinds: both, schema: z.string().min(1), expected: 'a column name', data: true },
  data_sha256: { doc: 'csv: SHA-256 of the data file(s), filled in automatically so changed data gets new task ids', kinds: both, schema: z.string(), expected: 'a hex digest', data: true },

  // ---- network / kernel ----
  depth: { doc: 'number of weight layers L (L − 1 hidden layers); L = 1 is the linear model', kinds: both, schema: posInt.max(100_000), expected: 'a positive integer (at most 100000)' },
  sigma_w: { doc: 'weight scale σ_w', kinds: both, schema: posNum, expected: 'a positive number', default: 1 },
  sigma_b: { doc: 'bias scale σ_b (0 = no bias)', kinds: both, schema: nonNegNum, expected: 'a non-negative number', default: 0 },
  activation: {
    doc: `activation φ of the hidden layers: ${ACTIVATION_NAMES.join(' | ')} (closed-form dual maps)`,
    kinds: both,
    schema: z.enum(ACTIVATION_NAMES),
    expected: `one of ${ACTIVATION_NAMES.join(', ')}`,
    default: 'relu',
    id_omits_default: true,
  },
  activation_alpha: { doc: 'leaky_relu: slope of φ for x < 0 (required with leaky_relu, refused otherwise)', kinds: both, schema: z.number().finite(), expected: 'a finite number' },
  kernel: { doc: 'kernel used for statistics and predictions: ntk | nngp | rho', kinds: ['kernel'], schema: z.enum(['ntk', 'nngp', 'rho']), expected: 'one of ntk, nngp, rho', default: 'ntk' },
  t: {
    doc: 'gradient-flow stopping time (inf allowed); for train tasks t = lr·steps',
    kinds: both,
    schema: z.number().nonnegative(),
    expected: 'a non-negative number or inf',
  },
  time_scale: {
    doc: 'normalized: t in units where the kernel diagonal is 1 (depths comparable); absolute: raw Θ',
    kinds: ['kernel'],
    schema: z.enum(['normalized', 'absolute']),
    expected: 'normalized or absolute',
    default: 'normalized',
  },
  diag_reg: { doc: 'ridge added to the kernel diagonal', kinds: ['kernel'], schema: nonNegNum, expected: 'a non-negative number', default: 0 },
  diag_reg_mode: {
    doc: 'relative: diag_reg × mean(diag K); absolute: diag_reg as is',
    kinds: ['kernel'],
    schema: z.enum(['relative', 'absolute']),
    expected: 'relative or absolute',
    default: 'relative',
  },

  // ---- finite-width training ----
  width: { doc: 'hidden-layer width n', kinds: ['train'], schema: posInt.max(1_000_000), expected: 'a positive integer' },
  lr: { doc: 'gradient-descent learning rate η', kinds: ['train'], schema: posNum, expected: 'a positive number' },
  steps: { doc: 'number of full-batch gradient-descent steps T', kinds: ['train'], schema: nonNegInt, expected: 'a non-negative integer' },
  seed: { doc: 'initialization seed', kinds: ['train'], schema: nonNegInt, expected: 'a non-negative integer', default: 0 },
  parameterization: { doc: 'ntk (docs/conventions.md §3) or standard', kinds: ['train'], schema: z.enum(['ntk', 'standard']), expected: 'ntk or standard', default: 'ntk' },
  log_every: { doc: 'log metrics every this many steps', kinds: ['train'], schema: posInt, expected: 'a positive integer' },
  log_points: {
    doc: 'log metrics at this many log-spaced steps, 0 and steps included (default 20 when log_every is not set)',
    kinds: ['train'],
    schema: z.number().int().min(2),
    expected: 'an integer >= 2 (the first and the last step)',
  },
  probe: { doc: 'number of test points used for activation and empirical-NTK metrics', kinds: ['train'], schema: posInt, expected: 'a positive integer', default: 32 },
  // ---- debug (engine self-tests) ----
  x: { doc: 'debug: input number (metric y = x² + 1)', kinds: ['debug'], schema: z.number().finite(), expected: 'a number' },
  sleep_ms: { doc: 'debug: CPU-bound busy-wait in milliseconds', kinds: ['debug'], schema: nonNegNum, expected: 'a non-negative number', default: 0 },
  fail: { doc: 'debug: none | throw | exit | oom', kinds: ['debug'], schema: z.enum(['none', 'throw', 'exit', 'oom']), expected: 'none, throw, exit or oom', default: 'none' },
  mem_mb: { doc: 'debug: memory the grid point declares it needs (MiB), for tests of the memory budget; nothing is allocated', kinds: ['debug'], schema: nonNegNum, expected: 'a non-negative number' },
  fail_attempts: { doc: 'debug: fail only on the first this many attempts, then succeed (unset: every attempt)', kinds: ['debug'], schema: posInt, expected: 'a positive integer' },
  checkpoint_every: { doc: 'save a checkpoint every this many steps (0 = never)', kinds: ['train'], schema: nonNegInt, expected: 'a non-negative integer', default: 0 },
};

/** Params that must be set (by the dataset block, fixed, grid or derived) for each kind. */
export const REQUIRED: Record<Kind, string[]> = {
  kernel: ['dataset', 'n_train', 'depth'],
  train: ['dataset', 'n_train', 'width', 'depth', 'lr', 'steps'],
  debug: [],
};

/**
 * Problems of the activation params of a spec: `activation_*` params set for no activation that
 * takes them, or missing for one that needs them; the NTK of an activation without one (the step,
 * whose derivative is a Dirac delta) in kernel sweeps, and any such activation in train sweeps
 * (its gradients vanish). `values(key)` lists every value a param takes in the spec (fixed, grid,
 * or its default).
 */
export function activationProblems(kind: Kind, values: (key: string) => unknown[]): string[] {
  const problems: string[] = [];
  const acts = values('activation').map(String);
  const kernels = values('kernel').map(String);
  for (const a of acts) {
    if (!NNGP_ONLY.includes(a)) continue;
    if (kind === 'kernel' && kernels.includes('ntk')) {
      problems.push(`activation: ${a} has no NTK (its derivative is a Dirac delta); with activation ${a} use kernel: nngp or rho`);
    }
    if (kind === 'train') problems.push(`activation: ${a} cannot be trained by gradient descent (its derivative is 0 almost everywhere, a Dirac delta at 0)`);
  }
  const needed = new Set(acts.flatMap((a) => ACTIVATION_PARAMS[a] ?? []));
  for (const key of Object.keys(PARAMS).filter((k) => k.startsWith('activation_'))) {
    const set = values(key).length > 0;
    if (set && !needed.has(key)) problems.push(`${key}: applies only to activation ${Object.keys(ACTIVATION_PARAMS).filter((a) => ACTIVATION_PARAMS[a].includes(key)).join(' / ')}`);
    if (!set && needed.has(key)) problems.push(`${key}: required with activation ${acts.filter((a) => ACTIVATION_PARAMS[a]?.includes(key)).join(', ')}`);
  }
  return problems;
}

/** Params as stored with a task: canonical JSON values by name. */
type RawParams = Record<string, unknown>;

/** `log_points` of a train task that sets neither `log_every` nor `log_points`. */
export const DEFAULT_LOG_POINTS = 20;

/** Params a kernel or train task reads, typed, with their defaults filled in. */
export interface NetworkParams {
  depth: number;
  sigma_w: number;
  sigma_b: number;
  /** φ of the hidden layers; its `activation_*` params stay in the raw params. */
  activation: ActivationName;
  /** The data selection and preprocessing ({@link dataParams}). */
  data: DataParams;
}

/** Typed params of a kernel task (one grid point). */
export interface KernelTaskParams extends NetworkParams {
  kernel: 'ntk' | 'nngp' | 'rho';
  /** Stopping time of the gradient flow; `Infinity` (the kernel-regression limit) when unset. */
  t: number;
  time_scale: 'normalized' | 'absolute';
  diag_reg: number;
  diag_reg_mode: 'relative' | 'absolute';
}

/** Typed params of a train task. */
export interface TrainTaskParams extends NetworkParams {
  width: number;
  lr: number;
  steps: number;
  seed: number;
  parameterization: 'ntk' | 'standard';
  /** Exactly one of `log_every` / `log_points` is set; `log_points` is {@link DEFAULT_LOG_POINTS} when neither was. */
  log_every?: number;
  log_points?: number;
  probe: number;
  /** Checkpoint period in steps; 0 = never. */
  checkpoint_every: number;
}

/**
 * `raw[key]`, else the default of {@link PARAMS}, checked against the param's schema.
 * @throws RangeError `<kind> task: param <key>: expected …, got …` (or `required` when a param
 *   without default is missing and `required` is set).
 */
function paramOf(kind: Kind, raw: RawParams, key: string, required: boolean): unknown {
  const def = PARAMS[key];
  const v = raw[key] ?? def.default;
  if (v === undefined) {
    if (required) throw new RangeError(`${kind} task: param ${key}: required (${def.expected})`);
    return undefined;
  }
  if (!(def.schema.safeParse(v).success || (key === 't' && v === Infinity))) {
    throw new RangeError(`${kind} task: param ${key}: expected ${def.expected}, got ${show(v)}`);
  }
  return v;
}

/**
 * The data params of a task's raw params: every data param of {@link PARAMS} (`data: true`) that
 * is set, with the defaults of those that have one (`n_test`, `data_seed`, `center`,
 * `unit_norm`). Not validated here: `loadDataset` checks them together (`data/check.ts`).
 */
export function dataParams(raw: RawParams): DataParams {
  const out: RawParams = {};
  for (const [key, def] of Object.entries(PARAMS)) {
    if (!def.data) continue;
    const v = raw[key] ?? def.default;
    if (v !== undefined) out[key] = v;
  }
  return out as unknown as DataParams;
}

function networkParams(kind: 'kernel' | 'train', raw: RawParams): NetworkParams {
  return {
    depth: paramOf(kind, raw, 'depth', true) as number,
    sigma_w: paramOf(kind, raw, 'sigma_w', true) as number,
    sigma_b: paramOf(kind, raw, 'sigma_b', true) as number,
    activation: paramOf(kind, raw, 'activation', true) as ActivationName,
    data: dataParams(raw),
  };
}

/**
 * The typed params of a task of `kind` from its raw params (as expanded from a spec, or given
 * directly by a test): each from {@link PARAMS}, its default filled in, its value checked
 * against its schema. Params of other kinds and auxiliary names are ignored. Data params are
 * collected by {@link dataParams}.
 * @throws RangeError naming the param and what is expected; for train tasks also when both
 *   `log_every` and `log_points` are set.
 */
export function parseParams(kind: 'kernel', raw: RawParams): KernelTaskParams;
export function parseParams(kind: 'train', raw: RawParams): TrainTaskParams;
export function parseParams(kind: 'kernel' | 'train', raw: RawParams): KernelTaskParams | TrainTaskParams {
  const get = (key: string, required = true): unknown => paramOf(kind, raw, key, required);
  if (kind === 'kernel') {
    return {
      ...networkParams(kind, raw),
      kernel: get('kernel') as KernelTaskParams['kernel'],
      t: (get('t', false) as number | undefined) ?? Infinity,
      time_scale: get('time_scale') as KernelTaskParams['time_scale'],
      diag_reg: get('diag_reg') as number,
      diag_reg_mode: get('diag_reg_mode') as KernelTaskParams['diag_reg_mode'],
    };
  }
  if (raw.log_every !== undefined && raw.log_points !== undefined) {
    throw new RangeError('train task: set either log_every or log_points, not both');
  }
  const out: TrainTaskParams = {
    ...networkParams(kind, raw),
    width: get('width') as number,
    lr: get('lr') as number,
    steps: get('steps') as number,
    seed: get('seed') as number,
    parameterization: get('parameterization') as TrainTaskParams['parameterization'],
    probe: get('probe') as number,
    checkpoint_every: get('checkpoint_every') as number,
  };
  if (raw.log_every !== undefined) out.log_every = get('log_every') as number;
  else out.log_points = (get('log_points', false) as number | undefined) ?? DEFAULT_LOG_POINTS;
  return out;
}
