/**
 * `ntk-sweep prune <sweep>`: detach the grid points that the sweep's current spec no longer
 * generates (left behind by spec or data changes), after showing what goes. A dry run unless
 * `--yes`. Points another sweep also holds stay as tasks; the others are deleted with their
 * metrics. Running points stay until they finish.
 */
import { dirname } from 'node:path';
import type { Argv } from 'yargs';
import { SpecError } from '../../spec/errors.js';
import type { SweepSpec } from '../../spec/spec.js';
import type { PruneResult } from '../../store/store.js';
import type { Params } from '../../tasks/types.js';
import { decodeParams } from '../../util/json.js';
import { CliError, EXIT, EXIT_HELP } from '../exit.js';
import { toJson, showValue } from '../format.js';

interface PruneArgs {
  sweep: string;
  db: string;
  spec?: string;
  yes: boolean;
  json: boolean;
}

export function registerPrune(y: Argv): Argv {
  return y.command<PruneArgs>(
    'prune <sweep>',
    "Detach the grid points that the sweep's current spec no longer generates (a dry run unless --yes)",
    (c) =>
      c
        .positional('sweep', { type: 'string', demandOption: true, describe: 'Sweep name' })
        .option('spec', { type: 'string', describe: "The sweep's current spec file (needed for csv data given by relative paths)" })
        .option('yes', { type: 'boolean', default: false, describe: 'Prune; without it, only show what would go' })
        .option('json', { type: 'boolean', default: false, describe: 'Print what was found (and done) as JSON' })
        .example('$0 prune quickstart', 'show the points of quickstart that its spec no longer generates')
        .example('$0 prune quickstart --yes', 'detach them')
        .epilog(
          "The current spec is the one the sweep was last run or submitted with. A detached point that another sweep " +
            'also holds stays there with its results; the others are deleted with their metrics. `current_results` ' +
            'shows the points of each sweep\'s current spec without pruning. ' +
            EXIT_HELP,
        ),
    async (a) => {
      const { openStore, redactUrl } = await import('../../store/open.js');
      const store = await openStore(a.db);
      try {
        const sweep = (await store.sweeps()).find((s) => s.name === a.sweep);
        if (!sweep) {
          const names = (await store.sweeps()).map((s) => s.name);
          throw new CliError(`no sweep named "${a.sweep}" in ${redactUrl(a.db)}; sweeps: ${names.join(', ') || '(none)'}`, EXIT.USAGE);
        }
        const { spec, dir } = await currentSpec(a, decodeParams(sweep.specJson) as unknown as SweepSpec, sweep.specHash);
        const result = await store.pruneSweep(a.sweep, currentIds(spec, dir, a.spec), { apply: a.yes });
        if (a.json) process.stdout.write(toJson({ sweep: a.sweep, ...result }, 2) + '\n');
        else process.stdout.write(describe(a.sweep, spec, result));
      } finally {
        await store.close();
      }
    },
  );
}

/** The sweep's current spec: the stored one, or `--spec` after checking that it is that one. */
async function currentSpec(a: PruneArgs, stored: SweepSpec, storedHash: string): Promise<{ spec: SweepSpec; dir: string }> {
  if (a.spec === undefined) return { spec: stored, dir: '.' };
  const [{ prepareSpec }, { specHash }] = await Promise.all([import('../submit-spec.js'), import('../../spec/expand.js')]);
  const p = await prepareSpec(a.spec, Number.MAX_SAFE_INTEGER);
  if (p.spec.name !== a.sweep || specHash(p.spec) !== storedHash) {
    throw new CliError(
      `${a.spec} is not the current spec of sweep ${a.sweep}; prune compares with the spec the sweep was last run or submitted with ` +
        `(run \`ntk-sweep submit ${a.spec}\` first to make this one current)`,
      EXIT.USAGE,
    );
  }
  return { spec: p.spec, dir: p.specDir };
}

/** Task ids of the current grid, in chunks. */
async function* currentIds(spec: SweepSpec, dir: string, specFile: string | undefined): AsyncGenerator<string[]> {
  const { expandTasks, taskChunks } = await import('../../spec/expand.js');
  try {
    for await (const chunk of taskChunks(expandTasks(spec, dir))) yield chunk.map((t) => t.id);
  } catch (e) {
    if (e instanceof SpecError && specFile === undefined && spec.dataset.dataset === 'csv') {
      throw new CliError(`${e.problems.join('; ')}; the csv paths of the stored spec are relative to its file: pass it with --spec FILE (or run prune from its directory)`, EXIT.USAGE);
    }
    throw e;
  }
}

/** `key=value` of the params that tell a stale point apart: grid and derived axes, and values the current spec no longer has. */
function distinctive(spec: SweepSpec, params: Params): string {
  const fixed: Params = { ...spec.dataset, ...spec.fixed };
  const keys = Object.keys(params).filter((k) => k in spec.grid || k in spec.derived || (k in fixed && JSON.stringify(fixed[k]) !== JSON.stringify(params[k])));
  return keys.map((k) => `${k}=${showValue(params[k])}`).join(' ');
}

function describe(sweep: string, spec: SweepSpec, r: PruneResult): string {
  const byStatus = (['done', 'diverged', 'failed', 'pending', 'running'] as const).filter((s) => r.stale[s] > 0).map((s) => `${s} ${r.stale[s]}`);
  if (r.stale.total === 0) return `sweep ${sweep}: all ${r.current} grid points are generated by its current spec; nothing to prune\n`;
  const lines = [
    `sweep ${sweep}: ${r.stale.total} of its ${r.current + r.stale.total} grid points are not generated by its current spec (${byStatus.join(', ')}); ${r.current} are.`,
    `${r.applied ? 'detached' : 'would detach'} ${r.detached}: ${r.deleted} ${r.applied ? 'deleted' : 'to delete'} with their metrics, ${r.shared} kept as tasks (another sweep holds them)`,
  ];
  if (r.stale.running > 0) lines.push(`${r.stale.running} running: left in the sweep until they finish; prune again then`);
  lines.push(`points not in the current spec${r.sample.length < r.stale.total ? ` (first ${r.sample.length})` : ''}:`);
  for (const p of r.sample) lines.push(`  ${p.taskId} ${p.status.padEnd(8)} ${distinctive(spec, p.params)}`);
  lines.push(r.applied ? 'pruned.' : 'dry run: nothing changed; run again with --yes to prune.');
  return lines.join('\n') + '\n';
}

