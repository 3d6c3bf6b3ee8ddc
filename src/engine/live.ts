/**
 * The grid points a coordinator holds right now (claimed and not yet written back): what each
 * has reported so far (metric rows not yet written, its end, its progress fraction). The
 * heartbeat renews their leases; the progress display reads their fractions.
 */
import type { MetricRow, TaskEnd, TaskInput } from '../tasks/types.js';

/** One held grid point. */
export interface LivePoint {
  task: TaskInput;
  /** Metric rows received and not yet handed over to be written. */
  rows: MetricRow[];
  /** Its end, once reported (then its rows go with the finish). */
  ended: TaskEnd | null;
  /** Completed fraction in [0, 1] as last reported. */
  fraction: number;
}

export class LivePoints {
  private readonly points = new Map<string, LivePoint>();

  /** Hold `tasks` (just claimed). */
  add(tasks: TaskInput[]): void {
    for (const t of tasks) this.points.set(t.id, { task: t, rows: [], ended: null, fraction: 0 });
  }

  /** The held point `id`, if it is still running (not ended, not released). */
  open(id: string): LivePoint | undefined {
    const l = this.points.get(id);
    return l && !l.ended ? l : undefined;
  }

  /** Whether `id` is held and has ended. */
  ended(id: string): boolean {
    return !!this.points.get(id)?.ended;
  }

  /**
   * Stop holding `tasks` (written back or released). Only these very claims: a point released by
   * one job may already be held again by a later claim, which stays.
   */
  remove(tasks: TaskInput[]): void {
    for (const t of tasks) if (this.points.get(t.id)?.task === t) this.points.delete(t.id);
  }

  /** Ids of every held point (for lease renewal). */
  ids(): string[] {
    return [...this.points.keys()];
  }

  /** The unwritten metric rows of the still-running points among `tasks`, handed over (emptied here). */
  takeRows(tasks: TaskInput[]): { taskId: string; rows: MetricRow[] }[] {
    const out: { taskId: string; rows: MetricRow[] }[] = [];
    for (const t of tasks) {
      const l = this.open(t.id);
      if (l && l.rows.length > 0) out.push({ taskId: t.id, rows: l.rows.splice(0) });
    }
    return out;
  }

  /** Summed completed fraction of the running points: makes rate and ETA smooth on long points. */
  partial(): number {
    let sum = 0;
    for (const l of this.points.values()) if (!l.ended) sum += Math.min(1, Math.max(0, l.fraction));
    return sum;
  }

  /** Progress note: the fractions of up to four running points, e.g. `| running points at 40% 7%`. */
  note(): string {
    const parts: string[] = [];
    for (const l of this.points.values()) {
      if (!l.ended && l.fraction > 0) parts.push(`${Math.round(100 * l.fraction)}%`);
      if (parts.length === 4) break;
    }
    return parts.length ? `| running points at ${parts.join(' ')}` : '';
  }
}
