/**
 * A {@link ChartPlan} as a Vega-Lite specification, and its rendering to SVG with Vega's headless
 * renderer (no browser, no canvas). The specification is also written next to the SVG so a
 * researcher can restyle the chart in the Vega editor.
 *
 * Sizing: a chart is at most {@link CHART_WIDTH} px wide, so that it is read at its own size in a
 * 1280 px window: panels wrap onto rows of at most three and share that width; the legend sits
 * above the panels, wrapped onto as many rows as it needs; the notes under the title are wrapped
 * to the chart's width.
 */
import type { TopLevelSpec } from 'vega-lite';
import { axisSpec, gridTicks, labelWidth, linearTicks, logTicks, type AxisTicks } from './axes.js';
import type { ChartPlan } from './plan.js';
import { slopeLabel } from '../util/loglog.js';

/** Widest chart in px (panels, axes, fit labels; the SVG adds a few px of padding). */
export const CHART_WIDTH = 1160;
const PANEL_HEIGHT = 200;
/** Widest panel: a chart of one or two panels does not stretch across the page. */
const MAX_PANEL_WIDTH = 560;
const MAX_COLUMNS = 3;
const COLUMN_SPACING = 24;
/** Room right of a panel for its slope labels (`−0.48 ± 0.02`). */
const FIT_LABEL_ROOM = 84;
/** Left of the panels: y labels and title (estimated; the y labels are short). */
const Y_AXIS_ROOM = 64;

/**
 * Line colours, in the order they are handed out: categorical (Tableau 10 without its grey, the
 * strongest first, then three more), so neighbouring values never look alike.
 */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#9c755f', '#ff9da7', '#edc948', '#17becf', '#bcbd22', '#8c564b'];
/** Limit values of the line axis (`t = ∞`): black, dashed; `-∞` dotted. */
const LIMIT_STYLE: Record<string, { color: string; dash: number[] }> = { '∞': { color: '#000000', dash: [6, 3] }, '-∞': { color: '#000000', dash: [2, 2] } };
const SOLID = [1, 0];

/** Colour and dash of each line, in {@link ChartPlan.colorOrder}: palette colours, solid; limit values in their own style. */
export function seriesStyles(order: string[]): { color: string; dash: number[] }[] {
  let next = 0;
  return order.map((c) => LIMIT_STYLE[c] ?? { color: PALETTE[next++ % PALETTE.length], dash: SOLID });
}

/** Lines under a chart's title: the `context` lines (filter, unfinished points), then what the chart shows or could not show. */
export function chartNotes(plan: ChartPlan, context: string[] = []): string[] {
  const notes = [...context];
  if (plan.averagedOver.length) notes.push(`line: mean over ${plan.averagedOver.join(', ')}; band: min–max`);
  if (plan.collapsed) notes.push(`one line: ${plan.metric} is the same at every ${plan.collapsed}`);
  if (plan.fits.length) {
    const over = plan.averagedOver.length ? `, mean ± sd over ${plan.averagedOver.join(', ')}` : '';
    notes.push(`dotted: log-log least-squares fit; beside it: slope${over} (as \`slope\` prints it)`);
  }
  if (plan.fitSkipped) notes.push(plan.fitSkipped);
  if (plan.skippedNoValue) notes.push(`${plan.skippedNoValue} grid point(s) without a finite value (NaN or ±∞) not drawn`);
  if (plan.skippedInfiniteX) notes.push(`${plan.skippedInfiniteX} grid point(s) with ${plan.x} = ∞ not drawn`);
  if (plan.skippedNonPositiveX) notes.push(`${plan.skippedNonPositiveX} mark(s) at ${plan.x} ≤ 0 not drawn on the log x axis`);
  if (plan.skippedNonPositiveY) notes.push(`${plan.skippedNonPositiveY} mark(s) ≤ 0 not drawn on the log y axis`);
  return notes;
}

