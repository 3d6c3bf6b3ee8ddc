/**
 * Grid expansion: a validated {@link SweepSpec} → one task per grid point, with defaults filled
 * in, derived params evaluated and checked, and a content-hash id
 * `sha256(kind, canonical params, code version)` (first 16 hex digits).
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { csvDigest } from '../data/csv.js';
import type { NewTask } from '../store/store.js';
import { kindOf, type TaskKind } from '../tasks/registry.js';
import type { Params } from '../tasks/types.js';
import { taskVersion } from '../tasks/versions.js';
import { canonicalJson, contentHash } from '../util/hash.js';
import { encodeParams, jsonParams } from '../util/json.js';
import { show } from '../util/show.js';
import { SpecError } from './errors.js';
import { DEFAULT_MAX_POINTS } from './limits.js';
import { validParamValue } from './param-def.js';
import { kindParams, paramTable } from './params.js';
import { evaluateExpression, expressionSymbols } from './expression.js';
import type { SweepSpec } from './spec.js';

/**
 * What identifies a grid point: its params minus those that change where or how it is executed
 * but not its numbers (`not_identity` in their definition), plus the csv layout. A csv file's
 * location is one of them: its content (`data_sha256`) and the parsing options (`label_column`,
 * `task`, the layout) identify the data, so a moved project or another machine finds the same
 * grid points.
 */
function identityParams(params: Params): Params {
  const defs = paramTable();
  const identity = Object.fromEntries(Object.entries(params).filter(([k, v]) => !defs[k]?.not_identity && !(defs[k]?.id_omits_default && v === defs[k].default)));
  if (params.dataset === 'csv') identity.csv_layout = params.path !== undefined ? 'split-column' : 'train-test-files';
  return identity;
}

/**
 * Task id of a kind and its canonical params (defaults that predate their param, such as
 * `activation: relu`, are left out): the first 16 hex digits of
 * `sha256(kind, code version, identity params)` (see `identityParams`).
 */
