/** `ntk-sweep submit <spec>`: validate, expand and register a sweep without running it (workers run it). */
import type { Argv } from 'yargs';
import { EXIT_HELP } from '../exit.js';
import { MAX_POINTS_OPTION } from '../spec-options.js';

export function registerSubmit(y: Argv): Argv {
  return y.command<{ spec: string; db: string; json: boolean; 'max-points': number }>(
    'submit <spec>',
    'Validate and register a sweep without running it; `ntk-sweep worker` processes (on any machine sharing --db) run it',
    (c) =>
      c
        .positional('spec', { type: 'string', demandOption: true, describe: 'Sweep spec, e.g. sweeps/quickstart.yaml' })
        .option('json', { type: 'boolean', default: false, describe: 'Print what was registered as JSON' })
        .option('max-points', MAX_POINTS_OPTION)
        .example('$0 submit sweeps/quickstart.yaml --db postgres://ntk@dbhost/ntk', 'register on a shared PostgreSQL database')
        .epilog('Submitting the same spec again adds nothing; a changed spec adds its new grid points and keeps the old results. ' + EXIT_HELP),
    async (a) => {
      const [{ prepareSpec, registerSpec }, { openStore, redactUrl }] = await Promise.all([import('../submit-spec.js'), import('../../store/open.js')]);
      const prepared = await prepareSpec(a.spec, a['max-points']);
      const store = await openStore(a.db);
      try {
        const reg = await registerSpec(store, prepared, { quiet: false, json: a.json });
        const counts = await store.counts(prepared.spec.name);
        const out = { sweep: prepared.spec.name, kind: prepared.spec.kind, grid_points: prepared.scan.count, new_grid_points: reg.inserted, attached: reg.attached, ...counts };
        if (a.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        else {
          process.stdout.write(
            `sweep ${out.sweep}: ${out.grid_points} grid points registered (${out.new_grid_points} new), ${counts.done + counts.diverged} finished, ${counts.pending} pending\n` +
              `run it with: npx ntk-sweep worker --sweep ${out.sweep} --db ${redactUrl(a.db)}\n`,
          );
        }
      } finally {
        await store.close();
      }
    },
  );
}
