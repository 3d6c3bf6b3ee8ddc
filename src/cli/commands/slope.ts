/**
 * `ntk-sweep slope`: log-log slope of a metric against an axis (default width), fitted per
 * group (default depth) and per seed by ordinary least squares on (log x, log metric); prints
 * the mean slope over seeds, its standard deviation, min/max, and the pooled fit over all seeds.
 * Used for the paper's width claim (docs/conventions.md §1, claim 1): `act_dev_max` ~ width^{-1/2},
 * `act_dev_norm` ~ width^0 (`sweeps/width-lazy.yaml`).
 *
 * Options (documented here once):
 * - `--metric m1 m2 …`  metric names as logged (`metrics.name`), e.g. `act_dev_max`,
 *   `act_dev_norm_l1`, `weight_rel_change`.
 * - `--step s`          use the value logged at GD step `s` (time `t = lr·s`) instead of the
 *   final value; grid points that did not log step `s` are left out. Default: final values.
 * - `--x`, `--by`, `--seed`  axis, group and replicate: columns of the `results` view or, for
 *   any other param, keys of the task params (`json_extract(params, '$.key')`).
 * - `--where "<sql>"`   extra condition on `results` columns, e.g. `"width >= 256"`.
 * Only grid points with status `done`, `x > 0` and a positive metric value are fitted; the
 * `points` column says how many were used. Per-seed fits need at least two distinct x.
 */
import type { Argv } from 'yargs';
import { explainFilterError, finishedPointsSql, quoteString } from '../../store/schema.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/store.js';
import { badOption, CliError, EXIT } from '../exit.js';
import { renderRows, type Format } from '../format.js';
import { fitSlopeOverSeeds } from '../../util/loglog.js';
import { unaccountedParams, type PointRow } from '../../report/plan.js';
import { loadRows } from '../../report/rows.js';

interface SlopeArgs {
  sweep: string;
  metric: string[];
  x: string;
  by: string;
  seed: string;
  step?: number;
  where?: string;
  db: string;
  format: Format;
}

const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names and mixing, checked on the selected finished points before any fit: every metric is
 * logged, `--x`, `--by` and `--seed` are params, and no other param varies among the points
 * without being fixed by them (a fit across `t` or a changed `lr` would mix series).
 * @throws CliError (exit 2) naming the option and what exists.
 */
async function checkSlopeInputs(store: Store, a: SlopeArgs): Promise<void> {
  let rows: PointRow[];
  let names: Set<string>;
  try {
    rows = await loadRows(store, a.sweep, a.where, false);
    names = new Set(rows.flatMap((r) => Object.keys(r.metrics)));
  } catch (e) {
    throw new CliError(`cannot select grid points${a.where ? ` with --where "${a.where}"` : ''}: ${explainFilterError(e)}`, EXIT.USAGE);
  }
  if (rows.length === 0) throw new CliError(`no finished grid points of sweep ${a.sweep}${a.where ? ` with ${a.where}` : ''}`, EXIT.USAGE);
  for (const m of a.metric) {
    if (!names.has(m)) throw new CliError(`--metric: no metric named "${m}" in sweep ${a.sweep}; metrics: ${[...names].sort().join(', ')}`, EXIT.USAGE);
  }
  const params = [...new Set(rows.flatMap((r) => Object.keys(r.params)))].sort();
  for (const [option, key] of [['--x', a.x], ['--by', a.by], ['--seed', a.seed]] as const) {
    if (option === '--seed' && key === 'seed') continue; // the default; a sweep without seeds has one replicate
    if (!params.includes(key)) throw new CliError(`${option}: "${key}" is not a param of sweep ${a.sweep}'s grid points; params: ${params.join(', ')}`, EXIT.USAGE);
  }
  const mixed = unaccountedParams(rows, [a.x, a.by, a.seed]);
  if (mixed.length) {
    throw new CliError(
      `${mixed.join(', ')} var${mixed.length > 1 ? 'y' : 'ies'} among the selected points but ${mixed.length > 1 ? 'are' : 'is'} not --x, --by or --seed: ` +
        `a fit would mix different series; fix ${mixed.length > 1 ? 'them' : 'it'} with --where (e.g. --where "${mixed[0]} = …") or group by ${mixed.length > 1 ? 'one' : 'it'} with --by`,
      EXIT.USAGE,
    );
  }
}

