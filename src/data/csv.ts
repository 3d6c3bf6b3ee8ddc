/**
 * CSV datasets. Two layouts:
 *
 * - one file (`path`) with a `split` column whose values are `train` or `test` (trimmed,
 *   case-insensitive);
 * - two files (`train_path`, `test_path`). A `split` column is then optional; if present, every
 *   value must match the file's role (`train` in the train file, `test` in the test file).
 *
 * The first record is the header (names must be non-empty and unique). The label column
 * (`label_column`, default `label`) holds the class; every other column except `split` is a
 * numeric feature, in header order (the test file may order its columns differently; they are
 * matched by name, and both files must have the same feature columns). Empty lines are skipped,
 * fields are trimmed, a UTF-8 BOM is ignored.
 *
 * Features must be decimal numbers (`-1`, `0.5`, `.5`, `1e-3`; finite). Labels:
 * - if every label (over both parts) is a decimal number with an integer value (`3`, `-1`, `2.0`),
 *   the class numbers are those integers;
 * - otherwise labels are strings, and a label's class number is its index in the SORTED list of
 *   unique label strings (JavaScript default sort, i.e. UTF-16 code-unit order): labels
 *   `cat, dog, ant` are classes `ant = 0, cat = 1, dog = 2`.
 * `DataParams.classes` and `Dataset.classes` refer to these class numbers; the original strings
 * are in `class_names`.
 *
 * Parsed files are cached per thread, keyed by absolute path, `label_column`, and each file's
 * size and modification time. Relative paths are resolved against `process.cwd()`.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DataError } from './errors.js';

/** Where the csv data lives (the csv fields of `DataParams`). */
export interface CsvSource {
  path?: string;
  train_path?: string;
  test_path?: string;
  label_column?: string;
  /** `regression`: labels are real targets; `classification` or unset: see the module comment. */
  task?: 'classification' | 'regression';
  /**
   * Expected {@link csvDigest} of the file(s). The data's identity is its content, not its path:
   * when given, a file whose content differs is an error instead of silently other numbers.
   */
  data_sha256?: string;
}

/** One part (train or test) of a csv dataset, rows in file order. */
export interface CsvPart {
  /** Number of rows. */
  n: number;
  /** Float64Array [n, d] row-major, features in `featureNames` order. */
  x: Float64Array;
  /** Int32Array [n]: class number of each row (see the module comment); all 0 for regression. */
  classOf: Int32Array;
  /** regression: Float64Array [n], the label value of each row. */
  value?: Float64Array;
  /** The file of this part, and the line of each row in it (Int32Array [n], 1-based). */
  file: string;
  lines: Int32Array;
}

/** A parsed csv dataset, before class subsetting and selection. */
export interface CsvData {
  /** Feature column names, in the train (or single) file's header order. */
  featureNames: string[];
  d: number;
  /** `regression` when the labels are real targets (then `classes` is empty). */
  task: 'classification' | 'regression';
  /** All class numbers present in train ∪ test, ascending. */
  classes: number[];
  /** Names parallel to `classes` (the original label text). */
  class_names: string[];
  train: CsvPart;
  test: CsvPart;
  /** Absolute paths of the files read. */
  files: string[];
  /** {@link csvDigest} of the files' bytes. */
  sha256: string;
}

/** The split column's name. */
export const SPLIT_COLUMN = 'split';
/** Default label column name. */
export const DEFAULT_LABEL_COLUMN = 'label';

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

interface RawPart {
  n: number;
  x: Float64Array;
  labels: string[];
  file: string;
  lines: Int32Array;
}

/**
 * Hex SHA-256 of the bytes of `files`, concatenated in order ([single] or [train, test]): the
 * identity of csv data (with the parsing options), whatever the files' location.
 * @throws the read error of an unreadable file.
 */
export function csvDigest(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(f));
  return h.digest('hex');
}

const cache = new Map<string, { stamp: string; data: CsvData }>();
const CACHE_MAX = 8;

/**
 * Read and validate a csv dataset (see the module comment for the layouts and rules).
 * Cached per thread; the returned object is shared and must not be modified.
 * @throws DataError naming the file, line and column for: neither / both layouts given, unreadable
 *   file, malformed csv (e.g. inconsistent column count), empty file, empty or duplicate header
 *   names, missing label column, no feature column, non-numeric or non-finite feature, empty
 *   label, missing or invalid `split` value, feature columns differing between the two files,
 *   fewer than 2 classes in total.
 */
