/**
 * Which rows of a csv part a grid point uses: its rows of the chosen classes (every row for
 * regression), in a seeded order whose first `n` are taken (docs/conventions.md §14). Shared by
 * the loader and by the checks made when the data is resolved, so both see the same points.
 */
import type { CsvData, CsvPart } from './csv.js';
import { makeRng } from '../util/rng.js';
import { selectPrefix } from './select.js';

/**
 * Row indices into `part` (`[n]`, in selection order) of the `n` points of part `name`.
 * @throws DataError (from the selection) when the part has fewer than `n` such rows.
 */
export function csvSelectedRows(csv: CsvData, part: CsvPart, name: 'train' | 'test', n: number, dataSeed: number, classesSorted: number[]): number[] {
  const regression = csv.task === 'regression';
  const inSet = new Set(classesSorted);
  const rows: number[] = [];
  for (let i = 0; i < part.n; i++) if (regression || inSet.has(part.classOf[i])) rows.push(i);
  const rng = makeRng({ purpose: 'data-split', dataset: 'csv', part: name, data_seed: dataSeed, classes: classesSorted });
  const pick = selectPrefix(rows.length, n, rng);
  return Array.from(pick, (p) => rows[p]);
}