export function registerSlope(y: Argv): Argv {
  return y.command<SlopeArgs>(
    'slope <sweep>',
    'Fit the log-log slope of metric(s) against an axis (default width), per group (default depth), with its spread over seeds',
    (c) =>
      c
        .positional('sweep', { type: 'string', demandOption: true })
        .option('metric', { type: 'string', array: true, demandOption: true, describe: 'Metric name(s) as logged, e.g. act_dev_max act_dev_norm act_dev_max_l1' })
        .option('x', { type: 'string', default: 'width', describe: 'Axis: a results column or a task param' })
        .option('by', { type: 'string', default: 'depth', describe: 'Group (one fit per value): a results column or a task param' })
        .option('seed', { type: 'string', default: 'seed', describe: 'Replicate (one fit per value; spread reported): a results column or a task param' })
        .option('step', { type: 'number', describe: 'Use values logged at this GD step (t = lr·step) instead of final values' })
        .option('where', { type: 'string', describe: 'Extra SQL condition on results columns, e.g. "width >= 256"' })
        .option('format', { choices: ['table', 'csv', 'json'] as const, default: 'table' as Format })
        .example('$0 slope width-lazy --metric act_dev_max act_dev_norm', 'slopes against width per depth (final values)')
        .example('$0 slope width-lazy --metric act_dev_max --step 5 --where "width >= 256"', 'at an intermediate logged step, large widths only'),
    async (a) => {
      for (const col of [a.x, a.by, a.seed]) if (!ident.test(col)) throw new CliError(`not a column or param name: ${col}`, EXIT.USAGE);
      if (a.step !== undefined && !(Number.isSafeInteger(a.step) && a.step >= 0)) throw badOption('--step', 'an integer >= 0', a.step);
      const store = await openStore(a.db, { readonly: true });
      try {
        const cols = new Set(await store.resultColumns());
        const col = (c: string): string => (cols.has(c) ? `r.${c}` : store.paramSql('r', c, c === a.x ? 'number' : 'text'));
        const sweepCount = await store.query(`SELECT COUNT(*) AS n FROM results WHERE sweep = ${quoteString(a.sweep)}`);
        if (Number(sweepCount[0]?.n ?? 0) === 0) throw new CliError(`no grid points in a sweep named "${a.sweep}" in ${a.db}`, EXIT.USAGE);
        await checkSlopeInputs(store, a);
        const out: Record<string, unknown>[] = [];
        for (const metric of a.metric) {
          const source =
            a.step === undefined
              ? `JOIN final_metrics m ON m.task_id = r.task_id AND m.name = ${quoteString(metric)}`
              : `JOIN metrics m ON m.task_id = r.task_id AND m.name = ${quoteString(metric)} AND m.step = ${a.step}`;
          let rows: Record<string, unknown>[];
          try {
            rows = await store.query(
              `SELECT ${col(a.by)} AS g, ${col(a.seed)} AS s, ${col(a.x)} AS x, m.value AS y FROM ${finishedPointsSql(a.sweep, a.where)} r ${source}
               WHERE m.value > 0 AND ${col(a.x)} > 0`,
            );
          } catch (e) {
            throw new CliError(`cannot read ${metric} against ${a.x}: ${explainFilterError(e)}`, EXIT.USAGE);
          }
          if (rows.length === 0) {
            throw new CliError(
              `no finished grid points of sweep ${a.sweep} with ${metric} > 0${a.step === undefined ? '' : ` logged at step ${a.step}`}${a.where ? ` and ${a.where}` : ''}` +
                (a.step === undefined ? '' : await loggedSteps(store, a.sweep, metric)),
              EXIT.USAGE,
            );
          }
          const groups = new Map<string, Record<string, unknown>[]>();
          for (const r of rows) groups.set(String(r.g), [...(groups.get(String(r.g)) ?? []), r]);
          const order = (p: string, q: string): number => (Number.isNaN(Number(p)) || Number.isNaN(Number(q)) ? p.localeCompare(q) : Number(p) - Number(q));
          for (const [g, rs] of [...groups].sort((p, q) => order(p[0], q[0]))) {
            const fit = fitSlopeOverSeeds(rs.map((r) => ({ seed: String(r.s), x: Number(r.x), y: Number(r.y) })));
            out.push({
              metric,
              step: a.step ?? 'final',
              [a.by]: Number.isNaN(Number(g)) ? g : Number(g),
              x_range: `${fit.xMin}-${fit.xMax}`,
              seeds: fit.seeds,
              slope_mean: fit.mean,
              slope_sd: fit.sd,
              slope_min: fit.min,
              slope_max: fit.max,
              pooled_slope: fit.pooled?.slope ?? NaN,
              pooled_r2: fit.pooled?.r2 ?? NaN,
              points: fit.points,
            });
          }
        }
        process.stdout.write(renderRows(out, a.format));
      } finally {
        await store.close();
      }
    },
  );
}

/** `; the logged steps of <metric> in this sweep: 0, 1, 3, 7, 20` (or that it was never logged), for a `--step` that matches nothing. */
async function loggedSteps(store: Store, sweep: string, metric: string): Promise<string> {
  const rows = await store.query(
    `SELECT DISTINCT m.step AS step FROM metrics m JOIN sweep_tasks s ON s.task_id = m.task_id WHERE s.sweep = ${quoteString(sweep)} AND m.name = ${quoteString(metric)} ORDER BY m.step`,
  );
  if (rows.length === 0) return `; ${metric} was never logged in this sweep`;
  const steps = rows.map((r) => String(r.step));
  const shown = steps.length > 40 ? [...steps.slice(0, 20), '…', ...steps.slice(-10)] : steps;
  return `; the logged steps of ${metric} in this sweep: ${shown.join(', ')}`;
}
