/**
 * Parameter and result types of the data layer (docs/conventions.md §14). Both are plain data: a
 * {@link DataParams} object is part of a task's canonical params, and a {@link Dataset} is what a
 * task computes on.
 */

/** The known datasets. */
export const DATASETS = ['mnist', 'fashion-mnist', 'sphere', 'csv'] as const;

/**
 * Everything that determines a dataset, bit for bit. Fields that do not apply to the chosen
 * `dataset` (e.g. `d` for mnist, `classes` for sphere) are ignored by the loader.
 */
export interface DataParams {
  /** Which data source. */
  dataset: (typeof DATASETS)[number];
  /** Number of training points, integer >= 1. */
  n_train: number;
  /** Number of test points, integer >= 0. */
  n_test: number;
  /**
   * Safe integer. Selects which points (seeded shuffle) and, for sphere, the points and the
   * target function.
   */
  data_seed: number;
  /**
   * Class subset (mnist / fashion-mnist / csv), at least 2 distinct classes. Default: all
   * classes, ascending. The order given is the label order: `classes[j]` gets label index `j`;
   * with 2 classes `classes[0]` maps to -1 and `classes[1]` to +1. The selected points do not
   * depend on the order (only on the set).
   */
  classes?: number[];
  /** Subtract the TRAIN mean feature vector from train and test points. */
  center: boolean;
  /** Project every point to the unit sphere (after centering). Zero-norm points are an error. */
  unit_norm: boolean;
  /** sphere only: input dimension, integer >= 2. */
  d?: number;
  /**
   * sphere only: label = sign of a seeded random linear (`w·x`) or quadratic
   * (`xᵀGx − tr(G)/d`) function of the point; ±1, k = 1. Default `'linear'`.
   */
  target?: 'linear' | 'quadratic';
  /** csv: one file with a `split` column whose values are `train` / `test`. */
  path?: string;
  /** csv: training file (with `test_path`), instead of `path`. */
  train_path?: string;
  /** csv: test file (with `train_path`), instead of `path`. */
  test_path?: string;
  /** csv: name of the label column, default `'label'`; all other columns except `split` are features. */
  label_column?: string;
  /**
   * csv: `classification` (each distinct label is a class) or `regression` (labels are real
   * targets, one output). Unset: classification of integer or string labels; real-valued labels
   * are then an error asking to choose.
   */
  task?: 'classification' | 'regression';
  /** csv: SHA-256 of the file(s) (filled in by the spec expansion); a file with other content is an error. */
  data_sha256?: string;
}

/** A loaded, selected and preprocessed dataset. All matrices are row-major. */
export interface Dataset {
  /** Input dimension. */
  d: number;
  /** `regression`: targets are the label values (k = 1, no classes); else classification. */
  task: 'classification' | 'regression';
  /** Number of outputs: 1 for ±1 labels (2 classes) or regression, else the number of classes. */
  k: number;
  n_train: number;
  n_test: number;
  /** [n_train, d] row-major. */
  x_train: Float64Array;
  /** [n_train, k] targets: one-hot minus 1/k, or ±1 when there are 2 classes; regression: the values. */
  y_train: Float64Array;
  /** [n_test, d] row-major. */
  x_test: Float64Array;
  /** [n_test, k] targets, same encoding as `y_train`. */
  y_test: Float64Array;
  /** [n_train] label index into `classes` (0..k-1, or 0/1 for ±1 where 1 means +1). */
  labels_train: Int32Array;
  /** [n_test] label index into `classes`. */
  labels_test: Int32Array;
  /** Original class labels in label-index order (sphere: `[-1, 1]`; regression: empty, labels all 0). */
  classes: number[];
  /**
   * Human-readable names parallel to `classes` (e.g. `'Trouser'` for fashion-mnist class 1, the
   * original string for csv string labels). Always set by `loadDataset`.
   */
  class_names?: string[];
}
