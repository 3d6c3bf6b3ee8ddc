/** `ntk-sweep status [sweep]`: grid points by state, failures, and the processes holding leases. */
import type { Argv } from 'yargs';
import { isDeadHere } from '../../engine/lease.js';
import { redactUrl } from '../../store/open.js';
import type { Store, WorkerInfo } from '../../store/store.js';
import { CliError, EXIT } from '../exit.js';
import { renderRows, showParams, toJson } from '../format.js';
import { withStore } from './read.js';

export function registerStatus(y: Argv): Argv {
  return y.command<{ sweep?: string; db: string; json: boolean }>(
    'status [sweep]',
    'Grid points by state for each sweep (or one), with failure messages',
    (c) =>
      c
        .positional('sweep', { type: 'string', describe: 'Sweep name (default: all sweeps)' })
        .option('json', { type: 'boolean', default: false, describe: 'JSON output' })
        .example('$0 status quickstart', ''),
    async (a) => {
      await withStore(a.db, async (store) => {
        const sweeps = (await store.sweeps()).filter((s) => !a.sweep || s.name === a.sweep);
        if (a.sweep && sweeps.length === 0) {
          const names = (await store.sweeps()).map((s) => s.name);
          throw new CliError(`no sweep named "${a.sweep}" in ${a.db}; sweeps: ${names.join(', ') || '(none)'}`, EXIT.USAGE);
        }
        const out = [];
        for (const s of sweeps) {
          const counts = await store.counts(s.name);
          const failures = await store.failures(s.name);
          const backends = await store.backends(s.name);
          out.push({ sweep: s.name, kind: s.kind, ...counts, backends, failures: failures.map((f) => ({ task_id: f.taskId, attempts: f.attempts, error: f.error, params: f.params })) });
        }
        const workers = await liveness(store);
        if (a.json) {
          // every entry carries the processes holding leases or beating on this database
          process.stdout.write(toJson(out.map((o) => ({ ...o, workers })), 2) + '\n');
          return;
        }
        if (out.length === 0) process.stdout.write(`no sweeps in ${redactUrl(a.db)}\n`);
        process.stdout.write(renderRows(out.map(({ failures: _f, backends: _b, ...rest }) => rest), 'table'));
        for (const s of out) {
          if (s.backends.length > 1) {
            process.stdout.write(`warning: sweep ${s.sweep} mixes linear-algebra backends (${s.backends.join(', ')}): their numbers differ in the last bits; run every worker with the same --linalg\n`);
          }
        }
        printLiveness(workers);
        for (const s of out) {
          for (const f of s.failures) {
            const firstLine = f.error.split('\n')[0];
            process.stdout.write(`failed ${s.sweep}/${f.task_id} after ${f.attempts} attempt(s): ${firstLine}\n  params: ${showParams(f.params)}\n`);
          }
        }
      });
    },
  );
}

type Liveness = WorkerInfo & { state: 'live' | 'dead' | 'expired' };

/** Every lease holder and registered worker, with whether it is alive, dead on this host, or silent past its lease. */
async function liveness(store: Store): Promise<Liveness[]> {
  return (await store.workers()).map((w) => ({ ...w, state: isDeadHere(w.owner) ? 'dead' : w.expired > 0 ? 'expired' : 'live' }));
}

function printLiveness(workers: Liveness[]): void {
  if (workers.length === 0) return;
  process.stdout.write('workers:\n');
  process.stdout.write(
    renderRows(
      workers.map((w) => ({ owner: w.owner, host: w.host, points_held: w.held, last_heartbeat: w.heartbeatAgeS === null ? 'never' : `${w.heartbeatAgeS.toFixed(1)} s ago`, state: w.state })),
      'table',
    ),
  );
  const expired = workers.reduce((n, w) => n + w.expired, 0);
  const dead = workers.filter((w) => w.state === 'dead' && w.held > 0);
  if (expired > 0) process.stdout.write(`${expired} running grid point(s) have an expired lease: the next worker or run takes them over\n`);
  for (const w of dead) {
    process.stdout.write(`${w.held} grid point(s) are running under ${w.owner}, a process of this host that is gone: the next worker or run takes them over at once\n`);
  }
}

