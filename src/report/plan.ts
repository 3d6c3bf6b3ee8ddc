/**
 * What `ntk-sweep report` draws, decided from the finished grid points alone (no I/O here).
 *
 * One chart per metric: the metric against an x axis, one line per value of a color axis, one
 * panel per combination of the remaining grid axes, and the mean over replicates (`seed`,
 * `data_seed`) with its min–max range. Axes are the sweep's `grid` keys that take more than one
 * value among the finished points; `derived` params (e.g. `t = tau·depth`) follow from them and are
 * drawn only when asked for with `x`, `color` or `facet`.
 */

import { isKind, KIND_NAMES, kindOf, type ReportDefaults } from '../tasks/registry.js';
import { fitSlopeOverSeeds, type SlopeOverSeeds, type SlopePoint } from '../util/loglog.js';

/** A finished grid point: its params (flat scalars, `t = ∞` as `Infinity`) and final metrics. */
export interface PointRow {
  params: Record<string, unknown>;
  metrics: Record<string, number | null>;
}

export type ScaleChoice = 'auto' | 'log' | 'linear';

export interface PlanOptions {
  /** Task kind of the sweep (`kernel`, `train`, `debug`): picks default axes and metrics. */
  kind: string;
  /** The sweep's grid axes in spec order (`grid` keys). */
  gridAxes: string[];
  /** Metric names to draw; default: the kind's headline metrics that are present. */
  metrics?: string[];
  x?: string;
  color?: string;
  /** Panel axes; default: every grid axis not on x or color and not a replicate. */
  facet?: string[];
  /** Replicate axes averaged over. Default `seed`, `data_seed`. */
  replicates?: string[];
  xScale?: ScaleChoice;
  yScale?: ScaleChoice;
  /** Fit log(metric) against log(x) per line (charts with both axes log only), as `slope` does. */
  fit?: boolean;
}

/** One plotted mark: the mean of `n` replicates, with their min and max. */
export interface PlotPoint {
  panel: string;
  color: string;
  x: number;
  mean: number;
  min: number;
  max: number;
  n: number;
}

export interface ChartPlan {
  metric: string;
  x: string;
  color: string | null;
  facet: string[];
  xScale: 'log' | 'linear';
  yScale: 'log' | 'linear';
  /** Color labels and panel labels in display order (numeric order of the underlying values). */
  colorOrder: string[];
  panelOrder: string[];
  points: PlotPoint[];
  /** Grid points left out: infinite x (e.g. `t = ∞`), or a missing/non-finite metric. */
  skippedInfiniteX: number;
  skippedNoValue: number;
  /** Marks left out because a log axis cannot show them: x ≤ 0 on a log x axis (e.g. t = 0). */
  skippedNonPositiveX: number;
  /** Marks left out because their min ≤ 0 on a log y axis. */
  skippedNonPositiveY: number;
  /** Replicate axes this chart's marks average over (those that vary among its grid points). */
  averagedOver: string[];
  /** The report's line axis when this metric does not change along it and is drawn as one line (e.g. `t` for `dist_to_limit`). */
  collapsed: string | null;
  /** With {@link PlanOptions.fit}: one log-log fit per drawn line (panel × color), over its replicates. */
  fits: SeriesFit[];
  /** With {@link PlanOptions.fit} on a chart that cannot be fitted: why (a linear axis). */
  fitSkipped: string | null;
}

/** The log-log slope of one line of a chart (see `fitSlopeOverSeeds`). */
export interface SeriesFit {
  panel: string;
  color: string;
  slope: SlopeOverSeeds;
}

export interface ReportPlan {
  /** Varying grid axes (replicates excluded). */
  axes: string[];
  replicates: string[];
  /** Params added to the panels that the user did not ask for: a grid axis left off an explicit `facet`, or a param outside the grid that varies (the spec changed between runs). */
  autoFacet: string[];
  charts: ChartPlan[];
}

/** Error in the report options (an unknown axis or metric); the message names it. */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportError';
  }
}

/** The default layout of kind `kind` (its descriptor's `report`), or none for an unknown kind. */
function defaultsOf(kind: string): ReportDefaults {
  return isKind(kind) ? kindOf(kind).report : { metrics: [], x: [], color: [] };
}

