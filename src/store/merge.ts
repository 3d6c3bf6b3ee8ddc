/**
 * Copying finished grid points between stores (what `ntk-sweep merge` does): reading them from a
 * source ({@link readFinished}) and writing them into a target ({@link importPoints}) over the
 * protocol's dialect. Task ids are content hashes, so a point means the same computation in both
 * stores: the target keeps what it has finished, takes what it lacks, and reports (never
 * overwrites) a point finished with other values.
 */
import type { MetricRow } from '../tasks/types.js';
import { decodeParams, encodeParams } from '../util/json.js';
import { inChunks, insertRows, marks, type Dialect, type SqlConn } from './sql.js';
import type { FinishedPoint, ImportOptions, ImportOutcome, SweepRecord } from './store.js';
import { recordSweep } from './sweep-rows.js';

/** What the protocol lends the import: metric rows (with `results` columns) and the audit trail. */
export interface MergeHooks {
  insertMetrics(c: SqlConn, batch: { taskId: string; rows: MetricRow[] }[]): Promise<void>;
  log(c: SqlConn, rows: [string, string | null, 'done' | 'diverged', string | null][]): Promise<void>;
}

type TaskRow = {
  id: string;
  kind: string;
  params: string;
  batch_key: string;
  batch_order: number;
  cost: number;
  status: string;
  attempts: number;
  error: string | null;
  diverged_step: number | null;
  started_at: number | null;
  finished_at: number | null;
  duration_s: number | null;
  run_info: string | null;
};

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Metric rows of `ids`, by task id (inside `c`). */
async function metricsOf(c: SqlConn, ids: string[]): Promise<Map<string, FinishedPoint['metrics']>> {
  const out = new Map<string, FinishedPoint['metrics']>();
  await inChunks(ids, async (chunk) => {
    const rows = await c.all<{ task_id: string; step: number; name: string; value: number | null }>(
      `SELECT task_id, step, name, value FROM metrics WHERE task_id IN (${marks(chunk)}) ORDER BY task_id, name, step`,
      chunk,
    );
    for (const r of rows) {
      let m = out.get(r.task_id);
      if (!m) out.set(r.task_id, (m = []));
      m.push({ step: Number(r.step), name: r.name, value: num(r.value) });
    }
  });
  return out;
}

/** Finished points of the store behind `c`, in id order after `after`, at most `limit`. */
export async function readFinished(c: SqlConn, after: string | undefined, limit: number): Promise<FinishedPoint[]> {
  const tasks = await c.all<TaskRow>(
    `SELECT id, kind, params, batch_key, batch_order, cost, status, attempts, error, diverged_step, started_at, finished_at, duration_s, run_info
     FROM tasks WHERE status IN ('done', 'diverged')${after === undefined ? '' : ' AND id > ?'} ORDER BY id LIMIT ?`,
    after === undefined ? [limit] : [after, limit],
  );
  const ids = tasks.map((t) => t.id);
  const sweeps = new Map<string, string[]>();
  const owners = new Map<string, string | null>();
  await inChunks(ids, async (chunk) => {
    for (const r of await c.all<{ sweep: string; task_id: string }>(`SELECT sweep, task_id FROM sweep_tasks WHERE task_id IN (${marks(chunk)}) ORDER BY sweep`, chunk)) {
      sweeps.set(r.task_id, [...(sweeps.get(r.task_id) ?? []), r.sweep]);
    }
    const ends = await c.all<{ task_id: string; owner: string | null }>(
      `SELECT task_id, owner FROM task_log WHERE task_id IN (${marks(chunk)}) AND event IN ('done', 'diverged') ORDER BY id`,
      chunk,
    );
    for (const r of ends) owners.set(r.task_id, r.owner);
  });
  const metrics = await metricsOf(c, ids);
  return tasks.map((t) => ({
    id: t.id,
    kind: t.kind,
    params: encodeParams(decodeParams(t.params)),
    batchKey: t.batch_key,
    batchOrder: Number(t.batch_order),
    cost: Number(t.cost),
    status: t.status as FinishedPoint['status'],
    attempts: Number(t.attempts),
    error: t.error,
    divergedStep: num(t.diverged_step),
    startedAt: num(t.started_at),
    finishedAt: num(t.finished_at),
    durationS: num(t.duration_s),
    runInfo: t.run_info,
    sweeps: sweeps.get(t.id) ?? [],
    metrics: metrics.get(t.id) ?? [],
    owner: owners.get(t.id) ?? null,
  }));
}