/** Split `text` at spaces into lines of at most `chars` characters (a longer word stays whole). */
function wrap(text: string, chars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > chars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** Panel grid of a chart: columns, panel width, and the chart's total width. */
export function chartLayout(plan: ChartPlan): { columns: number; panelWidth: number; width: number } {
  const panels = plan.facet.length ? plan.panelOrder.length : 1;
  const columns = Math.min(panels, MAX_COLUMNS);
  const fit = plan.fits.length ? FIT_LABEL_ROOM : 0;
  const panelWidth = Math.min(MAX_PANEL_WIDTH, Math.floor((CHART_WIDTH - Y_AXIS_ROOM - columns * fit - (columns - 1) * COLUMN_SPACING) / columns));
  return { columns, panelWidth, width: Y_AXIS_ROOM + columns * (panelWidth + fit) + (columns - 1) * COLUMN_SPACING };
}

/**
 * Slope labels of one panel at the right end of their fitted lines, moved apart vertically so
 * that no two overlap (12 px apart at least), and kept inside the panel.
 * @returns y positions in data units on the log axis `y`.
 */
function placeLabels(ends: number[], y: AxisTicks): number[] {
  const [lo, hi] = y.domain.map(Math.log);
  const toPx = (v: number): number => ((hi - Math.log(v)) / (hi - lo)) * PANEL_HEIGHT;
  const order = ends.map((v, i) => ({ i, px: toPx(v) })).sort((a, b) => a.px - b.px);
  for (let k = 0; k < order.length; k++) order[k].px = Math.max(order[k].px, k ? order[k - 1].px + 12 : 6);
  // pushed below the panel: shift the stack up
  const overflow = order.length ? order[order.length - 1].px - (PANEL_HEIGHT - 6) : 0;
  if (overflow > 0) for (const o of order) o.px -= overflow;
  const out: number[] = [];
  for (const o of order) out[o.i] = Math.exp(hi - (o.px / PANEL_HEIGHT) * (hi - lo));
  return out;
}

/** Rows of the fitted lines (two ends each) and of their labels, tagged by layer. */
function fitRows(plan: ChartPlan, y: AxisTicks): object[] {
  const rows: object[] = [];
  for (const panel of plan.facet.length ? plan.panelOrder : ['']) {
    const fits = plan.fits.filter((f) => f.panel === panel && Number.isFinite(f.slope.mean));
    const line = (f: (typeof fits)[number], x: number): number => Math.exp(f.slope.logCentroid.y + f.slope.mean * (Math.log(x) - f.slope.logCentroid.x));
    for (const f of fits) for (const x of [f.slope.xMin, f.slope.xMax]) rows.push({ layer: 'fit', panel, color: f.color, x, mean: line(f, x) });
    const at = placeLabels(fits.map((f) => Math.min(Math.max(line(f, f.slope.xMax), y.domain[0]), y.domain[1])), y);
    fits.forEach((f, i) => rows.push({ layer: 'fit_label', panel, color: f.color, x: f.slope.xMax, mean: at[i], label: slopeLabel(f.slope), series: [panel, plan.color ? `${plan.color}=${f.color}` : ''].filter(Boolean).join(', ') || plan.metric }));
  }
  return rows;
}

/**
 * Vega-Lite spec: one line per color value (mean over replicates, with points), a band from min
 * to max when any mark averages more than one replicate, one panel per facet value (wrapped, at
 * most 3 per row, each with its own x axis), and with fits a dotted fitted line per line with its
 * slope beside it. Colors and panels appear in the order of {@link ChartPlan.colorOrder} /
 * `panelOrder`; limit values (`t = ∞`) are black and dashed. The `context` lines (see
 * {@link chartNotes}) are shown under the title. Data rows carry a `layer` field
 * (`mark`, `fit`, `fit_label`).
 */
export function chartSpec(plan: ChartPlan, context: string[] = []): TopLevelSpec {
  const size = chartLayout(plan);
  const replicated = plan.points.some((p) => p.n > 1);
  const xs = plan.points.map((p) => p.x);
  const xTicks = plan.xScale === 'log' ? logTicks(xs, size.panelWidth, { nice: false, vertical: false }) : gridTicks(xs, size.panelWidth);
  const ys = plan.points.flatMap((p) => [p.min, p.max]);
  const yTicks = plan.yScale === 'log' ? logTicks(ys, PANEL_HEIGHT, { nice: true, vertical: true }) : linearTicks(ys);
  const x = { field: 'x', type: 'quantitative' as const, title: plan.x, scale: { type: plan.xScale, domain: xTicks.domain, nice: false }, axis: axisSpec(xTicks) };
  const y = { field: 'mean', type: 'quantitative' as const, title: plan.metric, scale: { type: plan.yScale, domain: yTicks.domain, nice: false, ...(plan.yScale === 'linear' ? { zero: false } : {}) }, axis: axisSpec(yTicks) };
  const styles = seriesStyles(plan.colorOrder);
  const scale = (range: unknown[]): object => ({ domain: plan.colorOrder, range });
  const field = { field: 'color', type: 'ordinal' as const, title: plan.color, sort: plan.colorOrder };
  const colorBy = (channel: 'color' | 'fill', legend: boolean): object => (plan.color ? { [channel]: { ...field, scale: scale(styles.map((s) => s.color)), ...(legend ? {} : { legend: null }) } } : {});
  // the same field on color and strokeDash: Vega-Lite draws one legend showing both (a layer
  // with `legend: null` on color would remove it for every layer)
  const dashBy = plan.color ? { strokeDash: { ...field, scale: scale(styles.map((s) => s.dash)) } } : {};
  const only = (layer: string): object[] => [{ filter: `datum.layer === '${layer}'` }];
  const layers: object[] = [];
  if (replicated) layers.push({ transform: only('mark'), mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, ...colorBy('fill', false) } });
  layers.push({ transform: only('mark'), mark: { type: 'line', point: { filled: true, size: 24 }, strokeWidth: 1.6 }, encoding: { x, y, ...colorBy('color', true), ...dashBy } });
  if (plan.fits.length) {
    layers.push({ transform: only('fit'), mark: { type: 'line', strokeWidth: 1.2, strokeDash: [1, 2.5], clip: true }, encoding: { x, y, detail: { field: 'color' }, ...colorBy('color', true) } });
    const text = { type: 'text', align: 'left', baseline: 'middle', dx: 6, fontSize: 10.5 };
    layers.push({ name: 'fit_label', transform: only('fit_label'), mark: text, encoding: { x, y, text: { field: 'label' }, description: { field: 'series' }, ...colorBy('color', true) } });
  }
  const inner = { width: size.panelWidth, height: PANEL_HEIGHT, layer: layers, ...(replicated && plan.color ? { resolve: { scale: { fill: 'independent' } } } : {}) };
  const notes = chartNotes(plan, context).flatMap((n) => wrap(n, Math.floor(size.width / 6.2)));
  const header = { text: plan.metric, ...(notes.length ? { subtitle: notes } : {}), anchor: 'start' as const, fontSize: 13, subtitleFontSize: 11 };
  const legendColumns = Math.max(1, Math.floor((size.width - 40) / Math.max(...plan.colorOrder.map((c) => 36 + labelWidth(c)))));
  const data = [...plan.points.map((p) => ({ layer: 'mark', ...p })), ...(plan.fits.length ? fitRows(plan, yTicks) : [])];
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values: data },
    config: {
      font: 'sans-serif',
      view: { stroke: '#ccc' },
      axis: { gridColor: '#e2e2e2', labelFontSize: 10, titleFontSize: 11 },
      legend: { orient: 'top', direction: 'horizontal', columns: legendColumns, symbolType: 'stroke', symbolSize: 320, symbolStrokeWidth: 2, labelFontSize: 11, titleFontSize: 11, titleOrient: 'left' },
    },
  };
  if (plan.facet.length === 0) return { ...base, title: header, ...inner } as TopLevelSpec;
  return {
    ...base,
    title: header,
    facet: { field: 'panel', type: 'ordinal', title: null, sort: plan.panelOrder, header: { labelFontSize: 12 } },
    columns: size.columns,
    spacing: { column: COLUMN_SPACING + (plan.fits.length ? FIT_LABEL_ROOM : 0), row: 24 },
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
