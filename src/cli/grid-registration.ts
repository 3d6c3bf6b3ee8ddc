/**
 * Big grids for `run`: the grid size is checked before anything is expanded, the grid is read
 * twice as a stream (once to check it, once to register it) so memory stays bounded whatever
 * its size, and registration shows a progress line. Between chunks the event loop runs, so a
 * Ctrl-C ends the process within a chunk's time; registration is one transaction, so the
 * database then holds no trace of it.
 */
import { expandTasks, taskChunks } from '../spec/expand.js';
import { DATA_PARAMS } from '../spec/shared-params.js';
import type { SweepSpec } from '../spec/spec.js';
import type { NewTask } from '../store/store.js';
import { kindOf } from '../tasks/registry.js';
import type { Params } from '../tasks/types.js';
import { encodeParams } from '../util/json.js';

/** What `run` needs to know of a grid before registering it. */
export interface GridScan {
  /** Tasks expanded (repeats included). */
  count: number;
  /** Params of the first task (csv location and digest), if any. */
  first: Params | undefined;
  /** Distinct data selections (the data params of the tasks), keyed by their canonical JSON. */
  data: Map<string, Params>;
  /** Distinct (batch key, batch order) units: how finely the work can be split. */
  units: number;
  /** The expanded tasks, kept for registration when the grid is small enough ({@link KEEP_TASKS}). */
  tasks?: NewTask[];
}

/** Grids up to this many points keep their expanded tasks from the scan, so registration does not expand them again. */
const KEEP_TASKS = 50_000;

/**
 * Expand the grid as a stream and collect {@link GridScan}.
 * @throws SpecError from the expansion (derived values that fail validation, unreadable csv).
 */
export async function scanGrid(spec: SweepSpec, specDir: string): Promise<GridScan> {
  const scan: GridScan = { count: 0, first: undefined, data: new Map(), units: 0 };
  let kept: NewTask[] | undefined = [];
  const units = new Set<string>();
  const needsData = kindOf(spec.kind).needsData;
  for await (const chunk of taskChunks(expandTasks(spec, specDir))) {
    for (const t of chunk) {
      scan.first ??= t.params;
      scan.count++;
      if (kept && kept.push(t) > KEEP_TASKS) kept = undefined;
      units.add(`${t.batchKey}|${t.batchOrder}`);
      if (!needsData) continue;
      const dp = Object.fromEntries(Object.entries(t.params).filter(([k]) => Object.hasOwn(DATA_PARAMS, k)));
      const key = encodeParams(dp);
      if (!scan.data.has(key)) scan.data.set(key, dp);
    }
  }
  scan.units = units.size;
  scan.tasks = kept;
  return scan;
}

/** Grid sizes from which registration prints a progress line. */
const PROGRESS_FROM = 20_000;

/**
 * The grid's tasks as chunks for `Store.registerSweep`, with a progress line on stderr
 * (`registering grid points: 120,000 / 1,000,000`) for grids of {@link PROGRESS_FROM} points or more.
 * `expanded`: the tasks of the scan ({@link GridScan.tasks}), if it kept them.
 */
export async function* registrationChunks(spec: SweepSpec, specDir: string, total: number, quiet: boolean, expanded?: NewTask[]): AsyncGenerator<NewTask[]> {
  const show = !quiet && total >= PROGRESS_FROM;
  const tty = process.stderr.isTTY;
  const fmt = (n: number) => n.toLocaleString('en-US');
  let done = 0;
  let last = 0;
  if (show) process.stderr.write(`registering grid points: 0 / ${fmt(total)}${tty ? '' : '\n'}`);
  for await (const chunk of taskChunks(expanded ?? expandTasks(spec, specDir))) {
    yield chunk;
    done += chunk.length;
    if (show && tty && Date.now() - last > 200) {
      last = Date.now();
      process.stderr.write(`\rregistering grid points: ${fmt(done)} / ${fmt(total)}`);
    }
  }
  if (show) process.stderr.write(`${tty ? '\r' : ''}registering grid points: ${fmt(done)} / ${fmt(total)}, committing\n`);
}
