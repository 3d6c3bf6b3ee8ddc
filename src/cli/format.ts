/**
 * Rendering of result rows as a table (cli-table3), CSV (csv-stringify) or JSON. Both libraries
 * are loaded (through their CommonJS builds, synchronously) when rows are first rendered in
 * their format, so that commands which only print `--help` or JSON do not load them.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

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

/** Marker of ±∞ inside `JSON.stringify` output, replaced by a number literal afterwards. */
const INF_MARK = '\u0000ntk-inf:';

/**
 * JSON text of `value` with our convention for numbers JSON has no literal for: ±∞ (`t = ∞`,
 * `cond`, `logdet`) is written as the number `1e999` / `-1e999`, which JSON parsers read as
 * infinity (JavaScript, Python `json`, pandas) or as the largest double (jq: `t > 1e308` selects
 * it either way); NaN is `null`. BigInts become numbers.
 */
export function toJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? null : INF_MARK + (v > 0 ? '+' : '-');
      return v;
    },
    indent,
  );
  return text.replace(/"\\u0000ntk-inf:([+-])"/g, (_m, sign: string) => (sign === '+' ? '1e999' : '-1e999'));
}

/** A param value as people read it in messages: `inf` for ∞, JSON otherwise. */
export function showValue(v: unknown): string {
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return JSON.stringify(v) ?? String(v);
}

/** Params as `{"depth":3,"t":inf}` for messages (∞ as `inf`, not JSON's null). */
export function showParams(p: Record<string, unknown>): string {
  return '{' + Object.entries(p).map(([k, v]) => `${JSON.stringify(k)}:${showValue(v)}`).join(',') + '}';
}

/** Render rows (all with the same keys) in the given format; tables show numbers to 6 digits. */
export function renderRows(rows: Record<string, unknown>[], format: Format): string {
  const cols = rows.length ? Object.keys(rows[0]) : [];
  if (format === 'json') return toJson(rows, 2) + '\n';
  if (format === 'csv') {
    // full precision in CSV: it is for other tools
    const { stringify } = require('csv-stringify/sync') as typeof import('csv-stringify/sync');
    return stringify(rows.map((r) => cols.map((c) => { const v = r[c]; return typeof v === 'number' && !Number.isFinite(v) ? cell(v) : v ?? ''; })), { header: true, columns: cols });
  }
  if (rows.length === 0) return '(no rows)\n';
  const Table = require('cli-table3') as typeof import('cli-table3');
  const table = new Table({ head: cols, style: { head: [], border: [] } });
  for (const r of rows) table.push(cols.map((c) => cell(r[c])));
  return table.toString() + `\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}