/** The first difference between two finished results of one task id, or null when they are identical. */
export function firstDifference(
  mine: { kind: string; status: string; divergedStep: number | null; metrics: FinishedPoint['metrics'] },
  theirs: FinishedPoint,
): string | null {
  if (mine.kind !== theirs.kind) return `kind ${theirs.kind} here, ${mine.kind} in the target`;
  if (mine.status !== theirs.status) return `status ${theirs.status} here, ${mine.status} in the target`;
  if (mine.divergedStep !== theirs.divergedStep) return `diverged at step ${theirs.divergedStep} here, ${mine.divergedStep} in the target`;
  const key = (m: { step: number; name: string }) => `${m.name}@${m.step}`;
  const target = new Map(mine.metrics.map((m) => [key(m), m.value]));
  for (const m of theirs.metrics) {
    if (!target.has(key(m))) return `metric ${key(m)} missing in the target`;
    const v = target.get(key(m)) ?? null;
    if (!Object.is(v, m.value)) return `metric ${key(m)}: ${m.value} here, ${v} in the target`;
  }
  if (target.size !== theirs.metrics.length) return `the target has ${target.size - theirs.metrics.length} more metric row(s)`;
  return null;
}

/** Create the sweeps of `points` that the target lacks; returns the kind of every sweep they name. */
async function ensureSweeps(d: Dialect, c: SqlConn, points: FinishedPoint[], sweeps: SweepRecord[], dryRun: boolean): Promise<Map<string, string>> {
  const names = [...new Set(points.flatMap((p) => p.sweeps))].sort();
  const kinds = new Map<string, string>();
  if (names.length === 0) return kinds;
  for (const r of await c.all<{ name: string; kind: string }>(`SELECT name, kind FROM sweeps WHERE name IN (${marks(names)})`, names)) kinds.set(r.name, r.kind);
  for (const s of sweeps.filter((x) => names.includes(x.name))) {
    // the source's spec joins the sweep's spec history; the target's current spec stays
    if (!dryRun) await recordSweep(c, d.nowMs, s, !kinds.has(s.name));
    if (!kinds.has(s.name)) kinds.set(s.name, s.kind);
  }
  return kinds;
}

/** The point's task row written over an unfinished target row, or inserted; its metrics replace any partial ones. */
async function writePoint(d: Dialect, c: SqlConn, p: FinishedPoint, exists: boolean, hooks: MergeHooks): Promise<void> {
  const t = d.types;
  const values = [p.status, p.error, p.divergedStep, p.attempts, p.startedAt, p.finishedAt, p.durationS, p.runInfo];
  if (exists) {
    await c.run(
      `UPDATE tasks SET status = ?, error = ?, diverged_step = CAST(? AS ${t.int}), attempts = ?, started_at = CAST(? AS ${t.int}), finished_at = CAST(? AS ${t.int}),
         duration_s = CAST(? AS ${t.real}), run_info = CAST(? AS ${t.json}), lease_owner = NULL, lease_expires = NULL WHERE id = ?`,
      [...values, p.id],
    );
    for (const table of ['metrics', 'final_metrics', 'checkpoints']) await c.run(`DELETE FROM ${table} WHERE task_id = ?`, [p.id]);
  } else {
    await c.run(
      `INSERT INTO tasks (id, kind, params, batch_key, batch_order, cost, created_at, status, error, diverged_step, attempts, started_at, finished_at, duration_s, run_info)
       VALUES (?, ?, CAST(? AS ${t.json}), ?, ?, ?, ${d.nowMs}, ?, ?, CAST(? AS ${t.int}), ?, CAST(? AS ${t.int}), CAST(? AS ${t.int}), CAST(? AS ${t.real}), CAST(? AS ${t.json}))`,
      [p.id, p.kind, p.params, p.batchKey, p.batchOrder, p.cost, ...values],
    );
  }
  await hooks.insertMetrics(c, [{ taskId: p.id, rows: p.metrics.map((m) => ({ step: m.step, name: m.name, value: m.value ?? NaN })) }]);
}

