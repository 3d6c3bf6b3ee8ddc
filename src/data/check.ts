/**
 * Validation of {@link DataParams}: the cheap pre-run check (`checkDataParams`) and the shared
 * resolution step used by `loadDataset`. Image datasets are checked against known per-class
 * counts without reading their files; csv files are read (and cached) because their sizes and
 * classes are only known from the data.
 *
 * Accepts untyped input (params may come straight from YAML): every field is type-checked.
 */
import { show } from '../util/show.js';
import { DATASETS, type DataParams } from './types.js';
import { DataError } from './errors.js';
import { MNIST_CLASS_COUNTS } from './mnist.js';
import { FASHION_MNIST_CLASS_COUNT } from './fashion-mnist.js';
import { SPHERE_QUADRATIC_MAX_D } from './sphere.js';
import { readCsvData, type CsvData } from './csv.js';

/** Validated, defaulted params. `classes` is the label order; `classesSorted` the same set ascending. */
export interface ResolvedDataParams {
  dataset: DataParams['dataset'];
  n_train: number;
  n_test: number;
  data_seed: number;
  center: boolean;
  unit_norm: boolean;
  /** Label order (mnist / fashion-mnist / csv; sphere: `[-1, 1]`). */
  classes: number[];
  classes_sorted: number[];
  /** sphere only. */
  d?: number;
  target?: 'linear' | 'quadratic';
  /** csv only: the parsed file(s). */
  csv?: CsvData;
}

/**
 * Cheap pre-run validation of data params.
 * @returns human-readable messages, one per problem; empty when the params are valid, e.g.
 *   `"n_train + n_test = 12000 exceeds the 10000 points of mnist (classes 0-9)"`.
 *   Never throws for bad params. Does not read mnist / fashion-mnist files; reads csv files.
 */
export function checkDataParams(p: DataParams): string[] {
  return resolve(p).messages;
}

/**
 * Validate and default `p` for loading.
 * @throws DataError whose message lists every problem found (joined by "; ").
 */
export function resolveDataParams(p: DataParams): ResolvedDataParams {
  const { messages, resolved } = resolve(p);
  if (messages.length > 0 || !resolved) throw new DataError(messages.join('; '));
  return resolved;
}

/**
 * Compact class list: ascending runs of 3 or more non-negative consecutive integers become `a-b`:
 * `[0..9]` → `"0-9"`, `[3, 5]` → `"3, 5"`, `[1, 2, 3, 7]` → `"1-3, 7"`.
 */
export function formatClasses(classes: readonly number[]): string {
  const s = [...classes].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    if (j - i >= 2 && s[i] >= 0) out.push(`${s[i]}-${s[j]}`);
    else for (let q = i; q <= j; q++) out.push(String(s[q]));
    i = j + 1;
  }
  return out.join(', ');
}

type Resolution = { messages: string[]; resolved?: ResolvedDataParams };

/** What every dataset checks the same way, handed to the per-dataset resolution. */
interface Common {
  /** The params as given (untyped). */
  q: Record<string, unknown>;
  /** The validated common fields (meaningful only when `msgs` stays empty). */
  base: Omit<ResolvedDataParams, 'classes' | 'classes_sorted'>;
  /** `classes` when given and well-formed (at least 2 distinct integers). */
  classesGiven: number[] | undefined;
  okTrain: boolean;
  okTest: boolean;
  /** Problems found so far; the per-dataset step adds to them. */
  msgs: string[];
}

