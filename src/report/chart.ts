/**
 * A {@link ChartPlan} as a Vega-Lite specification, and its rendering to SVG with Vega's headless
 * renderer (no browser, no canvas). The specification is also written next to the SVG so a
 * researcher can restyle the chart in the Vega editor.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ChartPlan } from './plan.js';

/**
 * Vega-Lite spec: one line per color value (mean over replicates, with points), a band from min
 * to max when any mark averages more than one replicate, one panel per facet value (wrapped, 3
 * per row). Colors and panels appear in the order of {@link ChartPlan.colorOrder} / `panelOrder`.
 */
export function chartSpec(plan: ChartPlan): TopLevelSpec {
  const replicated = plan.points.some((p) => p.n > 1);
    const x = { field: 'x', type: 'quantitative' as const, title: plan.x, scale: { type: plan.xScale, nice: plan.xScale === 'linear' } };
  const y = { field: 'mean', type: 'quantitative' as const, title: plan.metric, scale: plan.yScale === 'log' ? { type: 'log' as const } : { type: 'linear' as const, zero: false } };
  const color = plan.color ? { color: { field: 'color', type: 'ordinal' as const, title: plan.color, sort: plan.colorOrder, scale: { scheme: 'viridis' } } } : {};
  const layers: object[] = [];
  if (replicated) {
    layers.push({ mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, ...color } });
  }
  layers.push({ mark: { type: 'line', point: true, strokeWidth: 1.5 }, encoding: { x, y, ...color } });
  const notes: string[] = [];
  if (plan.skippedInfiniteX) notes.push(`${plan.skippedInfiniteX} grid point(s) with ${plan.x} = ∞ not drawn`);
  if (replicated) notes.push('line: mean over replicates; band: min–max');
  const inner = { width: 260, height: 190, layer: layers };
  const header = { text: plan.metric + (notes.length ? ` — ${notes.join('; ')}` : ''), anchor: 'start' as const, fontSize: 13 };
  const base = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', data: { values: plan.points }, config: { font: 'sans-serif', view: { stroke: '#ccc' } } };
  if (plan.facet.length === 0) return { ...base, title: header, ...inner } as TopLevelSpec;
  return {
    ...base,
    title: header,
    facet: { field: 'panel', type: 'ordinal', title: null, sort: plan.panelOrder, header: { labelFontSize: 12 } },
    columns: 3,
    spec: inner,
    resolve: { scale: { y: 'shared' } },
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