export function taskId(kind: string, params: Params): string {
  const version = taskVersion(kind);
  // the canonical JSON of { kind, params, version } (what `contentHash` would hash), written
  // directly: ids are computed for every grid point, twice per registration
  const text = `{"kind":${JSON.stringify(kind)},"params":${canonicalFlat(identityParams(params))}${version === undefined ? '' : `,"version":${JSON.stringify(version)}`}}`;
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * `canonicalJson(jsonParams(params))` for params whose values are mostly scalars: sorted keys,
 * scalars as JSON (±Infinity as "inf"/"-inf"), other values through the general encoder.
 * @throws Error on NaN (as `jsonParams`).
 */
function canonicalFlat(params: Params): string {
  const parts: string[] = [];
  for (const k of Object.keys(params).sort()) {
    const v = params[k];
    if (v === undefined) continue;
    let enc: string;
    if (typeof v === 'number' && Number.isFinite(v)) enc = String(v);
    else if (typeof v === 'string' || typeof v === 'boolean') enc = JSON.stringify(v);
    else enc = canonicalJson(jsonParams({ v }).v);
    parts.push(`${JSON.stringify(k)}:${enc}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The id a task had when csv paths were part of the identity (databases written before content
 * identity). `null` when it equals {@link taskId} (not a csv task).
 */
export function legacyTaskId(kind: string, params: Params): string | null {
  if (params.dataset !== 'csv') return null;
  const version = taskVersion(kind);
  const defs = paramTable();
  // the csv paths (data params) were part of it; the other params left out of ids were not
  const identity = Object.fromEntries(Object.entries(params).filter(([k, v]) => !(defs[k]?.not_identity && !defs[k].data) && !(defs[k]?.id_omits_default && v === defs[k].default)));
  return contentHash({ kind, version, params: jsonParams(identity) }).slice(0, 16);
}

/**
 * The grid points of `grid` one at a time (the cartesian product in key order, last key
 * fastest), without building the product: memory stays that of one point.
 */
function* cartesian(grid: Record<string, unknown[]>): Generator<Record<string, unknown>> {
  const keys = Object.keys(grid);
  const idx = new Array<number>(keys.length).fill(0);
  if (keys.some((k) => grid[k].length === 0)) return;
  for (;;) {
    const point: Record<string, unknown> = {};
    keys.forEach((k, i) => (point[k] = grid[k][idx[i]]));
    yield point;
    let i = keys.length - 1;
    while (i >= 0 && ++idx[i] === grid[keys[i]].length) idx[i--] = 0;
    if (i < 0) return;
  }
}


/**
 * The number of grid points of a spec (product of the grid list lengths), computed before
 * anything is expanded.
 * @throws SpecError when it exceeds `maxPoints`, naming every axis and its size, e.g.
 *   `grid: 25,000,000 grid points (n_train 5 × depth 1,000 × t 5,000) exceed the limit of 1,000,000; …`.
 */
export function checkGridSize(spec: SweepSpec, maxPoints = DEFAULT_MAX_POINTS): number {
  const axes = Object.entries(spec.grid).map(([k, v]) => [k, v.length] as const);
  const total = axes.reduce((p, [, n]) => p * n, 1);
  if (total > maxPoints) {
    const fmt = (n: number) => n.toLocaleString('en-US');
    throw new SpecError([
      `grid: ${fmt(total)} grid points (${axes.map(([k, n]) => `${k} ${fmt(n)}`).join(' × ')}) exceed the limit of ${fmt(maxPoints)}; ` +
        'shrink the grid, or raise the limit with --max-points',
    ]);
  }
  return total;
}

function derivedOrder(derived: Record<string, string>): string[] {
  const keys = Object.keys(derived);
  const deps = new Map(keys.map((k) => [k, expressionSymbols(derived[k]).filter((s) => s in derived)]));
  const order: string[] = [];
  const state = new Map<string, number>();
  const visit = (k: string, chain: string[]): void => {
    if (state.get(k) === 2) return;
    if (state.get(k) === 1) throw new SpecError([`derived: circular definitions: ${[...chain, k].join(' -> ')}`]);
    state.set(k, 1);
    for (const d of deps.get(k) ?? []) visit(d, [...chain, k]);
    state.set(k, 2);
    order.push(k);
  };
  for (const k of keys) visit(k, []);
  return order;
}

/**
 * Expand a spec into tasks, all at once (small grids, tests): {@link expandTasks} collected,
 * each grid point once.
 * @param specDir directory of the spec file; relative csv paths are resolved against it.
 * @throws SpecError naming the grid point for derived values that fail validation, and
 *   unreadable csv files.
 */
export function expandSpec(spec: SweepSpec, specDir = '.'): NewTask[] {
  const seen = new Set<string>();
  const tasks: NewTask[] = [];
  for (const t of expandTasks(spec, specDir)) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    tasks.push(t);
  }
  return tasks;
}

/**
 * The tasks of a spec one at a time, in grid order; memory is that of one grid point. Two grid
 * points may give the same task (derived params that coincide): consumers ignore repeats.
 * @throws SpecError (when the generator reaches the end, or after 20 problems) naming each grid
 *   point whose derived values fail validation; unreadable csv files at the start.
 */
export function* expandTasks(spec: SweepSpec, specDir = '.'): Generator<NewTask> {
  const problems: string[] = [];
  const order = derivedOrder(spec.derived);
  const kind = kindOf(spec.kind);
  const base: Params = {};
  for (const [k, def] of Object.entries(kindParams(spec.kind))) if (def.default !== undefined) base[k] = def.default;
  Object.assign(base, spec.dataset, spec.fixed);
  if (base.dataset === 'sphere') base.target ??= 'linear';
  if (base.dataset === 'csv') {
    base.label_column ??= 'label';
    const files: string[] = [];
    for (const key of ['path', 'train_path', 'test_path']) {
      const p = base[key];
      if (typeof p === 'string') {
        base[key] = isAbsolute(p) ? p : resolve(specDir, p);
        files.push(base[key] as string);
      }
    }
    try {
      base.data_sha256 = csvDigest(files);
    } catch (e) {
      throw new SpecError([`dataset: cannot read csv data: ${(e as Error).message}`]);
    }
  }
  for (const point of cartesian(spec.grid)) {
    const params: Params = { ...base, ...point };
    for (const k of order) {
      const at = Object.entries(point)
        .map(([pk, pv]) => `${pk}=${show(pv)}`)
        .join(', ');
      let v: unknown;
      try {
        v = evaluateExpression(spec.derived[k], params);
      } catch (e) {
        problems.push(`derived.${k} (at ${at || 'the only grid point'}): cannot evaluate "${spec.derived[k]}": ${(e as Error).message}`);
        continue;
      }
      const def = paramTable()[k];
      if (def && !validParamValue(def, v)) {
        problems.push(`derived.${k} (at ${at || 'the only grid point'}): "${spec.derived[k]}" gives ${show(v)}; expected ${def.expected}`);
      }
      params[k] = v;
    }
    if (kind.complete) problems.push(...kind.complete(params));
    if (problems.length > 20) break;
    if (problems.length > 0) continue;
    yield { id: taskId(spec.kind, params), kind: spec.kind, params, ...batchOf(kind, params) };
  }
  if (problems.length) throw new SpecError(problems);
}

/**
 * Where a grid point goes in the claim order (docs/architecture.md §4): points of a kind with
 * shared work get a batch key, the hash of their params other than the kind's per-point ones
 * (auxiliary params such as `tau` in `t = tau·depth` do not change the shared work), and the
 * order param as batch order; independent points have the empty key. The cost is the kind's.
 */
function batchOf(kind: TaskKind, params: Params): Pick<NewTask, 'batchKey' | 'batchOrder' | 'cost'> {
  const cost = kind.cost(params);
  const sw = kind.sharedWork;
  if (!sw) return { batchKey: '', batchOrder: 0, cost: Number.isFinite(cost) ? cost : 0 };
  const defs = paramTable();
  const shared = Object.fromEntries(Object.entries(params).filter(([k]) => !sw.perPoint.includes(k) && k in defs));
  return { batchKey: 'k:' + contentHash(jsonParams(shared)).slice(0, 16), batchOrder: Number(params[sw.order]), cost };
}

/**
 * {@link expandTasks} in chunks of `size`, yielding to the event loop between chunks (so a
 * Ctrl-C is handled while a big grid is expanded or registered).
 */
export async function* taskChunks(tasks: Iterable<NewTask>, size = 5000): AsyncGenerator<NewTask[]> {
  let chunk: NewTask[] = [];
  for (const t of tasks) {
    chunk.push(t);
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
      await new Promise((r) => setImmediate(r));
    }
  }
  if (chunk.length) yield chunk;
}

/** Canonical hash of a validated spec (formatting and comments do not count). */
export function specHash(spec: SweepSpec): string {
  return contentHash(JSON.parse(encodeParams(spec as unknown as Record<string, unknown>)));
}