/** Headline metrics per task kind with any, in display order (docs/conventions.md §1 claims 1–3). */
export const DEFAULT_METRICS: Record<string, string[]> = Object.fromEntries(
  KIND_NAMES.map((k) => [k, kindOf(k).report.metrics]).filter(([, ms]) => ms.length > 0),
);

function colorRank(kind: string, axis: string): number {
  const i = defaultsOf(kind).color.indexOf(axis);
  return i < 0 ? Number.MAX_SAFE_INTEGER : i;
}

const DEFAULT_REPLICATES = ['seed', 'data_seed'];

/**
 * Display label of a param value: integers as is, other numbers to 12 significant digits (so a
 * derived `0.1·3` shows as 0.3, while distinct grid values stay distinct), ±∞ as ∞ / -∞.
 */
export function valueLabel(v: unknown): string {
  if (typeof v === 'number') {
    if (v === Infinity) return '∞';
    if (v === -Infinity) return '-∞';
    if (Number.isInteger(v)) return String(v);
    return String(Number(v.toPrecision(12)));
  }
  return String(v);
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b || 0;
  return String(a).localeCompare(String(b));
}

function distinct(rows: PointRow[], key: string): unknown[] {
  const seen = new Map<string, unknown>();
  for (const r of rows) {
    const v = r.params[key];
    seen.set(JSON.stringify(v === Infinity ? 'inf' : v), v);
  }
  return [...seen.values()].sort(compareValues);
}

function chooseScale(choice: ScaleChoice, values: number[], ratio: number): 'log' | 'linear' {
  if (choice !== 'auto') return choice;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!(v > 0)) return 'linear';
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return values.length > 0 && hi / lo >= ratio ? 'log' : 'linear';
}

function requireParam(rows: PointRow[], key: string, option: string): void {
  if (!rows.some((r) => key in r.params)) {
    const known = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
    throw new ReportError(`${option}: "${key}" is not a param of this sweep's grid points; params: ${known.join(', ')}`);
  }
}

/**
 * Params that vary among `rows` without being fixed by `keys` (e.g. `t` when a fit groups by
 * depth and seed only): fitting or averaging across them would mix different series.
 */
export function unaccountedParams(rows: PointRow[], keys: string[]): string[] {
  const all = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  return all.filter((k) => !keys.includes(k) && distinct(rows, k).length > 1 && !determinedBy(rows, keys, k));
}

/** Whether `axis` takes one value for each combination of `keys` (e.g. tau given t and depth). */
function determinedBy(rows: PointRow[], keys: string[], axis: string): boolean {
  const seen = new Map<string, string>();
  for (const r of rows) {
    const k = JSON.stringify(keys.map((q) => valueLabel(r.params[q])));
    const v = valueLabel(r.params[axis]);
    if ((seen.get(k) ?? v) !== v) return false;
    seen.set(k, v);
  }
  return true;
}

/**
 * Decide the charts for a sweep's finished grid points.
 *
 * Defaults: x = the kind's preferred axis among the varying grid axes (kernel: depth, t, n_train;
 * train: width, depth, …), else the one with the most values; color = the remaining axis with
 * the most values (at most 12; ties: t, tau for kernel sweeps, depth for train sweeps), but never
 * `activation`, which gets one panel per value unless `color` or `facet` is given; panels =
 * every other varying grid axis. A varying grid axis is never averaged silently: one that is not
 * on x, color or `facet` and not fixed by them (as `tau` is by `t` and `depth` when
 * `t = tau·depth`) is added to the panels ({@link ReportPlan.autoFacet}). Only replicate axes are
 * averaged. Scales: log x when all x > 0 and max/min ≥ 20 (the same for every chart), log y when
 * all values > 0 and max/min ≥ 100 (with `fit` and a log x: whenever all values > 0); on a log
 * axis that was asked for, marks ≤ 0 are left out and counted. With `fit`, each line of a log-log
 * chart gets its slope ({@link ChartPlan.fits}).
 *
 * @throws ReportError naming the option, when an axis or metric does not exist, x is not
 *   numeric or takes one value, an axis is used twice, or no metric has a value.
 */
export function planReport(rows: PointRow[], opts: PlanOptions): ReportPlan {
  const layout = chooseLayout(rows, opts);
  const charts = chooseMetrics(rows, opts).map((metric) => chartFor(rows, metric, layout, opts));
  const replicates = layout.replicates.filter((r) => distinct(rows, r).length > 1);
  return { axes: layout.axes, replicates, autoFacet: layout.autoFacet, charts };
}

