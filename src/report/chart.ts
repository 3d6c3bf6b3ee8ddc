/**
 * A {@link ChartPlan} as a Vega-Lite specification, and its rendering to SVG with Vega's headless
 * renderer (no browser, no canvas). The specification is also written next to the SVG so a
 * researcher can restyle the chart in the Vega editor.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartPlan } from './plan.js';

/**
 * Tick values for a log x axis: every grid value when there are at most 7, else the powers of
 * ten inside the range plus both ends (a power of ten within 2.5× of an end is dropped so the
 * labels do not collide). Vega's own choice hides the labels at the ends of long log ranges.
 */
export function logTicks(xs: number[]): number[] {
  const values = [...new Set(xs)].sort((a, b) => a - b);
  if (values.length <= 7) return values;
  const lo = values[0];
  const hi = values[values.length - 1];
  const ticks = [lo];
  for (let e = Math.ceil(Math.log10(lo)); 10 ** e < hi; e++) {
    const p = 10 ** e;
    if (p / lo >= 2.5 && hi / p >= 2.5) ticks.push(p);
  }
  ticks.push(hi);
  return ticks;
}

/** Extra lines under a chart's title: the SQL filter and the marks a chart could not show. */
export function chartNotes(plan: ChartPlan, where?: string): string[] {
  const notes: string[] = [];
  if (where) notes.push(`where ${where}`);
  if (plan.averagedOver.length) notes.push(`line: mean over ${plan.averagedOver.join(', ')}; band: min–max`);
  if (plan.skippedInfiniteX) notes.push(`${plan.skippedInfiniteX} grid point(s) with ${plan.x} = ∞ not drawn`);
  if (plan.skippedNonPositiveX) notes.push(`${plan.skippedNonPositiveX} mark(s) at ${plan.x} ≤ 0 not drawn on the log x axis`);
  if (plan.skippedNonPositiveY) notes.push(`${plan.skippedNonPositiveY} mark(s) ≤ 0 not drawn on the log y axis`);
  return notes;
}

/**
 * Vega-Lite spec: one line per color value (mean over replicates, with points), a band from min
 * to max when any mark averages more than one replicate, one panel per facet value (wrapped, 3
 * per row, each with its own x axis). Colors and panels appear in the order of
 * {@link ChartPlan.colorOrder} / `panelOrder`. `where` (the SQL filter) is shown under the title.
 */
export function chartSpec(plan: ChartPlan, where?: string): TopLevelSpec {
  const replicated = plan.points.some((p) => p.n > 1);
  const axis = plan.xScale === 'log' ? { values: logTicks(plan.points.map((p) => p.x)), labelFlush: true, labelOverlap: false } : {};
  const x = { field: 'x', type: 'quantitative' as const, title: plan.x, scale: { type: plan.xScale, nice: plan.xScale === 'linear' }, axis };
  const y = { field: 'mean', type: 'quantitative' as const, title: plan.metric, scale: plan.yScale === 'log' ? { type: 'log' as const } : { type: 'linear' as const, zero: false } };
  // the band uses `fill` (same colors, no legend) so the legend shows the lines, not the pale band
  const colorBy = (channel: 'color' | 'fill', legend: boolean): object =>
    plan.color ? { [channel]: { field: 'color', type: 'ordinal', title: plan.color, sort: plan.colorOrder, scale: { scheme: 'viridis', domain: plan.colorOrder }, ...(legend ? {} : { legend: null }) } } : {};
  const layers: object[] = [];
  if (replicated) layers.push({ mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, ...colorBy('fill', false) } });
  layers.push({ mark: { type: 'line', point: true, strokeWidth: 1.5 }, encoding: { x, y, ...colorBy('color', true) } });
  const legendOfLines = { resolve: { scale: { fill: 'independent' } } };
  const inner = { width: 260, height: 190, layer: layers, ...(replicated && plan.color ? legendOfLines : {}) };
  const notes = chartNotes(plan, where);
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
