/**
 * The params several task kinds share, defined once: the data selection (`dataset` block) and
 * the network (depth, σ_w, σ_b, activation) with its training time `t`. A kind takes a group by
 * naming it in its descriptor's `sharedParams` (`tasks/kinds/kind.ts`); its own params live in
 * its descriptor. Names follow docs/conventions.md §2.
 */
import { z } from 'zod';
import { DATASETS, type DataParams } from '../data/types.js';
import { ACTIVATION_PARAMS, ALL_ACTIVATION_NAMES } from '../ntk/activations.js';
import { looksLikeExpression, parseActivationExpression } from '../ntk/activation-expression.js';
import { nonNegInt, nonNegNum, posInt, posNum, type ParamDefs } from './param-def.js';

/** The data selection and preprocessing: the `dataset` block of a spec (`data/`). */
export const DATA_PARAMS: ParamDefs = {
  dataset: { doc: 'data source: mnist | fashion-mnist | sphere | csv', schema: z.enum(DATASETS), expected: `one of ${DATASETS.join(', ')}`, data: true },
  classes: {
    doc: 'class subset, e.g. [0, 1] (two classes give ±1 labels); default all classes',
    schema: z.array(nonNegInt).min(2).refine((a) => new Set(a).size === a.length),
    expected: 'a list of at least two distinct non-negative integers',
    data: true,
  },
  n_train: { doc: 'number of training points', schema: posInt, expected: 'a positive integer', data: true },
  n_test: { doc: 'number of test points', schema: posInt, expected: 'a positive integer', default: 500, data: true },
  data_seed: { doc: 'seed of the data selection (and of synthetic data)', schema: nonNegInt, expected: 'a non-negative integer', default: 0, data: true },
  center: { doc: 'subtract the train mean from train and test inputs', schema: z.boolean(), expected: 'true or false', default: false, data: true },
  unit_norm: { doc: 'project inputs to the unit sphere (after centering)', schema: z.boolean(), expected: 'true or false', default: true, data: true },
  d: { doc: 'input dimension of the sphere dataset', schema: posInt, expected: 'a positive integer', data: true },
  target: { doc: 'sphere labels: sign of a seeded random linear or quadratic function', schema: z.enum(['linear', 'quadratic']), expected: 'linear or quadratic', data: true },
  path: { doc: 'csv: one file with a `split` column (train/test)', schema: z.string().min(1), expected: 'a file path', data: true, not_identity: true },
  train_path: { doc: 'csv: training file', schema: z.string().min(1), expected: 'a file path', data: true, not_identity: true },
  test_path: { doc: 'csv: test file', schema: z.string().min(1), expected: 'a file path', data: true, not_identity: true },
  task: {
    doc: 'csv: classification (each label a class) or regression (labels are real targets: test_mse, test_r2, no test_acc); unset: classification of integer or text labels, and real-valued labels are an error asking to choose',
    schema: z.enum(['classification', 'regression']),
    expected: 'classification or regression',
    data: true,
  },
  label_column: { doc: 'csv: name of the label column (default "label")', schema: z.string().min(1), expected: 'a column name', data: true },
  data_sha256: { doc: 'csv: SHA-256 of the data file(s), filled in automatically so changed data gets new task ids', schema: z.string(), expected: 'a hex digest', data: true },
};