export function readCsvData(src: CsvSource): CsvData {
  const labelColumn = src.label_column ?? DEFAULT_LABEL_COLUMN;
  if (typeof labelColumn !== 'string' || labelColumn === '') throw new DataError('csv: label_column must be a non-empty string');
  if (src.task !== undefined && src.task !== 'classification' && src.task !== 'regression') {
    throw new DataError(`csv: task must be classification or regression, got ${JSON.stringify(src.task)}`);
  }
  if (labelColumn === SPLIT_COLUMN) throw new DataError(`csv: label_column cannot be "${SPLIT_COLUMN}" (that name is reserved for the train/test split)`);
  const files = csvFiles(src);
  const stamp = files.map((f) => {
    try {
      const s = statSync(f);
      return `${s.size}:${s.mtimeMs}`;
    } catch (e) {
      throw new DataError(`csv: cannot read file ${f}: ${(e as Error).message}`);
    }
  }).join('|');
  const key = JSON.stringify([files, labelColumn, src.path !== undefined, src.task ?? null]);
  const hit = cache.get(key);
  if (hit && hit.stamp === stamp) return checkDigest(hit.data, src.data_sha256);

  let featureNames: string[];
  let train: RawPart;
  let test: RawPart;
  if (src.path !== undefined) {
    const t = readTable(files[0], labelColumn, null);
    featureNames = t.featureNames;
    [train, test] = [t.train, t.test];
  } else {
    const a = readTable(files[0], labelColumn, 'train');
    const b = readTable(files[1], labelColumn, 'test', a.featureNames);
    featureNames = a.featureNames;
    [train, test] = [a.train, b.test];
  }

  const labels = labelKinds(train, test, labelColumn, src.task);
  const sha256 = csvDigest(files);
  const data: CsvData = { featureNames, d: featureNames.length, ...labels, files, sha256 };
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  cache.set(key, { stamp, data });
  return checkDigest(data, src.data_sha256);
}

/**
 * Classes or values of the labels (see the module comment). A column mixing numbers and text is
 * an error naming the first line of the rarer kind; real-valued labels without `task` are an
 * error asking to choose regression or classification.
 */
function labelKinds(train: RawPart, test: RawPart, labelColumn: string, task: CsvSource['task']): Pick<CsvData, 'task' | 'classes' | 'class_names' | 'train' | 'test'> {
  const parts = [train, test];
  const isNum = parts.map((r) => r.labels.map((s) => NUMBER_RE.test(s)));
  const nNum = isNum.flat().filter(Boolean).length;
  const total = train.n + test.n;
  const firstLine = (want: boolean): string => {
    for (let p = 0; p < 2; p++) {
      const i = isNum[p].indexOf(want);
      if (i >= 0) return `${parts[p].file}, line ${parts[p].lines[i]}: "${parts[p].labels[i]}"`;
    }
    return '';
  };
  if (task === 'regression') {
    if (nNum < total) throw new DataError(`csv: ${firstLine(false)}: with task: regression every value of column "${labelColumn}" must be a number`);
    const part = (r: RawPart): CsvPart => ({ n: r.n, x: r.x, classOf: new Int32Array(r.n), value: Float64Array.from(r.labels, Number), file: r.file, lines: r.lines });
    return { task: 'regression', classes: [], class_names: [], train: part(train), test: part(test) };
  }
  if (nNum > 0 && nNum < total) {
    const rare = nNum * 2 < total;
    throw new DataError(
      `csv: column "${labelColumn}" mixes numbers and text (${nNum} numeric, ${total - nNum} not); first ${rare ? 'number' : 'text'} at ${firstLine(rare)}. Fix the stray value, or quote every label as text`,
    );
  }
  const all = [...train.labels, ...test.labels];
  const numeric = nNum === total && all.every((s) => Number.isSafeInteger(Number(s)));
  if (nNum === total && !numeric && task === undefined) {
    const p = isNum.findIndex((_, q) => parts[q].labels.some((s) => !Number.isSafeInteger(Number(s))));
    const i = parts[p].labels.findIndex((s) => !Number.isSafeInteger(Number(s)));
    throw new DataError(
      `csv: column "${labelColumn}" holds non-integer numbers (${parts[p].file}, line ${parts[p].lines[i]}: ${parts[p].labels[i]}): set dataset.task: regression for real-valued targets, or task: classification to make each distinct value a class`,
    );
  }
  let classes: number[];
  let class_names: string[];
  let classOfLabel: (s: string) => number;
  if (numeric) {
    classes = [...new Set(all.map(Number))].sort((p, q) => p - q);
    class_names = classes.map(String);
    classOfLabel = Number;
  } else {
    class_names = [...new Set(all)].sort();
    classes = class_names.map((_, i) => i);
    const index = new Map(class_names.map((s, i) => [s, i]));
    classOfLabel = (s) => index.get(s)!;
  }
  if (classes.length < 2) {
    throw new DataError(
      `csv: ${[...new Set([train.file, test.file])].join(' and ')}: column "${labelColumn}" has ${classes.length} distinct label(s) (${class_names.join(', ')}); need at least 2 classes (or task: regression)`,
    );
  }
  const part = (r: RawPart): CsvPart => ({ n: r.n, x: r.x, classOf: Int32Array.from(r.labels, classOfLabel), file: r.file, lines: r.lines });
  return { task: 'classification', classes, class_names, train: part(train), test: part(test) };
}

