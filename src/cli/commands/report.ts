/**
 * `ntk-sweep report <sweep>`: charts of a sweep's finished grid points, written to a folder
 * (default `reports/<sweep>/`): `index.html` (self-contained, inline SVG), one `<metric>.svg` and
 * `<metric>.vl.json` (Vega-Lite) per metric, and `data.csv` with every plotted mark. The
 * database is opened read-only; what is drawn is decided in src/report/plan.ts, the files are
 * rendered by src/report/files.ts and written by src/report/folder.ts.
 *
 * `ntk-sweep report` without a sweep writes the overview page `reports/index.html`
 * (src/report/overview.ts): every sweep with its counts, spec, last run and a link to its report.
 */
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { DEFAULT_METRICS, planReport, ReportError, valueLabel, type PointRow, type ReportPlan, type ScaleChoice } from '../../report/plan.js';
import type { OverviewEntry } from '../../report/overview.js';
import type { SweepCounts, SweepRecord } from '../../store/store.js';
import { decodeParams } from '../../util/json.js';
import { CliError, EXIT } from '../exit.js';

interface ReportArgs {
  sweep?: string;
  db: string;
  out?: string;
  metric?: string[];
  x?: string;
  color?: string;
  facet?: string[];
  replicate?: string[];
  'x-scale': ScaleChoice;
  'y-scale': ScaleChoice;
  where?: string;
  series: boolean;
  fit: boolean;
  json: boolean;
}

/**
 * Lines shown under every chart title that say what the selection left out: the `--where`
 * filter, grid points not finished (diverged, failed, pending), and grid axes of the spec that
 * take a single value among the drawn points (`lr = 200` when the other rates diverged).
 */
function contextNotes(a: ReportArgs & { sweep: string }, counts: SweepCounts, rows: PointRow[], grid: Record<string, unknown[]>): string[] {
  const notes: string[] = [];
  if (a.where) notes.push(`where ${a.where}`);
  const unfinished = (['diverged', 'failed', 'pending', 'running'] as const).filter((k) => counts[k] > 0).map((k) => `${counts[k]} ${k}`);
  if (unfinished.length) notes.push(`not drawn: ${unfinished.join(', ')} grid point(s) of the sweep`);
  const fixed = Object.entries(grid)
    .filter(([k, vs]) => vs.length > 1 && new Set(rows.map((r) => valueLabel(r.params[k]))).size === 1)
    .filter(([k]) => !(a.where && new RegExp(`\\b${k}\\b`).test(a.where))) // the filter already says so
    .map(([k]) => `${k} = ${valueLabel(rows[0].params[k])}`);
  if (fixed.length) notes.push(`only ${fixed.join(', ')} among the drawn points`);
  return notes;
}

