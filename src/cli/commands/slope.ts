/**
 * `ntk-sweep slope`: log-log slope of a metric against an axis (default width), fitted per
 * group (default depth) and per seed by ordinary least squares on (log x, log metric); prints
 * the mean slope over seeds, its standard deviation and the pooled fit. Used for the paper's
 * width claim: `act_dev_max` ~ width^{-1/2}, `act_dev_norm` ~ width^0.
 */
import type { Argv } from 'yargs';
import { SqliteStore } from '../../store/sqlite-store.js';
import { CliError, EXIT } from '../exit.js';
import { renderRows, type Format } from '../format.js';
import { fitLogLogSlope } from '../../util/loglog.js';

interface SlopeArgs {
  sweep: string;
  metric: string[];
  x: string;
  by: string;
  seed: string;
  db: string;
  format: Format;
}

const ident = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function registerSlope(y: Argv): Argv {
  return y.command<SlopeArgs>(
    'slope <sweep>',
    'Fit the log-log slope of metric(s) against an axis (default width), per group (default depth), with its spread over seeds',
    (c) =>
      c
        .positional('sweep', { type: 'string', demandOption: true })
        .option('metric', { type: 'string', array: true, demandOption: true, describe: 'Metric column(s) of `results`, e.g. act_dev_max act_dev_norm' })
        .option('x', { type: 'string', default: 'width', describe: 'Axis column' })
        .option('by', { type: 'string', default: 'depth', describe: 'Group column (one fit per value)' })
        .option('seed', { type: 'string', default: 'seed', describe: 'Replicate column (one fit per value; spread reported)' })
        .option('format', { choices: ['table', 'csv', 'json'] as const, default: 'table' as Format })
        .example('$0 slope width-lazy --metric act_dev_max act_dev_norm', 'slopes against width per depth'),
    async (a) => {
      for (const col of [a.x, a.by, a.seed, ...a.metric]) if (!ident.test(col)) throw new CliError(`not a column name: ${col}`, EXIT.USAGE);
      const store = await SqliteStore.openReadonly(a.db);
      try {
        const out: Record<string, unknown>[] = [];
        for (const metric of a.metric) {
          let rows: Record<string, unknown>[];
          try {
            rows = await store.query(
              `SELECT ${a.by} AS g, ${a.seed} AS s, ${a.x} AS x, ${metric} AS y FROM results
               WHERE sweep = '${a.sweep.replace(/'/g, "''")}' AND status = 'done' AND ${metric} > 0 AND ${a.x} > 0`,
            );
          } catch (e) {
            throw new CliError(`cannot read ${metric} against ${a.x}: ${(e as Error).message.replace(/ \[in: [\s\S]*$/, '')}`, EXIT.USAGE);
          }
          if (rows.length === 0) throw new CliError(`no finished grid points with ${metric} > 0 in sweep ${a.sweep}`, EXIT.USAGE);
          const groups = new Map<string, Record<string, unknown>[]>();
          for (const r of rows) groups.set(String(r.g), [...(groups.get(String(r.g)) ?? []), r]);
          for (const [g, rs] of [...groups].sort((p, q) => Number(p[0]) - Number(q[0]))) {
            const seeds = new Map<string, { x: number[]; y: number[] }>();
            for (const r of rs) {
              const e = seeds.get(String(r.s)) ?? { x: [], y: [] };
              e.x.push(Number(r.x));
              e.y.push(Number(r.y));
              seeds.set(String(r.s), e);
            }
            const per = [...seeds.values()].filter((e) => new Set(e.x).size >= 2).map((e) => fitLogLogSlope(e.x, e.y).slope);
            const mean = per.reduce((p, q) => p + q, 0) / per.length;
            const sd = per.length > 1 ? Math.sqrt(per.reduce((p, q) => p + (q - mean) ** 2, 0) / (per.length - 1)) : NaN;
            const pooled = fitLogLogSlope(rs.map((r) => Number(r.x)), rs.map((r) => Number(r.y)));
            out.push({ metric, [a.by]: Number.isNaN(Number(g)) ? g : Number(g), seeds: per.length, slope_mean: mean, slope_sd: sd, slope_min: Math.min(...per), slope_max: Math.max(...per), pooled_slope: pooled.slope, pooled_r2: pooled.r2, points: rs.length });
          }
        }
        process.stdout.write(renderRows(out, a.format));
      } finally {
        await store.close();
      }
    },
  );
}
