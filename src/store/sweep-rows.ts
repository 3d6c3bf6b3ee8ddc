/**
 * The rows that describe a sweep, written the same way by registration (`protocol.ts`) and by
 * `merge` (`merge.ts`): the `sweeps` row and the sweep's spec history in `sweep_specs`.
 */
import type { SqlConn } from './sql.js';
import type { SweepRecord } from './store.js';

/**
 * Inside the caller's transaction: create the `sweeps` row of `sweep` when `create` (a row that
 * exists meanwhile is left as it is), and add its spec to the sweep's spec history (once per
 * spec hash).
 * @param nowMs SQL of the database clock (`Dialect.nowMs`).
 */
export async function recordSweep(c: SqlConn, nowMs: string, sweep: SweepRecord, create: boolean): Promise<void> {
  if (create) {
    await c.run(`INSERT INTO sweeps (name, kind, spec_json, spec_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ${nowMs}, ${nowMs}) ON CONFLICT DO NOTHING`, [
      sweep.name,
      sweep.kind,
      sweep.specJson,
      sweep.specHash,
    ]);
  }
  await c.run(`INSERT INTO sweep_specs (sweep, spec_hash, spec_json, first_seen) VALUES (?, ?, ?, ${nowMs}) ON CONFLICT DO NOTHING`, [sweep.name, sweep.specHash, sweep.specJson]);
}
