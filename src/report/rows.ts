/**
 * Reading a sweep's finished grid points for `report`, from the read-only store: one
 * {@link PointRow} per grid point with its final metrics, or (training curves) one per logged
 * step.
 */
import { finishedPointsSql } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { decodeParams } from '../util/json.js';
import type { PointRow } from './plan.js';

/**
 * The finished grid points of `sweep` (optionally filtered by a condition on `results` columns)
 * with their final metrics, or with `series` one row per logged step: params plus `step` and,
 * when the point has a learning rate, the training time `t = lr · step`.
 * @throws Error from SQLite for a bad filter (see `explainFilterError`), or from
 *   `finishedPointsSql` for a filter with `;` or a comment.
 */
export async function loadRows(store: Pick<Store, 'query'>, sweep: string, where: string | undefined, series: boolean): Promise<PointRow[]> {
  const scope = `SELECT task_id FROM ${finishedPointsSql(sweep, where)}`;
  const tasks = await store.query(`SELECT id, params FROM tasks WHERE id IN (${scope}) ORDER BY id`);
  const metrics = await store.query(`SELECT task_id, ${series ? 'step' : '0 AS step'}, name, value FROM ${series ? 'metrics' : 'final_metrics'} WHERE task_id IN (${scope})`);
  const params = new Map(tasks.map((t) => [String(t.id), decodeParams(String(t.params))]));
  const rows = new Map<string, PointRow>();
  for (const m of metrics) {
    const p = params.get(String(m.task_id));
    if (!p) continue;
    const step = Number(m.step);
    const key = `${String(m.task_id)}/${step}`;
    let row = rows.get(key);
    if (!row) {
      row = { params: series ? { ...p, step, ...(typeof p.lr === 'number' ? { t: p.lr * step } : {}) } : p, metrics: {} };
      rows.set(key, row);
    }
    row.metrics[String(m.name)] = m.value === null ? null : Number(m.value);
  }
  // grid points without any metric still count (they are drawn as missing values)
  if (!series) for (const [id, p] of params) if (!rows.has(`${id}/0`)) rows.set(`${id}/0`, { params: p, metrics: {} });
  return [...rows.values()];
}