/** The axes every chart of a report shares (see {@link planReport}). */
interface Layout {
  axes: string[];
  replicates: string[];
  x: string;
  xScale: 'log' | 'linear';
  color: string | null;
  /** Color labels in order (`['']` without a color axis). */
  colorLabels: string[];
  facet: string[];
  autoFacet: string[];
  panelOf: (r: PointRow) => string;
  panelOrder: string[];
}

/** Grid axes drawn as panels by default (not as colors), when no `facet` is given. */
const PANEL_AXES = ['activation'];

function chooseLayout(rows: PointRow[], opts: PlanOptions): Layout {
  const replicates = opts.replicates ?? DEFAULT_REPLICATES;
  if (opts.x) requireParam(rows, opts.x, '--x');
  if (opts.color) requireParam(rows, opts.color, '--color');
  for (const f of opts.facet ?? []) requireParam(rows, f, '--facet');
  for (const r of opts.replicates ?? []) requireParam(rows, r, '--replicate');
  // number of distinct values per param, each counted once (the sorts below ask many times)
  const counts = new Map<string, number>();
  const count = (a: string): number => {
    if (!counts.has(a)) counts.set(a, distinct(rows, a).length);
    return counts.get(a)!;
  };
  const axes = opts.gridAxes.filter((a) => !replicates.includes(a) && count(a) > 1);
  const x = opts.x ?? defaultsOf(opts.kind).x.find((a) => axes.includes(a)) ?? [...axes].sort((a, b) => count(b) - count(a))[0];
  if (!x) {
    throw new ReportError(`no grid axis takes more than one value among the ${rows.length} selected grid point(s): nothing to draw a line along (use \`query\` for the values)`);
  }
  const xValues = distinct(rows, x);
  if (xValues.some((v) => typeof v !== 'number')) {
    throw new ReportError(`--x: "${x}" takes non-numeric values (${xValues.slice(0, 4).map(valueLabel).join(', ')}); choose a numeric param, or put it on --color or --facet`);
  }
  const finiteX = (xValues as number[]).filter((v) => Number.isFinite(v));
  if (finiteX.length < 2) {
    const inf = xValues.length > finiteX.length ? ' (∞ cannot be placed on an axis)' : '';
    throw new ReportError(`--x: "${x}" takes ${finiteX.length ? `a single finite value (${valueLabel(finiteX[0])})` : 'no finite value'} among the selected grid points${inf}; nothing to draw a line along`);
  }
  // an activation axis gets one panel per activation unless placed explicitly: its curves differ in
  // kind (another kernel), not in degree, and nine of them in one chart do not read
  const panelsFirst = opts.facet ? [] : PANEL_AXES.filter((a) => axes.includes(a) && a !== x && a !== opts.color);
  const color =
    opts.color ??
    axes
      .filter((a) => a !== x && !(opts.facet ?? []).includes(a) && !panelsFirst.includes(a) && count(a) <= 12)
      .sort((a, b) => count(b) - count(a) || colorRank(opts.kind, a) - colorRank(opts.kind, b))[0] ??
    null;
  if (color === x) throw new ReportError(`--color: "${color}" is already on the x axis`);
  if (color && count(color) < 2) throw new ReportError(`--color: "${color}" takes a single value (${valueLabel(distinct(rows, color)[0])}) among the selected grid points`);
  const facet = [...(opts.facet ?? panelsFirst)];
  for (const [i, f] of facet.entries()) {
    if (f === x || f === color || facet.indexOf(f) !== i) throw new ReportError(`--facet: "${f}" is already ${f === x ? 'on the x axis' : f === color ? 'the color axis' : 'listed'}`);
  }
  // every varying param not fixed by the chosen axes (and the replicates) becomes a panel, so
  // nothing but replicates is averaged: grid axes, and params outside the grid that vary because
  // the spec changed between runs (`fixed.lr` edited: both rates are in the sweep)
  const autoFacet: string[] = [];
  const outside = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].filter((k) => !opts.gridAxes.includes(k) && !replicates.includes(k) && count(k) > 1).sort();
  for (const a of [...axes, ...outside]) {
    const keys = [x, ...(color ? [color] : []), ...facet];
    if (!keys.includes(a) && !determinedBy(rows, [...keys, ...replicates], a)) {
      facet.push(a);
      if (opts.facet || !axes.includes(a)) autoFacet.push(a);
    }
  }
  const panelOf = (r: PointRow): string => facet.map((f) => `${f}=${valueLabel(r.params[f])}`).join(', ');
  return {
    axes,
    replicates,
    x,
    xScale: chooseScale(opts.xScale ?? 'auto', finiteX, 20),
    color,
    colorLabels: color ? orderLabels(rows, (r) => [r.params[color]], (r) => valueLabel(r.params[color])) : [''],
    facet,
    autoFacet,
    panelOf,
    panelOrder: orderLabels(rows, (r) => facet.map((f) => r.params[f]), panelOf),
  };
}

