/**
 * Crash-safety checks over databases (used by `scripts/chaos.ts` and the fault-injection tests):
 * compare a sweep run under faults with a clean reference run, and audit the lease trail
 * (`task_log`) for grid points that were held by two executors at once or recorded twice.
 */
import { openStore } from '../../src/store/open.js';

/** Outcome of {@link compareSweep}. Every count is of grid points. */
export interface Comparison {
  /** Grid points of the reference sweep. */
  tasks: number;
  /** Missing from the faulted database, or not finished there (pending or running). */
  lost: number;
  /**
   * Recorded more than once: more than one accepted end (`done`/`diverged`) in the audit trail,
   * or a claim while another executor's claim was still open (two live leases).
   */
  duplicated: number;
  /** Finished in both, but with another status, attempt count, error, or any metric value. */
  mismatched: number;
  /** Grid points whose execution was interrupted at least once (released or reclaimed). */
  interrupted: number;
  /** Grid points that continued from a checkpoint at least once. */
  resumed_from_checkpoint: number;
  /** A few human-readable examples of problems (empty when all counts are 0). */
  examples: string[];
}

interface TaskRow {
  id: string;
  status: string;
  attempts: number;
  error: string | null;
  diverged_step: number | null;
}

async function readSweep(db: string, sweep: string): Promise<{
  tasks: Map<string, TaskRow>;
  metrics: Map<string, Map<string, number | null>>;
  finals: Map<string, Map<string, string>>;
  log: { task_id: string; owner: string | null; event: string; detail: string | null }[];
  dupMetricRows: number;
  staleCheckpoints: number;
}> {
  const s = await openStore(db, { readonly: true });
  try {
    const where = `task_id IN (SELECT task_id FROM sweep_tasks WHERE sweep = '${sweep.replace(/'/g, "''")}')`;
    const taskRows = (await s.query(
      `SELECT t.id, t.status, t.attempts, t.error, t.diverged_step FROM tasks t JOIN sweep_tasks s ON s.task_id = t.id WHERE s.sweep = '${sweep.replace(/'/g, "''")}'`,
    )) as unknown as TaskRow[];
    const tasks = new Map(taskRows.map((t) => [t.id, t]));
    const metrics = new Map<string, Map<string, number | null>>();
    for (const r of (await s.query(`SELECT task_id, name, step, value FROM metrics WHERE ${where}`)) as { task_id: string; name: string; step: number; value: number | null }[]) {
      let m = metrics.get(r.task_id);
      if (!m) metrics.set(r.task_id, (m = new Map()));
      m.set(`${r.name}@${r.step}`, r.value);
    }
    const finals = new Map<string, Map<string, string>>();
    for (const r of (await s.query(`SELECT task_id, name, step, value FROM final_metrics WHERE ${where}`)) as { task_id: string; name: string; step: number; value: number | null }[]) {
      let m = finals.get(r.task_id);
      if (!m) finals.set(r.task_id, (m = new Map()));
      m.set(r.name, `${r.step}:${r.value}`);
    }
    const log = (await s.query(`SELECT task_id, owner, event, detail FROM task_log WHERE ${where} ORDER BY id`)) as {
      task_id: string;
      owner: string | null;
      event: string;
      detail: string | null;
    }[];
    const dup = await s.query(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM metrics WHERE ${where} GROUP BY task_id, name, step HAVING COUNT(*) > 1)`);
    const stale = await s.query(
      `SELECT COUNT(*) AS n FROM checkpoints c JOIN tasks t ON t.id = c.task_id WHERE t.status IN ('done', 'diverged') AND c.${where}`,
    );
    return { tasks, metrics, finals, log, dupMetricRows: Number(dup[0]?.n ?? 0), staleCheckpoints: Number(stale[0]?.n ?? 0) };
  } finally {
    await s.close();
  }
}

/**
 * Audit one task's trail: returns the number of claims made while another executor's claim was
 * still open, and the number of accepted ends (`done`/`diverged`).
 */
export function auditTrail(events: { owner: string | null; event: string }[]): { overlaps: number; ends: number; interrupted: boolean } {
  let holder: string | null = null;
  let overlaps = 0;
  let ends = 0;
  let interrupted = false;
  for (const e of events) {
    if (e.event === 'claim') {
      if (holder !== null) overlaps++;
      holder = e.owner;
    } else if (e.event === 'done' || e.event === 'diverged') {
      ends++;
      holder = null;
    } else if (e.event === 'failed') {
      holder = null;
    } else if (e.event === 'released' || e.event === 'reclaimed') {
      interrupted = true;
      holder = null;
    }
  }
  return { overlaps, ends, interrupted };
}

function sameValues(a: Map<string, unknown> | undefined, b: Map<string, unknown> | undefined): string | null {
  const x = a ?? new Map();
  const y = b ?? new Map();
  if (x.size !== y.size) return `${x.size} vs ${y.size} values`;
  for (const [k, v] of x) {
    if (!y.has(k)) return `${k} missing`;
    if (!Object.is(v, y.get(k))) return `${k}: ${String(v)} vs ${String(y.get(k))}`;
  }
  return null;
}

/**
 * Compare sweep `sweep` in database `faulted` with the same sweep in `reference` (a clean run of
 * the same spec): every grid point must be finished exactly once with the same status, attempt
 * count, error text and metric values (the whole series, bit for bit).
 * @throws StoreError if a database cannot be read.
 */
export async function compareSweep(reference: string, faulted: string, sweep: string): Promise<Comparison> {
  const ref = await readSweep(reference, sweep);
  const got = await readSweep(faulted, sweep);
  const out: Comparison = { tasks: ref.tasks.size, lost: 0, duplicated: 0, mismatched: 0, interrupted: 0, resumed_from_checkpoint: 0, examples: [] };
  const example = (s: string): void => {
    if (out.examples.length < 10) out.examples.push(s);
  };
  const trails = new Map<string, { owner: string | null; event: string; detail: string | null }[]>();
  for (const e of got.log) {
    let t = trails.get(e.task_id);
    if (!t) trails.set(e.task_id, (t = []));
    t.push(e);
  }
  for (const [id, r] of ref.tasks) {
    const g = got.tasks.get(id);
    if (!g || g.status === 'pending' || g.status === 'running') {
      out.lost++;
      example(`lost ${id}: ${g ? g.status : 'missing'}`);
      continue;
    }
    const trail = trails.get(id) ?? [];
    const audit = auditTrail(trail);
    if (audit.interrupted) out.interrupted++;
    if (trail.some((e) => e.event === 'claim' && /from checkpoint/.test(e.detail ?? ''))) out.resumed_from_checkpoint++;
    if (audit.overlaps > 0 || audit.ends > 1) {
      out.duplicated++;
      example(`duplicated ${id}: ${audit.ends} accepted ends, ${audit.overlaps} overlapping claims`);
      continue;
    }
    const firstLine = (e: string | null): string => (e ?? '').split('\n')[0];
    const why =
      g.status !== r.status
        ? `status ${g.status} vs ${r.status}`
        : g.attempts !== r.attempts
          ? `attempts ${g.attempts} vs ${r.attempts}`
          : firstLine(g.error) !== firstLine(r.error)
            ? `error "${firstLine(g.error)}" vs "${firstLine(r.error)}"`
            : g.diverged_step !== r.diverged_step
              ? `diverged_step ${g.diverged_step} vs ${r.diverged_step}`
              : sameValues(got.metrics.get(id), ref.metrics.get(id)) ?? sameValues(got.finals.get(id), ref.finals.get(id));
    if (why) {
      out.mismatched++;
      example(`mismatched ${id}: ${why}`);
    }
  }
  if (got.dupMetricRows > 0) {
    out.duplicated += got.dupMetricRows;
    example(`${got.dupMetricRows} duplicated metric rows`);
  }
  if (got.staleCheckpoints > 0) {
    out.mismatched += got.staleCheckpoints;
    example(`${got.staleCheckpoints} checkpoints of finished grid points were not deleted`);
  }
  for (const id of got.tasks.keys()) {
    if (!ref.tasks.has(id)) {
      out.mismatched++;
      example(`extra grid point ${id} not in the reference`);
    }
  }
  return out;
}
