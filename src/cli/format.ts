/** Rendering of result rows as a table (cli-table3), CSV (csv-stringify) or JSON. */
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';

export type Format = 'table' | 'csv' | 'json';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
    return Math.abs(v) >= 1e-4 && Math.abs(v) < 1e6 ? v.toPrecision(6).replace(/\.?0+$/, '') : v.toExponential(4);
  }
  return String(v);
}

function jsonValue(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? null : v > 0 ? 'inf' : '-inf';
  if (typeof v === 'bigint') return Number(v);
  return v;
}

/** Render rows (all with the same keys) in the given format; tables show numbers to 6 digits. */
export function renderRows(rows: Record<string, unknown>[], format: Format): string {
  const cols = rows.length ? Object.keys(rows[0]) : [];
  if (format === 'json') {
    return JSON.stringify(rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, jsonValue(v)]))), null, 2) + '\n';
  }
  if (format === 'csv') {
    // full precision in CSV: it is for other tools
    return stringify(rows.map((r) => cols.map((c) => { const v = r[c]; return typeof v === 'number' && !Number.isFinite(v) ? cell(v) : v ?? ''; })), { header: true, columns: cols });
  }
  if (rows.length === 0) return '(no rows)\n';
  const table = new Table({ head: cols, style: { head: [], border: [] } });
  for (const r of rows) table.push(cols.map((c) => cell(r[c])));
  return table.toString() + `\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}