function resolve(p: DataParams): Resolution {
  const msgs: string[] = [];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return { messages: [`data params must be an object, got ${show(p)}`] };
  const q = p as unknown as Record<string, unknown>;
  const dataset = q.dataset;
  if (!(DATASETS as readonly unknown[]).includes(dataset)) {
    msgs.push(`unknown dataset ${show(dataset)}; expected one of ${DATASETS.join(', ')}`);
  }
  const n_train = q.n_train;
  const n_test = q.n_test;
  const okTrain = Number.isSafeInteger(n_train) && (n_train as number) >= 1;
  const okTest = Number.isSafeInteger(n_test) && (n_test as number) >= 0;
  if (!okTrain) msgs.push(`n_train must be an integer >= 1, got ${show(n_train)}`);
  if (!okTest) msgs.push(`n_test must be an integer >= 0, got ${show(n_test)}`);
  if (!Number.isSafeInteger(q.data_seed)) msgs.push(`data_seed must be an integer, got ${show(q.data_seed)}`);
  for (const k of ['center', 'unit_norm'] as const) {
    if (typeof q[k] !== 'boolean') msgs.push(`${k} must be true or false, got ${show(q[k])}`);
  }
  const classesGiven = dataset !== 'sphere' ? givenClasses(q.classes, msgs) : undefined;
  const base = {
    dataset: dataset as DataParams['dataset'],
    n_train: n_train as number,
    n_test: n_test as number,
    data_seed: q.data_seed as number,
    center: q.center as boolean,
    unit_norm: q.unit_norm as boolean,
  };
  if (q.center === true && q.unit_norm === true && n_train === 1) {
    msgs.push('n_train = 1 with center: the one train point minus the train mean is 0, which unit_norm cannot project to the unit sphere; use n_train >= 2 or center: false');
  }
  const common: Common = { q, base, classesGiven, okTrain, okTest, msgs };
  if (dataset === 'mnist' || dataset === 'fashion-mnist') return resolveImages(common, dataset);
  if (dataset === 'sphere') return resolveSphere(common);
  if (dataset === 'csv') return resolveCsv(common);
  return { messages: msgs };
}

/** `classes` when it is a list of at least 2 distinct integers (else a message, and undefined). */
function givenClasses(c: unknown, msgs: string[]): number[] | undefined {
  if (c === undefined) return undefined;
  if (!Array.isArray(c) || !c.every((v) => Number.isSafeInteger(v))) {
    msgs.push(`classes must be a list of integer class labels, got ${show(c)}`);
    return undefined;
  }
  const dup = c.find((v, i) => c.indexOf(v) !== i);
  if (dup !== undefined) msgs.push(`classes lists ${dup} more than once`);
  else if (c.length < 2) msgs.push(`classes must list at least 2 classes, got ${show(c)}`);
  else return c as number[];
  return undefined;
}

/** mnist / fashion-mnist: known classes 0-9, and enough points of them (per-class counts, files not read). */
function resolveImages({ q, base, classesGiven, okTrain, okTest, msgs }: Common, dataset: 'mnist' | 'fashion-mnist'): Resolution {
  const all = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const unknown = classesGiven?.filter((c) => !all.includes(c)) ?? [];
  if (unknown.length > 0) msgs.push(`unknown class ${unknown.join(', ')} for ${dataset}; classes are 0-9`);
  if (unknown.length > 0 || (q.classes !== undefined && !classesGiven)) return { messages: msgs };
  const classes = classesGiven ?? all;
  const pool = classes.reduce((s, c) => s + (dataset === 'mnist' ? MNIST_CLASS_COUNTS[c] : FASHION_MNIST_CLASS_COUNT), 0);
  const total = base.n_train + base.n_test;
  if (okTrain && okTest && total > pool) {
    msgs.push(`n_train + n_test = ${total} exceeds the ${pool} points of ${dataset} (classes ${formatClasses(classes)})`);
  }
  if (msgs.length > 0) return { messages: msgs };
  return { messages: [], resolved: { ...base, classes: [...classes], classes_sorted: [...classes].sort((a, b) => a - b) } };
}

/** sphere: the dimension `d` and the target function. */
function resolveSphere({ q, base, msgs }: Common): Resolution {
  const d = q.d;
  const target = q.target ?? 'linear';
  if (!Number.isSafeInteger(d) || (d as number) < 2) msgs.push(`sphere: d must be an integer >= 2, got ${show(d)}`);
  if (target !== 'linear' && target !== 'quadratic') msgs.push(`sphere: target must be "linear" or "quadratic", got ${show(q.target)}`);
  else if (target === 'quadratic' && (d as number) > SPHERE_QUADRATIC_MAX_D) {
    msgs.push(`sphere: the quadratic target supports d <= ${SPHERE_QUADRATIC_MAX_D} (it stores a d×d matrix), got d = ${d}`);
  }
  if (msgs.length > 0) return { messages: msgs };
  return { messages: [], resolved: { ...base, classes: [-1, 1], classes_sorted: [-1, 1], d: d as number, target: target as 'linear' | 'quadratic' } };
}

