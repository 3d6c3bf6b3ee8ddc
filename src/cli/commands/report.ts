/**
 * `ntk-sweep report <sweep>`: charts of a sweep's finished grid points, written to a folder
 * (default `reports/<sweep>/`): `index.html` (self-contained, inline SVG), one `<metric>.svg` and
 * `<metric>.vl.json` (Vega-Lite) per metric, and `data.csv` with every plotted mark. The
 * database is opened read-only; what is drawn is decided in src/report/plan.ts.
 */
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { Argv } from 'yargs';
import { chartSpec, renderSvg } from '../../report/chart.js';
import { writeReportFolder } from '../../report/folder.js';
import { reportPage } from '../../report/page.js';
import { DEFAULT_METRICS, planReport, ReportError, type PointRow, type ScaleChoice } from '../../report/plan.js';
import { finishedPointsSql } from '../../store/schema.js';
import { SqliteStore } from '../../store/sqlite-store.js';
import { decodeParams } from '../../util/json.js';
import { CliError, EXIT } from '../exit.js';

interface ReportArgs {
  sweep: string;
  db: string;
  out?: string;
  metric?: string[];
  x?: string;
  color?: string;
  facet?: string[];
  replicate: string[];
  'x-scale': ScaleChoice;
  'y-scale': ScaleChoice;
  where?: string;
  series: boolean;
  json: boolean;
}

