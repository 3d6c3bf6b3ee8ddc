/**
 * `ntk-sweep merge <from.sqlite…> --db <target>`: copy finished grid points (tasks, metrics, sweep
 * membership, run facts) from databases run elsewhere (typically SQLite files of nodes without
 * access to the shared database) into any store. Idempotent by task id; a point finished in the
 * target with other values is a conflict: reported, never overwritten, exit 4.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { isPostgresUrl, openStore, redactUrl } from '../../store/open.js';
import type { ImportOutcome, Store } from '../../store/store.js';
import { CliError, EXIT } from '../exit.js';

interface MergeArgs {
  from: string[];
  db: string;
  'dry-run': boolean;
  json: boolean;
}

/** Counts of one source, as printed and in `--json`. */
interface SourceReport {
  source: string;
  /** Finished grid points read from the source. */
  finished: number;
  added: number;
  completed: number;
  same: number;
  conflicts: number;
  attached: number;
  /** Grid points of the source that are not finished (pending, running, failed): not copied. */
  unfinished: number;
  conflict_examples: { task_id: string; reason: string }[];
}

/** Points read and written per transaction. */
const PAGE = 500;

/** Whether `from` and `to` name the same database (same file, or the same URL). */
function sameDatabase(from: string, to: string): boolean {
  return isPostgresUrl(from) || isPostgresUrl(to) ? from === to : resolve(from) === resolve(to);
}

async function mergeOne(source: Store, label: string, target: Store, dryRun: boolean): Promise<SourceReport> {
  const r: SourceReport = { source: label, finished: 0, added: 0, completed: 0, same: 0, conflicts: 0, attached: 0, unfinished: 0, conflict_examples: [] };
  const sweeps = await source.sweeps();
  for (const s of sweeps) {
    const c = await source.counts(s.name);
    r.unfinished += c.pending + c.running + c.failed;
  }
  let after: string | undefined;
  for (;;) {
    const page = await source.finishedPoints({ after, limit: PAGE });
    if (page.length === 0) break;
    after = page[page.length - 1].id;
    const outcomes: ImportOutcome[] = await target.importFinished(page, sweeps, { source: label, dryRun });
    r.finished += page.length;
    for (const o of outcomes) {
      r.attached += o.attached;
      if (o.result === 'conflict') {
        r.conflicts++;
        if (r.conflict_examples.length < 20) r.conflict_examples.push({ task_id: o.taskId, reason: o.reason ?? '' });
      } else r[o.result]++;
    }
  }
  return r;
}

function describe(r: SourceReport, dryRun: boolean): string {
  const would = dryRun ? 'would be ' : '';
  const lines = [`${r.source}: ${r.finished} finished grid point(s)`];
  if (r.added + r.completed + r.attached === 0 && r.conflicts === 0) lines[0] += `, all already in the target: nothing ${dryRun ? 'would be ' : ''}added`;
  else {
    lines[0] += `: ${r.added} ${would}added, ${r.completed} ${would}completed (unfinished in the target), ${r.same} already there`;
    if (r.attached) lines[0] += `, ${r.attached} sweep membership(s) ${would}attached`;
    if (r.conflicts) lines[0] += `, ${r.conflicts} CONFLICT(S) left untouched`;
  }
  if (r.unfinished) lines.push(`  ${r.unfinished} unfinished grid point(s) of the source not copied (pending, running or failed there)`);
  for (const c of r.conflict_examples) lines.push(`  conflict ${c.task_id}: ${c.reason}`);
  if (r.conflicts > r.conflict_examples.length) lines.push(`  … and ${r.conflicts - r.conflict_examples.length} more conflicts`);
  return lines.join('\n');
}

export function registerMerge(y: Argv): Argv {
  return y.command<MergeArgs>(
    'merge <from..>',
    'Copy finished grid points (metrics, run facts, sweep membership) from other databases, e.g. SQLite files of offline nodes, into --db',
    (c) =>
      c
        .positional('from', { type: 'string', array: true, demandOption: true, describe: 'Source databases (SQLite files, or postgres:// URLs); opened read-only' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'Say what would be copied and which points conflict; write nothing' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the counts per source as JSON' })
        .example('$0 merge node7.sqlite node8.sqlite --db postgres://ntk@dbhost/ntk', 'hand in what two offline nodes computed')
        .epilog(
          'A grid point is identified by its task id (a hash of what it computes). Points the target lacks are added; points the target has ' +
            'pending, failed or running take the merged result; points finished in both with identical values are skipped, so merging twice adds ' +
            'nothing. A point finished in both with other values (another status or any metric value) is a conflict: it is reported and ' +
            'never overwritten. Exit codes: 0 merged (or nothing to merge), 2 bad input, 3 storage fault, 4 conflicts found (everything else was merged).',
        ),
    async (a) => {
      for (const f of a.from) if (sameDatabase(f, a.db)) throw new CliError(`merge: ${f} is the target database itself (--db); name other databases to merge from`, EXIT.USAGE);
      for (const f of a.from) {
        if (!isPostgresUrl(f) && !existsSync(f)) throw new CliError(`merge: no database to merge from at ${f}; name existing SQLite files or postgres:// URLs`, EXIT.USAGE);
      }
      const target = await openStore(a.db);
      const reports: SourceReport[] = [];
      try {
        for (const f of a.from) {
          const source = await openStore(f, { readonly: true });
          try {
            reports.push(await mergeOne(source, redactUrl(f), target, a['dry-run']));
          } finally {
            await source.close();
          }
        }
      } finally {
        await target.close();
      }
      const conflicts = reports.reduce((n, r) => n + r.conflicts, 0);
      if (a.json) process.stdout.write(JSON.stringify({ target: redactUrl(a.db), dry_run: a['dry-run'], conflicts, sources: reports }, null, 2) + '\n');
      else {
        for (const r of reports) process.stdout.write(describe(r, a['dry-run']) + '\n');
        if (a['dry-run']) process.stdout.write(`dry run: nothing was written${a.from.length > 1 ? ' (each source was compared with the target as it is now, not with what the sources before it would add)' : ''}\n`);
      }
      process.exitCode = conflicts > 0 ? EXIT.CONFLICTS : EXIT.OK;
    },
  );
}
