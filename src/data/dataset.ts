/**
 * `loadDataset`: params → selected, preprocessed, encoded {@link Dataset}. Steps:
 *
 * 1. validate ({@link resolveDataParams});
 * 2. select points deterministically (see `select.ts`): for mnist / fashion-mnist the pool is all
 *    images of the chosen classes (classes ascending, file order within a class), shuffled by
 *    `makeRng({ purpose: 'data-split', dataset, data_seed, classes: <ascending> })`; train = the
 *    permutation's prefix, test = read from its end. For csv each part (train / test) is its own
 *    pool (rows of the chosen classes, file order), shuffled with `part` added to the seed
 *    material, and the selection is a prefix. For sphere see `sphere.ts`. In all cases train
 *    sets are nested in `n_train`, test sets nested in `n_test`, and neither depends on the other
 *    count.
 * 3. preprocess (`center`, then `unit_norm`; see `preprocess.ts`);
 * 4. encode targets (one-hot minus 1/k, or ±1 for two classes; see `labels.ts`).
 *
 * The label order is the order of `classes` in the params (default ascending); the set of
 * selected points depends only on the set of classes, not on their order.
 */
import type { DataParams, Dataset } from './types.js';
import { makeRng } from '../util/rng.js';
import { resolveDataParams, type ResolvedDataParams } from './check.js';
import { splitPool, selectPrefix } from './select.js';
import { MNIST_CLASS_COUNTS, MNIST_DIM, mnistClass } from './mnist.js';
import { FASHION_MNIST_CLASS_COUNT, FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_DIM, fashionMnistClass } from './fashion-mnist.js';
import { sphereData } from './sphere.js';
import type { CsvData, CsvPart } from './csv.js';
import { preprocess } from './preprocess.js';
import { encodeTargets, outputCount } from './labels.js';

/**
 * Load, select, preprocess and encode a dataset (see the module comment).
 * @returns a {@link Dataset}: x_train [n_train, d], y_train [n_train, k], x_test [n_test, d],
 *   y_test [n_test, k] (Float64Array, row-major), labels as Int32Array indices into `classes`.
 *   Arrays are freshly allocated; callers may modify them.
 * @throws DataError for invalid params (unknown dataset or class, n_train < 1, too many points,
 *   ...), unreadable or malformed files, and zero-norm points under `unit_norm`.
 */
export function loadDataset(p: DataParams): Dataset {
  const r = resolveDataParams(p);
  let d: number;
  let x_train: Float64Array, x_test: Float64Array;
  let labels_train: Int32Array, labels_test: Int32Array;
  let class_names: string[];
  let values: { train: Float64Array; test: Float64Array } | undefined;
  if (r.dataset === 'mnist' || r.dataset === 'fashion-mnist') {
    ({ d, x_train, x_test, labels_train, labels_test } = loadImages(r));
    class_names = r.classes.map((c) => (r.dataset === 'mnist' ? String(c) : FASHION_MNIST_CLASS_NAMES[c]));
  } else if (r.dataset === 'sphere') {
    d = r.d!;
    ({ x_train, x_test, labels_train, labels_test } = sphereData(d, r.n_train, r.n_test, r.data_seed, r.target!));
    class_names = ['-1', '+1'];
  } else {
    const csv = r.csv!;
    d = csv.d;
    let yTr: Float64Array, yTe: Float64Array;
    ({ x: x_train, labels: labels_train, y: yTr } = selectCsvPart(csv, csv.train, 'train', r));
    ({ x: x_test, labels: labels_test, y: yTe } = selectCsvPart(csv, csv.test, 'test', r));
    values = { train: yTr, test: yTe };
    class_names = r.classes.map((c) => csv.class_names[csv.classes.indexOf(c)]);
  }
  preprocess(x_train, r.n_train, x_test, r.n_test, d, { center: r.center, unit_norm: r.unit_norm });
  if (r.csv?.task === 'regression') {
    return { task: 'regression', d, k: 1, n_train: r.n_train, n_test: r.n_test, x_train, y_train: values!.train, x_test, y_test: values!.test, labels_train, labels_test, classes: [], class_names: [] };
  }
  const K = r.classes.length;
  return {
    task: 'classification',
    d,
    k: outputCount(K),
    n_train: r.n_train,
    n_test: r.n_test,
    x_train,
    y_train: encodeTargets(labels_train, K),
    x_test,
    y_test: encodeTargets(labels_test, K),
    labels_train,
    labels_test,
    classes: [...r.classes],
    class_names,
  };
}

function loadImages(r: ResolvedDataParams) {
  const mnist = r.dataset === 'mnist';
  const d = mnist ? MNIST_DIM : FASHION_MNIST_DIM;
  const sorted = r.classes_sorted;
  const sizes = sorted.map((c) => (mnist ? MNIST_CLASS_COUNTS[c] : FASHION_MNIST_CLASS_COUNT));
  const starts: number[] = [];
  let pool = 0;
  for (const s of sizes) {
    starts.push(pool);
    pool += s;
  }
  const rng = makeRng({ purpose: 'data-split', dataset: r.dataset, data_seed: r.data_seed, classes: sorted });
  const { train, test } = splitPool(pool, r.n_train, r.n_test, rng);
  const labelIndex = sorted.map((c) => r.classes.indexOf(c));
  const gather = (idx: Int32Array) => {
    const n = idx.length;
    const x = new Float64Array(n * d);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const g = idx[i];
      let ci = sorted.length - 1;
      while (starts[ci] > g) ci--;
      const local = g - starts[ci];
      labels[i] = labelIndex[ci];
      if (mnist) {
        x.set(mnistClass(sorted[ci]).subarray(local * d, (local + 1) * d), i * d);
      } else {
        const src = fashionMnistClass(sorted[ci]);
        for (let j = 0, o = local * d; j < d; j++) x[i * d + j] = src[o + j] / 255;
      }
    }
    return { x, labels };
  };
  const tr = gather(train);
  const te = gather(test);
  return { d, x_train: tr.x, x_test: te.x, labels_train: tr.labels, labels_test: te.labels };
}

function selectCsvPart(csv: CsvData, part: CsvPart, name: 'train' | 'test', r: ResolvedDataParams) {
  const n = name === 'train' ? r.n_train : r.n_test;
  const regression = csv.task === 'regression';
  const inSet = new Set(r.classes_sorted);
  const rows: number[] = [];
  for (let i = 0; i < part.n; i++) if (regression || inSet.has(part.classOf[i])) rows.push(i);
  const rng = makeRng({ purpose: 'data-split', dataset: 'csv', part: name, data_seed: r.data_seed, classes: r.classes_sorted });
  const pick = selectPrefix(rows.length, n, rng);
  const d = csv.d;
  const x = new Float64Array(n * d);
  const labels = new Int32Array(n);
  const y = new Float64Array(regression ? n : 0);
  for (let i = 0; i < n; i++) {
    const row = rows[pick[i]];
    x.set(part.x.subarray(row * d, (row + 1) * d), i * d);
    if (regression) y[i] = part.value![row];
    else labels[i] = r.classes.indexOf(part.classOf[row]);
  }
  return { x, labels, y };
}