function checkDigest(data: CsvData, expected: string | undefined): CsvData {
  if (expected !== undefined && expected !== data.sha256) {
    throw new DataError(
      `csv: ${data.files.join(' and ')} changed since the grid point was registered (SHA-256 ${data.sha256.slice(0, 12)}…, expected ${expected.slice(0, 12)}…); ` +
        'run the spec again to register the new data, or restore the file',
    );
  }
  return data;
}

/** Absolute file paths for the layout of `src` ([single] or [train, test]). */
function csvFiles(src: CsvSource): string[] {
  const given = (v: unknown) => v !== undefined;
  for (const k of ['path', 'train_path', 'test_path'] as const) {
    if (given(src[k]) && (typeof src[k] !== 'string' || src[k] === '')) throw new DataError(`csv: ${k} must be a non-empty string`);
  }
  if (given(src.path)) {
    if (given(src.train_path) || given(src.test_path)) {
      throw new DataError('csv: give either path (one file with a "split" column) or train_path + test_path, not both');
    }
    return [resolve(src.path!)];
  }
  if (given(src.train_path) && given(src.test_path)) return [resolve(src.train_path!), resolve(src.test_path!)];
  if (given(src.train_path) || given(src.test_path)) {
    throw new DataError(`csv: ${given(src.train_path) ? 'train_path' : 'test_path'} given without ${given(src.train_path) ? 'test_path' : 'train_path'}; give both, or one file as path`);
  }
  throw new DataError('csv: no file given; set path (one file with a "split" column) or train_path + test_path');
}

/**
 * Parse one file. `role = null`: single-file layout (split column required); `'train'`/`'test'`:
 * the whole file is that part. `expectFeatures`: feature names the file must have (any order).
 */
function readTable(
  file: string, labelColumn: string, role: 'train' | 'test' | null, expectFeatures?: string[],
): { featureNames: string[]; train: RawPart; test: RawPart } {
  const records = parseRecords(file);
  const { header, labelIdx, splitIdx, featureNames } = tableColumns(file, records[0], labelColumn, role, expectFeatures);
  const d = featureNames.length;
  const featIdx = featureNames.map((f) => header.indexOf(f));
  const rows = records.length - 1;
  const x = new Float64Array(rows * d);
  const partOf = new Uint8Array(rows); // 0 train, 1 test
  const labels: string[] = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    const { record, info } = records[r + 1];
    const where = `csv: ${file}, line ${info.lines}`;
    const label = record[labelIdx];
    if (label === '') throw new DataError(`${where}, column "${labelColumn}": empty label`);
    labels[r] = label;
    if (splitIdx >= 0) {
      const s = record[splitIdx].toLowerCase();
      if (s !== 'train' && s !== 'test') {
        throw new DataError(`${where}, column "${SPLIT_COLUMN}": value "${record[splitIdx]}" is neither train nor test`);
      }
      if (role !== null && s !== role) {
        throw new DataError(`${where}, column "${SPLIT_COLUMN}": value "${record[splitIdx]}" in the ${role} file (${role}_path); every row there must be ${role}`);
      }
      partOf[r] = s === 'train' ? 0 : 1;
    } else {
      partOf[r] = role === 'test' ? 1 : 0;
    }
    for (let j = 0; j < d; j++) {
      const s = record[featIdx[j]];
      const v = NUMBER_RE.test(s) ? Number(s) : NaN;
      if (!Number.isFinite(v)) {
        throw new DataError(`${where}, column "${featureNames[j]}": ${s === '' ? 'empty value' : `value "${s}" is not a finite number`}`);
      }
      x[r * d + j] = v;
    }
  }
  const pick = (which: number): RawPart => {
    const idx: number[] = [];
    for (let r = 0; r < rows; r++) if (partOf[r] === which) idx.push(r);
    const px = new Float64Array(idx.length * d);
    idx.forEach((r, i) => px.set(x.subarray(r * d, (r + 1) * d), i * d));
    return { n: idx.length, x: px, labels: idx.map((r) => labels[r]), file, lines: Int32Array.from(idx, (r) => records[r + 1].info.lines) };
  };
  return { featureNames, train: pick(0), test: pick(1) };
}

