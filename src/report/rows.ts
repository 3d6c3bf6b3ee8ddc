/**
 * Reading a sweep's finished grid points for `report` and `slope`, through the typed
 * {@link Store.finishedRows} (the same on SQLite and PostgreSQL): one {@link PointRow} per grid
 * point with its final metrics, or (training curves) one per logged step.
 */
import type { Store } from '../store/store.js';
import type { PointRow } from './plan.js';

/**
 * The finished grid points of `sweep` (optionally filtered by a condition on `results` columns)
 * with their final metrics, or with `series` one row per logged step: params plus `step` and,
 * when the point has a learning rate, the training time `t = lr · step`.
 * @throws StoreError for a bad filter (see `explainFilterError`), or Error for a filter with `;`
 *   or a comment.
 */
export async function loadRows(store: Pick<Store, 'finishedRows'>, sweep: string, where: string | undefined, series: boolean): Promise<PointRow[]> {
  const { params, metrics } = await store.finishedRows(sweep, where, series);
  const rows = new Map<string, PointRow>();
  for (const m of metrics) {
    const p = params.get(m.taskId);
    if (!p) continue;
    const key = `${m.taskId}/${m.step}`;
    let row = rows.get(key);
    if (!row) {
      row = { params: series ? { ...p, step: m.step, ...(typeof p.lr === 'number' ? { t: p.lr * m.step } : {}) } : p, metrics: {} };
      rows.set(key, row);
    }
    row.metrics[m.name] = m.value;
  }
  // grid points without any metric still count (they are drawn as missing values)
  if (!series) for (const [id, p] of params) if (!rows.has(`${id}/0`)) rows.set(`${id}/0`, { params: p, metrics: {} });
  return [...rows.values()];
}
