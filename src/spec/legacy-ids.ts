/**
 * Databases written before csv data was identified by content hold csv grid points whose id
 * includes the file path. {@link migrateCsvIds} gives them their content-based id, so that a
 * resumed sweep finds its finished points instead of computing them again next to the old rows.
 */
import type { Store } from '../store/store.js';
import { decodeParams } from '../util/json.js';
import { legacyTaskId, taskId } from './expand.js';

const RANK: Record<string, number> = { done: 0, diverged: 1, running: 2, failed: 3, pending: 4 };

/**
 * Re-identify every csv task of the database whose id is still path-based. When two old points
 * map to one new id (the same data at two paths), the most finished one keeps it.
 * @returns how many tasks were re-identified.
 * @throws StoreError on a storage fault (nothing is changed then).
 */
export async function migrateCsvIds(store: Store): Promise<number> {
  const rows = (await store.query(`SELECT id, kind, status, params FROM tasks t WHERE ${store.paramSql('t', 'dataset', 'text')} = 'csv'`)) as {
    id: string;
    kind: string;
    status: string;
    params: string;
  }[];
  const pairs: { from: string; to: string; rank: number }[] = [];
  for (const r of rows) {
    const params = decodeParams(r.params);
    const to = taskId(r.kind, params);
    if (to !== r.id && legacyTaskId(r.kind, params) === r.id) pairs.push({ from: r.id, to, rank: RANK[r.status] ?? 5 });
  }
  pairs.sort((a, b) => a.rank - b.rank);
  return store.rekeyTasks(pairs);
}