/** One metric's chart: marks averaged over replicates, in panel, color and x order. */
function chartFor(rows: PointRow[], metric: string, L: Layout, opts: PlanOptions): ChartPlan {
  // a metric that does not change along the color axis (a kernel statistic across t) gets one
  // line, unless x itself moves with the color axis (x = t = tau·depth, color = tau)
  const color = L.color && (dependsOn(rows, metric, L.color, opts.gridAxes) || !opts.gridAxes.includes(L.x)) ? L.color : null;
  const colorOf = (r: PointRow): string => (color ? valueLabel(r.params[color]) : '');
  // collapsed: the other color values repeat the same numbers, they are not replicates
  const kept = L.color && !color ? rows.filter((r) => valueLabel(r.params[L.color!]) === L.colorLabels[0]) : rows;
  const groups = new Map<string, { panel: string; color: string; x: number; ys: number[] }>();
  let skippedInfiniteX = 0;
  let skippedNoValue = 0;
  for (const r of kept) {
    const y = r.metrics[metric];
    if (y === null || y === undefined || !Number.isFinite(y)) {
      skippedNoValue++;
      continue;
    }
    const xv = Number(r.params[L.x]);
    if (!Number.isFinite(xv)) {
      skippedInfiniteX++;
      continue;
    }
    const key = JSON.stringify([L.panelOf(r), colorOf(r), xv]);
    const g = groups.get(key) ?? { panel: L.panelOf(r), color: colorOf(r), x: xv, ys: [] };
    g.ys.push(y);
    groups.set(key, g);
  }
  const all = [...groups.values()].map((g) => ({
    panel: g.panel,
    color: g.color,
    x: g.x,
    mean: g.ys.reduce((p, q) => p + q, 0) / g.ys.length,
    min: g.ys.reduce((p, q) => Math.min(p, q)),
    max: g.ys.reduce((p, q) => Math.max(p, q)),
    n: g.ys.length,
  }));
  // a fit is log-log: with --fit a positive metric on a log x axis goes on a log y axis
  const yRatio = opts.fit && L.xScale === 'log' ? 1 : 100;
  const yScale = chooseScale(opts.yScale ?? 'auto', all.flatMap((p) => [p.min, p.max]), yRatio);
  const onX = all.filter((p) => L.xScale === 'linear' || p.x > 0);
  const points = onX.filter((p) => yScale === 'linear' || p.min > 0);
  const colorOrder = color ? L.colorLabels : [''];
  const panelRank = new Map(L.panelOrder.map((p, i) => [p, i]));
  const colorRankOf = new Map(colorOrder.map((c, i) => [c, i]));
  points.sort((a, b) => panelRank.get(a.panel)! - panelRank.get(b.panel)! || colorRankOf.get(a.color)! - colorRankOf.get(b.color)! || a.x - b.x);
  return {
    metric,
    x: L.x,
    color,
    facet: L.facet,
    xScale: L.xScale,
    yScale,
    colorOrder,
    panelOrder: L.panelOrder,
    points,
    skippedInfiniteX,
    skippedNoValue,
    skippedNonPositiveX: all.length - onX.length,
    skippedNonPositiveY: onX.length - points.length,
    averagedOver: points.some((p) => p.n > 1) ? L.replicates.filter((q) => distinct(kept, q).length > 1) : [],
    collapsed: L.color && !color ? L.color : null,
    fits: opts.fit && L.xScale === 'log' && yScale === 'log' ? seriesFits(kept, metric, L, colorOf) : [],
    fitSkipped: opts.fit && (L.xScale !== 'log' || yScale !== 'log') ? `no slope fit: the ${L.xScale !== 'log' ? 'x' : 'y'} axis is linear` : null,
  };
}

