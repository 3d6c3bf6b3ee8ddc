/**
 * The report's `index.html`: one self-contained page (inline SVG, no scripts, no network) with
 * the sweep's description, its grid-point counts, the axes drawn, and every chart.
 */
import type { SweepCounts } from '../store/store.js';
import type { ReportPlan } from './plan.js';

export interface PageInput {
  sweep: string;
  kind: string;
  description?: string;
  db: string;
  /** What the selection left out (filter, unfinished points, fixed axes), one line each. */
  notes: string[];
  counts: SweepCounts;
  plan: ReportPlan;
  /** One rendered SVG per chart of `plan.charts`, same order; `file` is its name in the folder. */
  svgs: { file: string; svg: string }[];
  /** The command line that makes this report again. */
  command: string;
}

/** `s` with `& < > "` escaped for HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The HTML page as a string. */
export function reportPage(p: PageInput): string {
  const c = p.counts;
  const first = p.plan.charts[0];
  const lineAxis = p.plan.charts.find((ch) => ch.color)?.color;
  const states = (['done', 'diverged', 'failed', 'pending', 'running'] as const).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
  const layout = first
    ? [
        `x: <code>${escapeHtml(first.x)}</code> (${first.xScale})`,
        lineAxis ? `color: <code>${escapeHtml(lineAxis)}</code>` : '',
        first.facet.length ? `panels: ${first.facet.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')}` : '',
        p.plan.autoFacet.length ? `(${p.plan.autoFacet.map((f) => `<code>${escapeHtml(f)}</code>`).join(', ')} added to the panels: ${p.plan.autoFacet.length > 1 ? 'they vary' : 'it varies'} and ${p.plan.autoFacet.length > 1 ? 'are' : 'is'} not on x or color)` : '',
        p.plan.replicates.length ? `averaged over: ${p.plan.replicates.map((r) => `<code>${escapeHtml(r)}</code>`).join(', ')}` : '',
      ].filter(Boolean)
    : [];
  const charts = p.plan.charts
    .map((ch, i) => {
      const svg = p.svgs[i];
      return `<section id="${escapeHtml(svg.file.replace(/\.svg$/, ''))}" aria-label="${escapeHtml(ch.metric)}">\n${svg.svg}\n<p class="files"><a href="${escapeHtml(svg.file)}">${escapeHtml(svg.file)}</a> · <a href="${escapeHtml(svg.file.replace(/\.svg$/, '.vl.json'))}">Vega-Lite spec</a>${ch.skippedNoValue ? ` · ${ch.skippedNoValue} grid point(s) without a finite value left out` : ''}</p></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ntk-sweep report: ${escapeHtml(p.sweep)}</title>
<style>body{font-family:sans-serif;max-width:1200px;margin:1.5em auto;padding:0 16px;color:#222}code{background:#f3f3f3;padding:0 .2em}section{margin:1.5em 0}h2{margin:.5em 0 .2em}.files{font-size:.85em;color:#666}svg{display:block;max-width:100%;height:auto}
@media print{body{max-width:none;margin:0;padding:0}section{break-inside:avoid}.files{display:none}a{color:inherit;text-decoration:none}}</style>
</head><body>
<h1>Sweep <code>${escapeHtml(p.sweep)}</code> <small>(${escapeHtml(p.kind)})</small></h1>
${p.description ? `<p>${escapeHtml(p.description)}</p>` : ''}
<p>${c.total} grid point(s): ${states.join(', ') || 'none'}. Only finished (<code>done</code>) points are drawn. Database: <code>${escapeHtml(p.db)}</code>.</p>
<p>${layout.join(' · ')}</p>
${p.notes.length ? `<ul>${p.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : ''}
<p>Values: <a href="data.csv">data.csv</a> (one row per mark). Made by <code>${escapeHtml(p.command)}</code>.</p>
${charts}
</body></html>
`;
}