/** The csv records of `file` (header first), each with its line number. @throws DataError if unreadable, malformed or empty. */
function parseRecords(file: string): CsvRecord[] {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (e) {
    throw new DataError(`csv: cannot read file ${file}: ${(e as Error).message}`);
  }
  let records: CsvRecord[];
  try {
    records = parse(text, { info: true, skip_empty_lines: true, trim: true, bom: true }) as unknown as CsvRecord[];
  } catch (e) {
    throw new DataError(`csv: ${file}: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new DataError(`csv: ${file} is empty; expected a header line and data rows`);
  return records;
}

type CsvRecord = { record: string[]; info: { lines: number } };

/**
 * The columns of a header: label and split positions (split -1 when absent) and the feature
 * names (`expectFeatures`, in that order, when given and matched).
 * @throws DataError for empty or duplicate names, a missing label or split column, no feature
 *   column, or features that differ from `expectFeatures`.
 */
function tableColumns(
  file: string, first: CsvRecord, labelColumn: string, role: 'train' | 'test' | null, expectFeatures?: string[],
): { header: string[]; labelIdx: number; splitIdx: number; featureNames: string[] } {
  const header = first.record;
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name === '') throw new DataError(`csv: ${file}, line ${first.info.lines}: column ${i + 1} has an empty name`);
    if (seen.has(name)) throw new DataError(`csv: ${file}, line ${first.info.lines}: duplicate column name "${name}"`);
    seen.add(name);
  });
  const labelIdx = header.indexOf(labelColumn);
  if (labelIdx < 0) {
    throw new DataError(`csv: ${file} has no label column "${labelColumn}" (columns: ${header.join(', ')}); set label_column`);
  }
  const splitIdx = header.indexOf(SPLIT_COLUMN);
  if (role === null && splitIdx < 0) {
    throw new DataError(`csv: ${file} has no "${SPLIT_COLUMN}" column; a single csv file (path) needs one with values train/test, or use train_path + test_path`);
  }
  const featureNames = header.filter((_, i) => i !== labelIdx && i !== splitIdx);
  if (featureNames.length === 0) throw new DataError(`csv: ${file} has no feature columns (only "${labelColumn}"${splitIdx >= 0 ? ` and "${SPLIT_COLUMN}"` : ''})`);
  if (!expectFeatures) return { header, labelIdx, splitIdx, featureNames };
  const missing = expectFeatures.filter((f) => !featureNames.includes(f));
  const extra = featureNames.filter((f) => !expectFeatures.includes(f));
  if (missing.length > 0 || extra.length > 0) {
    throw new DataError(
      `csv: ${file} feature columns differ from the train file's:` +
        (missing.length ? ` missing ${missing.map((s) => `"${s}"`).join(', ')}` : '') +
        (extra.length ? `${missing.length ? ';' : ''} extra ${extra.map((s) => `"${s}"`).join(', ')}` : ''),
    );
  }
  return { header, labelIdx, splitIdx, featureNames: expectFeatures };
}

/** The csv location fields of params: where the files are, not what they hold. */
const LOCATION = ['path', 'train_path', 'test_path'] as const;

/**
 * A function that points csv params at the files of `current` (params of the spec being run)
 * when they hold the same data (equal `data_sha256`); other params are returned unchanged. A grid
 * point registered from another folder keeps its identity and reads this machine's copy.
 */
export function relocateCsv(current: Record<string, unknown>): (params: Record<string, unknown>) => Record<string, unknown> {
  return (params) => {
    if (params.dataset !== 'csv' || params.data_sha256 !== current.data_sha256) return params;
    const out = { ...params };
    for (const k of LOCATION) {
      if (current[k] === undefined) delete out[k];
      else out[k] = current[k];
    }
    return out;
  };
}
