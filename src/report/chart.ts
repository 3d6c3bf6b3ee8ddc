/**
 * A {@link ChartPlan} as a Vega-Lite specification, and its rendering to SVG with Vega's headless
 * renderer (no browser, no canvas). The specification is also written next to the SVG so a
 * researcher can restyle the chart in the Vega editor.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartPlan } from './plan.js';

/** Chart panel width in pixels (every panel). */
const PANEL_WIDTH = 260;

/** Approximate pixel width of an axis label as Vega prints it (10 px sans-serif, `1,024`). */
function labelWidth(v: number): number {
  return 6 * v.toLocaleString('en-US', { maximumSignificantDigits: 6 }).length;
}

/**
 * Tick values for an x axis of `widthPx` pixels: both ends of the range always, and in between
 * the grid values (at most 12 of them; else, on a log axis, the powers of ten) whose labels fit
 * without touching their neighbours. `undefined`: let Vega choose (a linear axis over more than
 * 12 values). Vega's own choice hides the labels at the ends of long log ranges and puts linear
 * ticks between grid values (40, 60, … for widths 32…128); labelling every grid value makes them
 * collide (`2,0484,096`).
 */
export function axisTicks(xs: number[], scale: 'log' | 'linear', widthPx = PANEL_WIDTH): number[] | undefined {
  const values = [...new Set(xs)].filter((v) => Number.isFinite(v) && (scale === 'linear' || v > 0)).sort((a, b) => a - b);
  if (values.length <= 2) return values;
  if (scale === 'linear' && values.length > 12) return undefined;
  const lo = values[0];
  const hi = values[values.length - 1];
  const px = (v: number): number => (scale === 'log' ? Math.log(v / lo) / Math.log(hi / lo) : (v - lo) / (hi - lo)) * widthPx;
  const inner = values.length <= 12 ? values.slice(1, -1) : [];
  if (values.length > 12) for (let e = Math.ceil(Math.log10(lo)); 10 ** e < hi; e++) if (10 ** e > lo) inner.push(10 ** e);
  // labels are centred on their tick, except the ends, which are flush with the axis ends
  const gap = 8;
  const ticks = [lo];
  let rightEdge = labelWidth(lo);
  for (const v of inner) {
    const left = px(v) - labelWidth(v) / 2;
    const right = px(v) + labelWidth(v) / 2;
    if (left >= rightEdge + gap && right <= widthPx - labelWidth(hi) - gap) {
      ticks.push(v);
      rightEdge = right;
    }
  }
  ticks.push(hi);
  return ticks;
}

/** Label format (d3-format) for a log axis over [lo, hi]: plain numbers in 1e-3…1e6, else `1e-8`. */
function logFormat(lo: number, hi: number): string {
  return lo >= 1e-3 && hi < 1e6 ? ',~g' : '.1~e';
}

/** Lines under a chart's title: the `context` lines (filter, unfinished points), then the marks the chart could not show. */
export function chartNotes(plan: ChartPlan, context: string[] = []): string[] {
  const notes = [...context];
  if (plan.averagedOver.length) notes.push(`line: mean over ${plan.averagedOver.join(', ')}; band: min–max`);
  if (plan.skippedNoValue) notes.push(`${plan.skippedNoValue} grid point(s) without a finite value (NaN or ±∞) not drawn`);
  if (plan.skippedInfiniteX) notes.push(`${plan.skippedInfiniteX} grid point(s) with ${plan.x} = ∞ not drawn`);
  if (plan.skippedNonPositiveX) notes.push(`${plan.skippedNonPositiveX} mark(s) at ${plan.x} ≤ 0 not drawn on the log x axis`);
  if (plan.skippedNonPositiveY) notes.push(`${plan.skippedNonPositiveY} mark(s) ≤ 0 not drawn on the log y axis`);
  return notes;
}

/**
 * Vega-Lite spec: one line per color value (mean over replicates, with points), a band from min
 * to max when any mark averages more than one replicate, one panel per facet value (wrapped, 3
 * per row, each with its own x axis). Colors and panels appear in the order of
 * {@link ChartPlan.colorOrder} / `panelOrder`. The `context` lines (see {@link chartNotes}) are
 * shown under the title.
 */
export function chartSpec(plan: ChartPlan, context: string[] = []): TopLevelSpec {
  const replicated = plan.points.some((p) => p.n > 1);
  const xs = plan.points.map((p) => p.x);
  const ticks = axisTicks(xs, plan.xScale);
  const xAxis = {
    ...(ticks ? { values: ticks, labelFlush: true, labelOverlap: false } : {}),
    ...(plan.xScale === 'log' && xs.length ? { format: logFormat(Math.min(...ticks!), Math.max(...ticks!)) } : {}),
  };
  const x = { field: 'x', type: 'quantitative' as const, title: plan.x, scale: { type: plan.xScale, nice: !ticks }, axis: xAxis };
  const ys = plan.points.flatMap((p) => [p.min, p.max]);
  const yAxis = plan.yScale === 'log' && ys.length ? { format: logFormat(ys.reduce((p, q) => Math.min(p, q)), ys.reduce((p, q) => Math.max(p, q))) } : {};
  const y = { field: 'mean', type: 'quantitative' as const, title: plan.metric, axis: yAxis, scale: plan.yScale === 'log' ? { type: 'log' as const } : { type: 'linear' as const, zero: false } };
  // the band uses `fill` (same colors, no legend) so the legend shows the lines, not the pale band
  const colorBy = (channel: 'color' | 'fill', legend: boolean): object =>
    plan.color ? { [channel]: { field: 'color', type: 'ordinal', title: plan.color, sort: plan.colorOrder, scale: { scheme: 'viridis', domain: plan.colorOrder }, ...(legend ? {} : { legend: null }) } } : {};
  const layers: object[] = [];
  if (replicated) layers.push({ mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, ...colorBy('fill', false) } });
  layers.push({ mark: { type: 'line', point: true, strokeWidth: 1.5 }, encoding: { x, y, ...colorBy('color', true) } });
  const legendOfLines = { resolve: { scale: { fill: 'independent' } } };
  const inner = { width: PANEL_WIDTH, height: 190, layer: layers, ...(replicated && plan.color ? legendOfLines : {}) };
  const notes = chartNotes(plan, context);
  const header = { text: plan.metric, ...(notes.length ? { subtitle: notes } : {}), anchor: 'start' as const, fontSize: 13 };
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { values: plan.points }, config: { font: 'sans-serif', view: { stroke: '#ccc' } } };
  if (plan.facet.length === 0) return { ...base, title: header, ...inner } as TopLevelSpec;
  return {
    ...base,
    title: header,
    facet: { field: 'panel', type: 'ordinal', title: null, sort: plan.panelOrder, header: { labelFontSize: 12 } },
    columns: 3,
    spec: inner,
    resolve: { scale: { y: 'shared' }, axis: { x: 'independent' } },
  } as TopLevelSpec;
}

/**
 * Render a Vega-Lite spec to a standalone SVG document (headless; text widths are estimated).
 * Vega is loaded on first use: importing it takes about a second, which every other command
 * would otherwise pay at startup.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