/** csv: read the file(s), then check classes, row counts and (with unit_norm) all-zero rows. */
function resolveCsv({ q, base, classesGiven, okTrain, okTest, msgs }: Common): Resolution {
  let csv: CsvData;
  try {
    csv = readCsvData({ path: q.path as string, train_path: q.train_path as string, test_path: q.test_path as string, label_column: q.label_column as string, task: q.task as CsvData['task'], data_sha256: q.data_sha256 as string | undefined });
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    msgs.push(e.message);
    return { messages: msgs };
  }
  const { n_train, n_test } = base;
  const where = csv.files.join(' and ');
  if (csv.task === 'regression') {
    if (q.classes !== undefined) msgs.push('classes: a regression dataset (task: regression) has no classes');
    if (okTrain && n_train > csv.train.n) msgs.push(`n_train = ${n_train} exceeds the ${csv.train.n} train rows in csv ${where}`);
    if (okTest && n_test > csv.test.n) msgs.push(`n_test = ${n_test} exceeds the ${csv.test.n} test rows in csv ${where}`);
    if (q.unit_norm === true && q.center !== true) msgs.push(...zeroRows(csv, new Set([0])));
    if (msgs.length > 0) return { messages: msgs };
    return { messages: [], resolved: { ...base, classes: [], classes_sorted: [], csv } };
  }
  const unknown = classesGiven?.filter((c) => !csv.classes.includes(c)) ?? [];
  if (unknown.length > 0) {
    const known = csv.classes.map((c, i) => (csv.class_names[i] === String(c) ? String(c) : `${c} = "${csv.class_names[i]}"`)).join(', ');
    msgs.push(`unknown class ${unknown.join(', ')} for csv ${where}; classes present: ${known}`);
    return { messages: msgs };
  }
  if (q.classes !== undefined && !classesGiven) return { messages: msgs };
  const classes = classesGiven ?? csv.classes;
  const inSet = new Set(classes);
  const countOf = (part: { classOf: Int32Array }) => part.classOf.reduce((s, c) => s + (inSet.has(c) ? 1 : 0), 0);
  const avTrain = countOf(csv.train);
  const avTest = countOf(csv.test);
  const cls = classesGiven ? ` of classes ${formatClasses(classes)}` : '';
  if (okTrain && n_train > avTrain) msgs.push(`n_train = ${n_train} exceeds the ${avTrain} train rows${cls} in csv ${where}`);
  if (okTest && n_test > avTest) msgs.push(`n_test = ${n_test} exceeds the ${avTest} test rows${cls} in csv ${where}`);
  if (q.unit_norm === true && q.center !== true) msgs.push(...zeroRows(csv, inSet));
  if (msgs.length > 0) return { messages: msgs };
  return { messages: [], resolved: { ...base, classes: [...classes], classes_sorted: [...classes].sort((a, b) => a - b), csv } };
}

/** One message per csv part with all-zero rows among the classes in `inSet` (unit_norm cannot project them), naming up to 3 lines. */
function zeroRows(csv: CsvData, inSet: Set<number>): string[] {
  const out: string[] = [];
  for (const part of [csv.train, csv.test]) {
    const lines: number[] = [];
    for (let i = 0; i < part.n; i++) {
      if (!inSet.has(part.classOf[i])) continue;
      let zero = true;
      for (let j = 0; j < csv.d && zero; j++) zero = part.x[i * csv.d + j] === 0;
      if (zero) lines.push(part.lines[i]);
    }
    if (lines.length > 0) {
      const shown = lines.slice(0, 3).join(', ') + (lines.length > 3 ? ` and ${lines.length - 3} more` : '');
      out.push(`unit_norm: csv ${part.file}, line${lines.length > 1 ? 's' : ''} ${shown}: the point is all zeros and cannot be projected to the unit sphere (remove it, or set unit_norm: false)`);
    }
  }
  return out;
}