/** What a chart left out, for the terminal and `--json`: `24 with t = ∞, 2 without a finite value` ('' if nothing). */
function notDrawn(ch: ReportPlan['charts'][number]): string {
  return [
    ch.skippedInfiniteX ? `${ch.skippedInfiniteX} with ${ch.x} = ∞` : '',
    ch.skippedNoValue ? `${ch.skippedNoValue} without a finite value` : '',
    ch.skippedNonPositiveX ? `${ch.skippedNonPositiveX} at ${ch.x} ≤ 0 on the log x axis` : '',
    ch.skippedNonPositiveY ? `${ch.skippedNonPositiveY} ≤ 0 on the log y axis` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** Plan the charts; option errors become usage errors. */
function plan(a: ReportArgs & { sweep: string }, sweep: SweepRecord, rows: PointRow[], grid: Record<string, unknown[]>): ReportPlan {
  if (a.series && a.x !== undefined && a.x !== 't' && a.x !== 'step') {
    throw new CliError(`--x: with --series the x axis is the training time t (or step), not ${a.x}; ${a.x} can be --color or --facet`, EXIT.USAGE);
  }
  try {
    if (a.series && new Set(rows.map((r) => r.params.step)).size < 2) {
      throw new ReportError(`--series: the grid points of ${a.sweep} log a single step each; --series draws training curves (kind: train)`);
    }
    const seriesX = rows.some((r) => r.params.t !== undefined) ? 't' : 'step';
    return planReport(rows, {
      kind: sweep.kind,
      gridAxes: Object.keys(grid),
      metrics: a.metric,
      x: a.x ?? (a.series ? seriesX : undefined),
      color: a.color,
      facet: a.facet,
      replicates: a.replicate,
      xScale: a.series && a['x-scale'] === 'auto' ? 'log' : a['x-scale'],
      yScale: a['y-scale'],
      fit: a.fit,
    });
  } catch (e) {
    if (e instanceof ReportError) throw new CliError(e.message, EXIT.USAGE);
    throw e;
  }
}

/** `report <sweep>`: render the sweep's report and write its folder; prints what was written. */
async function reportSweep(a: ReportArgs & { sweep: string }): Promise<void> {
  // the renderers and the store are loaded when a report is made, not for `report --help`
  const [{ chartFile, reportFileNames, reportFiles }, { checkReportFolder, ReportFolderError, writeReportFolder }, { loadRows }, { sweepFolder }, { explainFilterError }, { openStore }] =
    await Promise.all([
      import('../../report/files.js'),
      import('../../report/folder.js'),
      import('../../report/rows.js'),
      import('../../report/overview.js'),
      import('../../store/schema.js'),
      import('../../store/open.js'),
    ]);
  const out = a.out ?? join('reports', sweepFolder(a.sweep));
  const store = await openStore(a.db, { readonly: true });
  let written: { files: string[]; charts: { metric: string; file: string; marks: number; notDrawn: string; fits?: object[] }[]; autoFacet: string[] };
  try {
    const sweep = (await store.sweeps()).find((s) => s.name === a.sweep);
    if (!sweep) {
      const names = (await store.sweeps()).map((s) => s.name);
      throw new CliError(`no sweep named "${a.sweep}" in ${a.db}; sweeps: ${names.join(', ') || '(none)'}`, EXIT.USAGE);
    }
    const counts = await store.counts(a.sweep);
    let rows: PointRow[];
    try {
      rows = await loadRows(store, a.sweep, a.where, a.series);
    } catch (e) {
      throw new CliError(`cannot select grid points${a.where ? ` with --where "${a.where}"` : ''}: ${explainFilterError(e)}`, EXIT.USAGE);
    }
    if (rows.length === 0) {
      throw new CliError(
        a.where
          ? `no finished grid point of sweep ${a.sweep} matches --where "${a.where}" (${counts.done} done of ${counts.total})`
          : `sweep ${a.sweep} has no finished grid points yet (${counts.done} done of ${counts.total}); run it first: npx ntk-sweep run <spec> --db ${a.db}`,
        EXIT.USAGE,
      );
    }
    const spec = decodeParams(sweep.specJson) as { grid?: Record<string, unknown[]>; description?: string };
    const grid = spec.grid ?? {};
    const p = plan(a, sweep, rows, grid);
    try {
      checkReportFolder(out, reportFileNames(p));
    } catch (e) {
      if (e instanceof ReportFolderError) throw new CliError(e.message, EXIT.USAGE);
      throw e;
    }
    const notes = contextNotes(a, counts, rows, grid);
    const command = ['npx', 'ntk-sweep', ...process.argv.slice(2)].map((s) => (/^[\w./=:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)).join(' ');
    const files = await reportFiles(p, { sweep: a.sweep, kind: sweep.kind, description: spec.description, db: a.db, notes, counts, command });
    try {
      writeReportFolder(out, files);
    } catch (e) {
      throw new CliError(`cannot write the report to ${out}: ${(e as Error).message}`, EXIT.STORAGE);
    }
    written = {
      files: files.map((f) => join(out, f.name)),
      charts: p.charts.map((ch) => ({
        metric: ch.metric,
        file: join(out, chartFile(ch.metric)),
        marks: ch.points.length,
        notDrawn: notDrawn(ch),
        ...(a.fit ? { fits: ch.fits.map((f) => ({ panel: f.panel, [ch.color ?? 'line']: f.color, seeds: f.slope.seeds, slope_mean: f.slope.mean, slope_sd: f.slope.sd, points: f.slope.points })) } : {}),
      })),
      autoFacet: p.autoFacet,
    };
  } finally {
    await store.close();
  }
  if (written.autoFacet.length) {
    const n = written.autoFacet.length;
    process.stderr.write(
      `note: ${written.autoFacet.join(', ')} also var${n > 1 ? 'y' : 'ies'} among the drawn points (a grid axis left off --facet, or a spec changed between runs) and ${n > 1 ? 'are' : 'is'} not on --x or --color: one panel per value (or fix it with --where)\n`,
    );
  }
  if (a.json) {
    const charts = written.charts.map(({ notDrawn: nd, ...ch }) => ({ ...ch, not_drawn: nd || null }));
    process.stdout.write(JSON.stringify({ sweep: a.sweep, out, index: join(out, 'index.html'), auto_facet: written.autoFacet, files: written.files, charts }, null, 2) + '\n');
    return;
  }
  for (const ch of written.charts) process.stdout.write(`${ch.metric}: ${ch.marks} mark(s)${ch.notDrawn ? ` (not drawn: ${ch.notDrawn})` : ''} → ${ch.file}\n`);
  process.stdout.write(`report: ${join(out, 'index.html')}\n`);
}

/** `report` without a sweep: the overview page of every sweep in the database, `<out>/index.html`. */
async function reportOverview(a: ReportArgs): Promise<void> {
  const [{ checkReportFolder, ReportFolderError, writeReportFolder }, { overviewPage }, { openStore }] = await Promise.all([
    import('../../report/folder.js'),
    import('../../report/overview.js'),
    import('../../store/open.js'),
  ]);
  const out = a.out ?? 'reports';
  const store = await openStore(a.db, { readonly: true });
  let entries: OverviewEntry[];
  try {
    entries = [];
    for (const sweep of await store.sweeps()) {
      entries.push({ sweep, counts: await store.counts(sweep.name), lastRun: await store.lastActivity(sweep.name) });
    }
  } finally {
    await store.close();
  }
  try {
    checkReportFolder(out, ['index.html']);
  } catch (e) {
    if (e instanceof ReportFolderError) throw new CliError(e.message, EXIT.USAGE);
    throw e;
  }
  try {
    writeReportFolder(out, [{ name: 'index.html', content: overviewPage(entries, out, a.db) }]);
  } catch (e) {
    throw new CliError(`cannot write the overview to ${out}: ${(e as Error).message}`, EXIT.STORAGE);
  }
  const index = join(out, 'index.html');
  if (a.json) process.stdout.write(JSON.stringify({ out, index, sweeps: entries.map((e) => ({ sweep: e.sweep.name, ...e.counts, last_run: e.lastRun === null ? null : new Date(e.lastRun).toISOString() })) }, null, 2) + '\n');
  else process.stdout.write(`overview of ${entries.length} sweep(s): ${index}\n`);
}

export function registerReport(y: Argv): Argv {
  return y.command<ReportArgs>(
    'report [sweep]',
    'Charts of a sweep (HTML + SVG + Vega-Lite + CSV): each metric against a grid axis, a line per value of another, a panel per the rest; without a sweep, reports/index.html: every sweep, its counts, spec, last run and report',
    (c) =>
      c
        .positional('sweep', { type: 'string', describe: 'Sweep name (see `status`); leave it out for the overview page of every sweep' })
        .option('out', { type: 'string', describe: 'Output folder (default: reports/<sweep>, or reports for the overview); a new report replaces the previous one there' })
        .option('metric', { type: 'string', array: true, describe: `Metrics to draw (default, those present of: ${Object.entries(DEFAULT_METRICS).map(([k, ms]) => `${k}: ${ms.join(' ')}`).join('; ')})` })
        .option('x', { type: 'string', describe: 'x axis (default: depth for kernel sweeps, width for train sweeps, t with --series)' })
        .option('color', { type: 'string', alias: 'by', describe: 'One line per value of this param (default: the other grid axis with the most values, at most 12)' })
        .option('facet', { type: 'string', array: true, describe: 'One panel per combination of these params (default: the remaining grid axes); a varying grid axis left off becomes a panel too' })
        .option('replicate', { type: 'string', array: true, describe: 'Params averaged over: mean line, min–max band (default: seed data_seed; `--replicate` alone: none)' })
        .option('x-scale', { choices: ['auto', 'log', 'linear'] as const, default: 'auto' as ScaleChoice, describe: 'auto: log when all x > 0 and max/min ≥ 20' })
        .option('y-scale', { choices: ['auto', 'log', 'linear'] as const, default: 'auto' as ScaleChoice, describe: 'auto: log when all values > 0 and max/min ≥ 100' })
        .option('where', { type: 'string', describe: 'SQL condition on `results` columns, e.g. "n_train >= 400" (one expression: no ;, no comments)' })
        .option('series', {
          type: 'boolean',
          default: false,
          describe: 'Training curves: every logged step, x = t = lr·step (log; t = 0 left out) and a line per the axis that would have been x (e.g. width)',
        })
        .option('fit', {
          type: 'boolean',
          default: false,
          describe: 'On charts with log x and log y: a fitted line per line and its log-log slope (mean ± sd over seeds) beside it, computed as `slope` computes it',
        })
        .option('json', { type: 'boolean', default: false, describe: 'Print what was written as JSON on stdout' })
        .example('$0 report', 'reports/index.html: every sweep of the database with its counts, spec, last run and a link to its report')
        .example('$0 report quickstart', 'test_acc, test_mse, … against depth, a line per t, a panel per n_train')
        .example('$0 report width-lazy --metric act_dev_max act_dev_norm --fit', 'against width, a line per depth, mean and range over seeds, slope beside each line')
        .example('$0 report width-lazy --series --metric act_dev_norm train_loss', 'training curves: against t, a line per width, a panel per depth')
        .example('$0 report depth-time --x t --color depth --where "n_train = 2000" --metric test_acc', 'against stopping time t = tau·depth, a line per depth')
        .epilog('What a chart leaves out (t = ∞ on the x axis, values that are not finite, marks ≤ 0 on a log axis, unfinished grid points) is counted under its title.'),
    async (a) => (a.sweep === undefined ? reportOverview(a) : reportSweep({ ...a, sweep: a.sweep })),
  );
}