function fileName(metric: string): string {
  return metric.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * The finished grid points of `sweep` (optionally filtered by a condition on `results` columns)
 * with their final metrics, or with `series` one row per logged step: params plus `step` and,
 * when the point has a learning rate, the training time `t = lr · step`.
 */
async function loadRows(store: SqliteStore, sweep: string, where: string | undefined, series: boolean): Promise<PointRow[]> {
  const scope = `SELECT task_id FROM ${finishedPointsSql(sweep, where)}`;
  let tasks: Record<string, unknown>[];
  let metrics: Record<string, unknown>[];
  try {
    tasks = await store.query(`SELECT id, params FROM tasks WHERE id IN (${scope}) ORDER BY id`);
    metrics = await store.query(`SELECT task_id, ${series ? 'step' : '0 AS step'}, name, value FROM ${series ? 'metrics' : 'final_metrics'} WHERE task_id IN (${scope})`);
  } catch (e) {
    throw new CliError(`cannot select grid points${where ? ` with --where "${where}"` : ''}: ${(e as Error).message.replace(/ \[in: [\s\S]*$/, '')}`, EXIT.USAGE);
  }
  const params = new Map(tasks.map((t) => [String(t.id), decodeParams(String(t.params))]));
  const rows = new Map<string, PointRow>();
  for (const m of metrics) {
    const p = params.get(String(m.task_id));
    if (!p) continue;
    const step = Number(m.step);
    const key = `${String(m.task_id)}/${step}`;
    let row = rows.get(key);
    if (!row) {
      row = { params: series ? { ...p, step, ...(typeof p.lr === 'number' ? { t: p.lr * step } : {}) } : p, metrics: {} };
      rows.set(key, row);
    }
    row.metrics[String(m.name)] = m.value === null ? null : Number(m.value);
  }
  // grid points without any metric still count (they are drawn as missing values)
  if (!series) for (const [id, p] of params) if (!rows.has(`${id}/0`)) rows.set(`${id}/0`, { params: p, metrics: {} });
  return [...rows.values()];
}

export function registerReport(y: Argv): Argv {
  return y.command<ReportArgs>(
    'report <sweep>',
    'Charts of a sweep (HTML + SVG + Vega-Lite + CSV): each metric against a grid axis, a line per value of another, a panel per the rest',
    (c) =>
      c
        .positional('sweep', { type: 'string', demandOption: true, describe: 'Sweep name (see `status`)' })
        .option('out', { type: 'string', describe: 'Output folder (default: reports/<sweep>)' })
        .option('metric', { type: 'string', array: true, describe: `Metrics to draw (default, those present of: ${Object.entries(DEFAULT_METRICS).map(([k, ms]) => `${k}: ${ms.join(' ')}`).join('; ')})` })
        .option('x', { type: 'string', describe: 'x axis (default: depth for kernel sweeps, width for train sweeps)' })
        .option('color', { type: 'string', alias: 'by', describe: 'One line per value of this param (default: the other grid axis with the most values)' })
        .option('facet', { type: 'string', array: true, describe: 'One panel per combination of these params (default: the remaining grid axes)' })
        .option('replicate', { type: 'string', array: true, default: ['seed', 'data_seed'], describe: 'Params averaged over (mean line, min–max band)' })
        .option('x-scale', { choices: ['auto', 'log', 'linear'] as const, default: 'auto' as ScaleChoice, describe: 'auto: log when all x > 0 and max/min ≥ 20' })
        .option('y-scale', { choices: ['auto', 'log', 'linear'] as const, default: 'auto' as ScaleChoice, describe: 'auto: log when all values > 0 and max/min ≥ 100' })
        .option('where', { type: 'string', describe: 'Extra SQL condition on `results` columns, e.g. "n_train >= 400"' })
        .option('series', {
          type: 'boolean',
          default: false,
          describe: 'Training curves: every logged step, x = t = lr·step (log; t = 0 left out) and a line per the axis that would have been x (e.g. width)',
        })
        .option('json', { type: 'boolean', default: false, describe: 'Print what was written as JSON on stdout' })
        .example('$0 report quickstart', 'test_acc, test_mse, … against depth, a line per t, a panel per n_train')
        .example('$0 report width-lazy --metric act_dev_max act_dev_norm', 'against width, a line per depth, mean and range over seeds')
        .example('$0 report width-lazy --series --metric act_dev_norm train_loss', 'training curves: against t, a line per width, a panel per depth')
        .example('$0 report depth-time --x t --color depth --where "n_train = 2000" --metric test_acc', 'against stopping time t = tau·depth, a line per depth')
        .epilog('Grid points with an infinite x (t = ∞ on the x axis) are left out of that chart and counted in its title.'),
    async (a) => {
      const store = await SqliteStore.openReadonly(a.db);
      let written: { out: string; charts: { metric: string; file: string; marks: number }[]; autoFacet: string[] };
      try {
        const sweep = (await store.sweeps()).find((s) => s.name === a.sweep);
        if (!sweep) {
          const names = (await store.sweeps()).map((s) => s.name);
          throw new CliError(`no sweep named "${a.sweep}" in ${a.db}; sweeps: ${names.join(', ') || '(none)'}`, EXIT.USAGE);
        }
        const counts = await store.counts(a.sweep);
        const rows = await loadRows(store, a.sweep, a.where, a.series);
        if (rows.length === 0) {
          throw new CliError(
            a.where
              ? `no finished grid point of sweep ${a.sweep} matches --where "${a.where}" (${counts.done} done of ${counts.total})`
              : `sweep ${a.sweep} has no finished grid points yet (${counts.done} done of ${counts.total}); run it first: npx ntk-sweep run <spec> --db ${a.db}`,
            EXIT.USAGE,
          );
        }
        const spec = decodeParams(sweep.specJson) as { grid?: Record<string, unknown[]>; description?: string };
        let plan;
        try {
          if (a.series && new Set(rows.map((r) => r.params.step)).size < 2) {
            throw new ReportError(`--series: the grid points of ${a.sweep} log a single step each; --series draws training curves (kind: train)`);
          }
          const seriesX = rows.some((r) => 't' in r.params && r.params.t !== undefined) ? 't' : 'step';
          plan = planReport(rows, {
            kind: sweep.kind,
            gridAxes: Object.keys(spec.grid ?? {}),
            metrics: a.metric,
            x: a.x ?? (a.series ? seriesX : undefined),
            color: a.color,
            facet: a.facet,
            replicates: a.replicate,
            xScale: a.series && a['x-scale'] === 'auto' ? 'log' : a['x-scale'],
            yScale: a['y-scale'],
          });
        } catch (e) {
          if (e instanceof ReportError) throw new CliError(e.message, EXIT.USAGE);
          throw e;
        }
        const out = a.out ?? join('reports', fileName(a.sweep));
        const files: { name: string; content: string }[] = [];
        const svgs: { file: string; svg: string }[] = [];
        for (const chart of plan.charts) {
          const spec = chartSpec(chart, a.where);
          const file = `${fileName(chart.metric)}.svg`;
          const svg = await renderSvg(spec);
          files.push({ name: file, content: svg }, { name: `${fileName(chart.metric)}.vl.json`, content: JSON.stringify(spec, null, 2) + '\n' });
          svgs.push({ file, svg });
        }
        const csvLabel = (s: string): string => s.replace(/-?∞/g, (m) => (m === '∞' ? 'inf' : '-inf'));
        const csvRows = plan.charts.flatMap((ch) => ch.points.map((p) => [ch.metric, ch.x, p.x, ch.color ?? '', csvLabel(p.color), csvLabel(p.panel), p.mean, p.min, p.max, p.n]));
        files.push({ name: 'data.csv', content: stringify(csvRows, { header: true, columns: ['metric', 'x_axis', 'x', 'color_axis', 'color', 'panel', 'mean', 'min', 'max', 'n'] }) });
        const command = ['npx', 'ntk-sweep', ...process.argv.slice(2)].map((s) => (/^[\w./=:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)).join(' ');
        files.push({ name: 'index.html', content: reportPage({ sweep: a.sweep, kind: sweep.kind, description: spec.description, db: a.db, where: a.where, counts, plan, svgs, command }) });
        try {
          writeReportFolder(out, files);
        } catch (e) {
          throw new CliError(`cannot write the report to ${out}: ${(e as Error).message}`, EXIT.STORAGE);
        }
        written = { out, charts: plan.charts.map((ch, i) => ({ metric: ch.metric, file: join(out, svgs[i].file), marks: ch.points.length })), autoFacet: plan.autoFacet };
      } finally {
        await store.close();
      }
      if (written.autoFacet.length) {
        process.stderr.write(`note: ${written.autoFacet.join(', ')} also var${written.autoFacet.length > 1 ? 'y' : 'ies'} and ${written.autoFacet.length > 1 ? 'are' : 'is'} not on --x, --color or --facet: one panel per value (or fix it with --where)\n`);
      }
      if (a.json) {
        process.stdout.write(JSON.stringify({ sweep: a.sweep, out: written.out, index: join(written.out, 'index.html'), auto_facet: written.autoFacet, charts: written.charts }, null, 2) + '\n');
        return;
      }
      for (const ch of written.charts) process.stdout.write(`${ch.metric}: ${ch.marks} mark(s) → ${ch.file}\n`);
      process.stdout.write(`report: ${join(written.out, 'index.html')}\n`);
    },
  );
}