/**
 * Import finished points into the store behind `c` (inside the caller's transaction), as
 * `Store.importFinished` describes. Rows the decision depends on are locked first.
 */
export async function importPoints(d: Dialect, c: SqlConn, points: FinishedPoint[], sweeps: SweepRecord[], opts: ImportOptions, hooks: MergeHooks): Promise<ImportOutcome[]> {
  const dryRun = opts.dryRun ?? false;
  const ids = [...new Set(points.map((p) => p.id))].sort();
  const have = new Map<string, { kind: string; status: string; diverged_step: number | null; lease_owner: string | null }>();
  await inChunks(ids, async (chunk) => {
    const rows = await c.all<{ id: string; kind: string; status: string; diverged_step: number | null; lease_owner: string | null }>(
      `SELECT id, kind, status, diverged_step, lease_owner FROM tasks WHERE id IN (${marks(chunk)}) ORDER BY id${d.rowLocks ? ' FOR UPDATE' : ''}`,
      chunk,
    );
    for (const r of rows) have.set(r.id, r);
  });
  const finishedHere = ids.filter((id) => have.get(id)?.status === 'done' || have.get(id)?.status === 'diverged');
  const targetMetrics = await metricsOf(c, finishedHere);
  const kinds = await ensureSweeps(d, c, points, sweeps, dryRun);
  const members = new Set<string>();
  await inChunks(ids, async (chunk) => {
    for (const r of await c.all<{ sweep: string; task_id: string }>(`SELECT sweep, task_id FROM sweep_tasks WHERE task_id IN (${marks(chunk)})`, chunk)) members.add(`${r.sweep}\0${r.task_id}`);
  });
  const out: ImportOutcome[] = [];
  const attach: [string, string][] = [];
  const logs: [string, string | null, 'done' | 'diverged', string | null][] = [];
  for (const p of points) {
    const cur = have.get(p.id);
    const wrongKind = p.sweeps.find((s) => kinds.has(s) && kinds.get(s) !== p.kind);
    let reason: string | null = wrongKind ? `sweep ${wrongKind} is of kind ${kinds.get(wrongKind)} in the target, this point of kind ${p.kind}` : null;
    const finished = cur && (cur.status === 'done' || cur.status === 'diverged');
    if (!reason && cur && finished) {
      reason = firstDifference({ kind: cur.kind, status: cur.status, divergedStep: num(cur.diverged_step), metrics: targetMetrics.get(p.id) ?? [] }, p);
    } else if (!reason && cur && cur.kind !== p.kind) reason = `kind ${p.kind} here, ${cur.kind} in the target`;
    if (reason) {
      out.push({ taskId: p.id, result: 'conflict', attached: 0, reason });
      continue;
    }
    if (!finished) {
      if (!dryRun) await writePoint(d, c, p, cur !== undefined, hooks);
      const held = cur?.status === 'running' ? `; it was running under ${cur.lease_owner ?? 'nobody'}, whose finish will be ignored` : '';
      logs.push([p.id, p.owner, p.status, `merged from ${opts.source}${held}`]);
      have.set(p.id, { kind: p.kind, status: p.status, diverged_step: p.divergedStep, lease_owner: null });
    }
    const fresh = p.sweeps.filter((s) => !members.has(`${s}\0${p.id}`));
    for (const s of fresh) {
      members.add(`${s}\0${p.id}`);
      attach.push([s, p.id]);
    }
    out.push({ taskId: p.id, result: finished ? 'same' : cur ? 'completed' : 'added', attached: fresh.length });
  }
  if (!dryRun) {
    await insertRows(c, 'INSERT INTO sweep_tasks (sweep, task_id) VALUES', attach, 'ON CONFLICT DO NOTHING');
    await hooks.log(c, logs);
  }
  return out;
}