/**
 * Per line of a chart (panel × color), the log-log slope of the metric against x over the
 * replicates, from the grid points themselves (not the plotted means): a replicate is one
 * combination of the replicate params (`seed`, `data_seed`). Points with x ≤ 0, y ≤ 0 or a
 * value that is not finite are left out, as `slope` leaves them out.
 */
function seriesFits(rows: PointRow[], metric: string, L: Layout, colorOf: (r: PointRow) => string): SeriesFit[] {
  const series = new Map<string, { panel: string; color: string; points: SlopePoint[] }>();
  for (const r of rows) {
    const x = Number(r.params[L.x]);
    const y = r.metrics[metric];
    if (!(typeof y === 'number' && Number.isFinite(y) && y > 0 && Number.isFinite(x) && x > 0)) continue;
    const panel = L.panelOf(r);
    const color = colorOf(r);
    const key = JSON.stringify([panel, color]);
    const s = series.get(key) ?? { panel, color, points: [] };
    s.points.push({ seed: JSON.stringify(L.replicates.map((q) => r.params[q] ?? null)), x, y });
    series.set(key, s);
  }
  return [...series.values()].filter((s) => new Set(s.points.map((p) => p.x)).size >= 2).map((s) => ({ panel: s.panel, color: s.color, slope: fitSlopeOverSeeds(s.points) }));
}

/** The metrics to draw: those asked for (each must exist and have a value), or the kind's defaults. */
function chooseMetrics(rows: PointRow[], opts: PlanOptions): string[] {
  const logged = new Set(rows.flatMap((r) => Object.keys(r.metrics)));
  const present = new Set(rows.flatMap((r) => Object.entries(r.metrics).filter(([, v]) => v !== null && Number.isFinite(v)).map(([k]) => k)));
  const list = (set: Set<string>): string => [...set].sort().join(', ') || '(none)';
  if (opts.metrics) {
    if (opts.metrics.length === 0) throw new ReportError('--metric: name at least one metric');
    for (const m of opts.metrics) {
      if (!logged.has(m)) throw new ReportError(`--metric: no metric named "${m}" in the selected grid points; metrics: ${list(present)}`);
      if (!present.has(m)) throw new ReportError(`--metric: "${m}" has no finite value in the selected grid points (NaN or ±∞ only)`);
    }
    return [...new Set(opts.metrics)];
  }
  const defaults = defaultsOf(opts.kind).metrics.filter((m) => present.has(m));
  const metrics = defaults.length ? defaults : [...present].sort().slice(0, 8);
  if (metrics.length === 0) throw new ReportError('no metric has a finite value among the selected grid points');
  return metrics;
}

/**
 * Whether `metric` takes more than one value across the grid axis `axis` with the other grid axes
 * fixed. Derived params are not keys (they move with the axes that define them); for an axis
 * outside the grid the answer is always yes.
 */
function dependsOn(rows: PointRow[], metric: string, axis: string, gridAxes: string[]): boolean {
  if (!gridAxes.includes(axis)) return true;
  const others = gridAxes.filter((a) => a !== axis);
  const seen = new Map<string, number | null | undefined>();
  for (const r of rows) {
    const key = JSON.stringify(others.map((k) => (r.params[k] === Infinity ? 'inf' : r.params[k])));
    const y = r.metrics[metric];
    if (seen.has(key) && seen.get(key) !== y) return true;
    seen.set(key, y);
  }
  return false;
}

/** Labels in the numeric order of the values behind them (lexicographic over several axes). */
function orderLabels(rows: PointRow[], values: (r: PointRow) => unknown[], label: (r: PointRow) => string): string[] {
  const byLabel = new Map<string, unknown[]>();
  for (const r of rows) if (!byLabel.has(label(r))) byLabel.set(label(r), values(r));
  return [...byLabel]
    .sort(([, a], [, b]) => {
      for (let i = 0; i < a.length; i++) {
        const c = compareValues(a[i], b[i]);
        if (c !== 0) return c;
      }
      return 0;
    })
    .map(([l]) => l);
}