/** The network (docs/conventions.md §3) and its gradient-flow time. */
export const NETWORK_PARAMS: ParamDefs = {
  depth: { doc: 'number of weight layers L (L − 1 hidden layers); L = 1 is the linear model', schema: posInt.max(100_000), expected: 'a positive integer (at most 100000)' },
  sigma_w: { doc: 'weight scale σ_w', schema: posNum, expected: 'a positive number', default: 1 },
  sigma_b: { doc: 'bias scale σ_b (0 = no bias)', schema: nonNegNum, expected: 'a non-negative number', default: 0 },
  activation: {
    doc: `activation φ of the hidden layers: ${ALL_ACTIVATION_NAMES.join(' | ')} (the last four and expressions by quadrature), or an expression in x, e.g. "x * tanh(log(1 + exp(x)))"`,
    schema: z.string().min(1),
    expected: `one of ${ALL_ACTIVATION_NAMES.join(', ')}, or an expression in x`,
    default: 'relu',
    id_omits_default: true,
    canonical: canonicalActivation,
  },
  activation_alpha: { doc: 'leaky_relu: slope of φ for x < 0 (required with leaky_relu, refused otherwise)', schema: z.number().finite(), expected: 'a finite number' },
  t: {
    doc: 'gradient-flow stopping time (inf allowed); for train tasks t = lr·steps',
    schema: z.number().nonnegative(),
    expected: 'a non-negative number or inf',
    infinite: true,
  },
};

/** The shared groups, by the name a descriptor's `sharedParams` uses. */
export const SHARED_PARAMS = { data: DATA_PARAMS, network: NETWORK_PARAMS } as const;

/** A group of shared params. */
export type SharedParamGroup = keyof typeof SHARED_PARAMS;

/** Typed network params of a task, with its data selection (`params.ts` `dataParams`). */
export interface NetworkParams {
  depth: number;
  sigma_w: number;
  sigma_b: number;
  /** φ of the hidden layers: a name, or the canonical text of an expression in x; its `activation_*` params stay in the raw params. */
  activation: string;
  /** The data selection and preprocessing. */
  data: DataParams;
}

/**
 * Problems of one `activation` value: an unknown name, or an expression in `x` that is refused
 * (see `src/ntk/activation-expression.ts`: allow-list, symbolic derivative, finiteness of φ and φ'),
 * each prefixed with `place`, where the value is set (default `activation`).
 */
export function activationValueProblems(value: string, place = 'activation'): string[] {
  if (ALL_ACTIVATION_NAMES.includes(value)) return [];
  if (!looksLikeExpression(value)) {
    return [`${place}: unknown activation '${value}'; expected one of ${ALL_ACTIVATION_NAMES.join(', ')}, or an expression in x such as "x * tanh(log(1 + exp(x)))"`];
  }
  const parsed = parseActivationExpression(value);
  return 'problems' in parsed ? parsed.problems.map((p) => `${place}: the expression '${value}' ${p}`) : [];
}

/** The canonical text of an activation expression (mathjs formatting); names and invalid values unchanged. */
function canonicalActivation(value: unknown): unknown {
  if (typeof value !== 'string' || ALL_ACTIVATION_NAMES.includes(value) || !looksLikeExpression(value)) return value;
  const parsed = parseActivationExpression(value);
  return 'problems' in parsed ? value : parsed.canonical;
}

/**
 * Problems of every distinct `activation` value of a spec (`values(key)`: every value a param
 * takes; `placeOf(key, value)`: where the spec sets it, e.g. `grid.activation[1]`).
 */
export function activationValuesProblems(values: (key: string) => unknown[], placeOf?: (key: string, value: unknown) => string | undefined): string[] {
  return [...new Set(values('activation').map(String))].flatMap((v) => activationValueProblems(v, placeOf?.('activation', v)));
}

/** `activation_*` params set for no activation that takes them, or missing for one that needs them. */
export function activationExtraParamProblems(values: (key: string) => unknown[]): string[] {
  const problems: string[] = [];
  const acts = values('activation').map(String);
  const needed = new Set(acts.flatMap((a) => ACTIVATION_PARAMS[a] ?? []));
  for (const key of Object.keys(NETWORK_PARAMS).filter((k) => k.startsWith('activation_'))) {
    const set = values(key).length > 0;
    if (set && !needed.has(key)) problems.push(`${key}: applies only to activation ${Object.keys(ACTIVATION_PARAMS).filter((a) => ACTIVATION_PARAMS[a].includes(key)).join(' / ')}`);
    if (!set && needed.has(key)) problems.push(`${key}: required with activation ${acts.filter((a) => ACTIVATION_PARAMS[a]?.includes(key)).join(', ')}`);
  }
  return problems;
}
