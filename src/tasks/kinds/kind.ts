/**
 * What a task kind is (docs/architecture.md §8): everything the spec checker, the grid expansion,
 * the coordinator, the worker threads and `report` need to know about one kind, in one
 * descriptor. Each kind is one file in this folder that exports a {@link TaskKind}; the registry
 * (`tasks/registry.ts`) lists them. The task code itself is named, not imported (`taskCode`):
 * a worker thread imports it on the first job of the kind (`loadRunner` in the registry), so the
 * main thread, which only plans and persists, never loads the numerical code, and the task code
 * may import its kind's descriptor (its typed params) without an import cycle.
 */
import type { ParamDefs } from '../../spec/param-def.js';
import type { SharedParamGroup } from '../../spec/shared-params.js';
import type { Params, TaskContext, TaskInput } from '../types.js';

/** Runs every grid point of a job at once, sharing work between them (a kernel batch). */
export type BatchRunner = (tasks: TaskInput[], ctx: TaskContext) => Promise<void>;
/** Runs one grid point; a job of such points runs them one after the other. */
export type PointRunner = (task: TaskInput, ctx: TaskContext) => Promise<void>;

/** Default chart layout of `report` for a kind (docs/conventions.md §1 for the headline metrics). */
export interface ReportDefaults {
  /** Headline metrics in display order; `report` draws those present. */
  metrics: string[];
  /** Preferred x axes, best first; otherwise the grid axis with the most values. */
  x: string[];
  /** Tie-break for the color (line) axis between axes with as many values: these first. */
  color: string[];
}

interface KindBase<P> {
  /** The `kind:` of a sweep spec. */
  readonly name: string;
  /** One line for `ntk-sweep params` and the docs. */
  readonly doc: string;
  /**
   * Code version, part of every task id of the kind (docs/conventions.md §12): bump it when a
   * change alters the numbers the kind produces, so old results are not mixed with new ones.
   */
  readonly version: number;
  /**
   * Shared param groups the kind takes (`spec/shared-params.ts`): `data` (the dataset block),
   * `network` (depth, σ_w, σ_b, activation, t).
   */
  readonly sharedParams: readonly SharedParamGroup[];
  /**
   * The kind's own params: meaning, schema, default (`spec/param-def.ts`), in the order
   * `ntk-sweep params` lists them. A name may not be a shared param's, nor another kind's
   * unless both use the same definition object.
   */
  readonly params: ParamDefs;
  /** Params that must be set (dataset block, fixed, grid or derived) unless they have a default. */
  readonly required: readonly string[];
  /**
   * The typed params of one point (`spec/params.ts` `parseParams`): `read` holds every param of
   * the kind that is set or has a default, each checked against its definition, and the data
   * selection as `data` when the kind takes the data group; `raw` is the point's params as
   * stored. Applies the kind's rules across params. Absent: `read` as is.
   * @throws RangeError naming the param and what is expected.
   */
  readonly typedParams?: (read: Params, raw: Params) => P;
  /**
   * Problems of a whole spec of this kind that no single value shows (e.g. an activation
   * without an NTK with `kernel: ntk`); `values(key)` lists every value a param takes in the
   * spec (fixed, grid, or its default). Each problem names the param.
   */
  specProblems?(values: (key: string) => unknown[]): string[];
  /** Whether its grid points read a dataset (checked before registering a sweep). */
  readonly needsData: boolean;
  /**
   * Shared work (docs/architecture.md §4): grid points that differ only in `perPoint` params
   * form one batch (their batch key hashes the other params), split by the numeric param
   * `order` when a batch is divided between threads. Absent: independent points.
   */
  readonly sharedWork?: { readonly perPoint: readonly string[]; readonly order: string };
  /**
   * Intermediate metric rows (training curves) are written this often, in ms, while a point
   * runs; absent: a point's rows are written with its end.
   */
  readonly metricsFlushMs?: number;
  readonly report: ReportDefaults;
  /** Estimated run time of one grid point in seconds (claim order, chunk sizes); 0 if unknown. */
  cost(params: Params): number;
  /**
   * Estimated peak bytes of a job running this point on backend `backendName` (memory budget,
   * `tasks/memory.ts`); a job holds the largest of its points. `batch` is the whole job (a
   * kernel batch with several depths keeps more buffers alive than one with a single depth).
   */
  memoryBytes(params: Params, backendName: string, batch: readonly Params[]): number;
  /**
   * Kind rules applied to each expanded grid point (may fill in params, e.g. `t = lr·steps`);
   * returns the problems found, each naming the param.
   */
  complete?(params: Params): string[];
  /**
   * Where the task code is: the URL of an ES module (`new URL('../<kind>.js', import.meta.url)`)
   * and the name of the function it exports, a {@link BatchRunner} for `execution: 'batch'`, a
   * {@link PointRunner} for `'each'`.
   */
  readonly taskCode: { readonly module: string; readonly export: string };
}

/** A kind whose job runs all its points in one call (they all start together). */
export interface BatchKind<P = unknown> extends KindBase<P> {
  readonly execution: 'batch';
}

/** A kind whose job runs its points one after the other. */
export interface PointKind<P = unknown> extends KindBase<P> {
  readonly execution: 'each';
}

/** A task kind: one file of `tasks/kinds/`, listed in `tasks/registry.ts`; `P`: its typed params. */
export type TaskKind<P = unknown> = BatchKind<P> | PointKind<P>;
