/**
 * The overview page of a database, `reports/index.html` (`ntk-sweep report` without a sweep
 * name): every sweep with its grid points by state, its last run, its spec and a link to its
 * report. One self-contained page (no scripts, no network), like the reports it links to.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { SweepCounts, SweepRecord } from '../store/store.js';
import { decodeParams } from '../util/json.js';
import { escapeHtml } from './page.js';

/** One sweep of the overview. */
export interface OverviewEntry {
  sweep: SweepRecord;
  counts: SweepCounts;
  /** Last time a grid point of the sweep finished or started (ms since the epoch); null if never run. */
  lastRun: number | null;
}

/** The folder of a sweep's report under the overview's folder (`reports/<sweep>`), as `report <sweep>` names it. */
export function sweepFolder(sweep: string): string {
  return sweep.replace(/[^A-Za-z0-9_.-]/g, '_');
}

const STATES = ['done', 'diverged', 'failed', 'running', 'pending'] as const;

function when(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/**
 * The overview page. `out` is the folder the page goes to: a sweep's report is linked when
 * `out/<sweep>/index.html` exists (with a warning when the sweep ran after the report was made),
 * otherwise the command that makes it is shown.
 */
export function overviewPage(entries: OverviewEntry[], out: string, db: string): string {
  const rows = entries.map(({ sweep, counts, lastRun }) => {
    const index = join(out, sweepFolder(sweep.name), 'index.html');
    const made = existsSync(index) ? statSync(index).mtimeMs : null;
    const link =
      made === null
        ? `no report yet: <code>npx ntk-sweep report ${escapeHtml(sweep.name)} --db ${escapeHtml(db)}${out === 'reports' ? '' : ` --out ${escapeHtml(join(out, sweepFolder(sweep.name)))}`}</code>`
        : `<a href="${escapeHtml(`${sweepFolder(sweep.name)}/index.html`)}">report</a> <small>(made ${when(made)}${lastRun !== null && lastRun > made ? '; the sweep ran since: make it again' : ''})</small>`;
    const cells = STATES.map((s) => `<td class="n${counts[s] ? '' : ' zero'}">${counts[s]}</td>`).join('');
    const spec = stringify(decodeParams(sweep.specJson)).trimEnd();
    return `<tr><th scope="row"><code>${escapeHtml(sweep.name)}</code><br><small>${escapeHtml(sweep.kind)}</small></th><td class="n">${counts.total}</td>${cells}<td>${when(lastRun)}</td><td>${link}</td></tr>
<tr class="spec"><td colspan="${STATES.length + 4}"><details><summary>spec of <code>${escapeHtml(sweep.name)}</code></summary><pre>${escapeHtml(spec)}</pre></details></td></tr>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ntk-sweep: sweeps in ${escapeHtml(db)}</title>
<style>body{font-family:sans-serif;max-width:1200px;margin:1.5em auto;padding:0 16px;color:#222}code{background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse;width:100%}th,td{padding:.35em .6em;text-align:left;vertical-align:top;border-top:1px solid #ddd}thead th{border-bottom:2px solid #999}tbody th code{white-space:nowrap}tbody th small{font-weight:normal;color:#666}td.n{text-align:right;font-variant-numeric:tabular-nums}td.zero{color:#aaa}tr.spec td{border-top:none;padding-top:0}pre{background:#f7f7f7;padding:.6em;overflow-x:auto;max-width:100%}
@media print{body{max-width:none;margin:0;padding:0}details{display:block}}</style>
</head><body>
<h1>Sweeps in <code>${escapeHtml(db)}</code></h1>
<p>${entries.length} sweep(s). Grid points by state; a grid point shared by two sweeps is counted in both. Made by <code>npx ntk-sweep report --db ${escapeHtml(db)}</code>.</p>
<table><thead><tr><th>sweep</th><th>grid points</th>${STATES.map((s) => `<th>${s}</th>`).join('')}<th>last run</th><th>report</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`;
}
