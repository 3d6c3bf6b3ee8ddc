/**
 * Grid expansion: a validated {@link SweepSpec} → one task per grid point, with defaults filled
 * in, derived params evaluated and checked, and a content-hash id
 * `sha256(kind, canonical params, code version)` (first 16 hex digits).
 */
import { isAbsolute, resolve } from 'node:path';
import { csvDigest } from '../data/csv.js';
import type { NewTask } from '../store/store.js';
import type { Params } from '../tasks/types.js';
import { TASK_VERSIONS } from '../tasks/versions.js';
import { contentHash } from '../util/hash.js';
import { encodeParams, jsonParams } from '../util/json.js';
import { SpecError, show } from './errors.js';
import { PARAMS } from './params.js';
import { evaluateExpression, expressionSymbols } from './expression.js';
import type { SweepSpec } from './spec.js';

/** Params that do not change a kernel batch's shared work: depth and stopping time. */
const KERNEL_PER_POINT = new Set(['depth', 't']);

/**
 * Params that change where or how a grid point is executed but not its numbers: not part of its
 * id. A csv file's location is one of them: its content (`data_sha256`) and the parsing options
 * (`label_column`, `task`, the layout) identify the data, so a moved project or another machine
 * finds the same grid points.
 */
const NOT_IDENTITY = new Set(['checkpoint_every', 'path', 'train_path', 'test_path']);

/** What identifies a grid point: its params minus {@link NOT_IDENTITY}, plus the csv layout. */
function identityParams(params: Params): Params {
  const identity = Object.fromEntries(Object.entries(params).filter(([k]) => !NOT_IDENTITY.has(k)));
  if (params.dataset === 'csv') identity.csv_layout = params.path !== undefined ? 'split-column' : 'train-test-files';
  return identity;
}

/**
 * Task id of a kind and its canonical params: the first 16 hex digits of
 * `sha256(kind, code version, identity params)` (see {@link NOT_IDENTITY}).
 */
export function taskId(kind: string, params: Params): string {
  const version = TASK_VERSIONS[kind as keyof typeof TASK_VERSIONS];
  return contentHash({ kind, version, params: jsonParams(identityParams(params)) }).slice(0, 16);
}

/**
 * The id a task had when csv paths were part of the identity (databases written before content
 * identity). `null` when it equals {@link taskId} (not a csv task).
 */
export function legacyTaskId(kind: string, params: Params): string | null {
  if (params.dataset !== 'csv') return null;
  const version = TASK_VERSIONS[kind as keyof typeof TASK_VERSIONS];
  const identity = Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'checkpoint_every'));
  return contentHash({ kind, version, params: jsonParams(identity) }).slice(0, 16);
}

function cartesian(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(grid)) {
    const next: Record<string, unknown>[] = [];
    for (const p of points) for (const v of values) next.push({ ...p, [k]: v });
    points = next;
  }
  return points;
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
 * Expand a spec into tasks.
 * @param specDir directory of the spec file; relative csv paths are resolved against it.
 * @throws SpecError naming the grid point for derived values that fail validation, and
 *   unreadable csv files.
 */
export function expandSpec(spec: SweepSpec, specDir = '.'): NewTask[] {
  const problems: string[] = [];
  const order = derivedOrder(spec.derived);
  const base: Params = {};
  for (const [k, def] of Object.entries(PARAMS)) if (def.default !== undefined && def.kinds.includes(spec.kind)) base[k] = def.default;
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
  const tasks: NewTask[] = [];
  const seen = new Set<string>();
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
      const def = PARAMS[k];
      if (def && !(def.schema.safeParse(v).success || (k === 't' && v === Infinity))) {
        problems.push(`derived.${k} (at ${at || 'the only grid point'}): "${spec.derived[k]}" gives ${show(v)}; expected ${def.expected}`);
      }
      params[k] = v;
    }
    if (spec.kind === 'train' && typeof params.lr === 'number' && typeof params.steps === 'number') {
      const t = params.lr * params.steps;
      if (params.t === undefined) params.t = t;
      else if (typeof params.t === 'number' && Math.abs(params.t - t) > 1e-9 * Math.max(1, t)) {
        problems.push(`t: for train tasks t = lr·steps, but t = ${params.t} while lr·steps = ${t} (derive steps from t, e.g. steps: "round(t / lr)")`);
      }
    }
    if (problems.length > 20) break;
    const id = taskId(spec.kind, params);
    if (seen.has(id)) continue;
    seen.add(id);
    if (spec.kind === 'kernel') {
      // auxiliary params (e.g. tau in t = tau·depth) do not change the shared kernel recursion
      const shared = Object.fromEntries(Object.entries(params).filter(([k]) => !KERNEL_PER_POINT.has(k) && k in PARAMS));
      const n = Number(params.n_train) + Number(params.n_test);
      tasks.push({ id, kind: spec.kind, params, batchKey: 'k:' + contentHash(jsonParams(shared)).slice(0, 16), batchOrder: Number(params.depth), cost: n ** 3 / 1e9 });
    } else {
      const w = Number(params.width);
      const cost = spec.kind === 'train' ? (w * w * Number(params.depth) * Number(params.steps) * Number(params.n_train)) / 1e9 : Number(params.sleep_ms ?? 0) / 1e3;
      tasks.push({ id, kind: spec.kind, params, batchKey: '', batchOrder: 0, cost: Number.isFinite(cost) ? cost : 0 });
    }
  }
  if (problems.length) throw new SpecError(problems);
  return tasks;
}

/** Canonical hash of a validated spec (formatting and comments do not count). */
export function specHash(spec: SweepSpec): string {
  return contentHash(JSON.parse(encodeParams(spec as unknown as Record<string, unknown>)));
}

