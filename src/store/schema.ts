/**
 * SQL schema of an ntk-sweep database, its migrations, and the generated `results` view.
 *
 * Tables: `meta` (application id, schema version), `sweeps`, `sweep_specs` (every spec a sweep
 * name has had), `tasks` (one row per grid point: params, status, attempts, error, lease,
 * timings), `sweep_tasks` (membership; a task may belong to many sweeps), `metrics` (every
 * logged value: `task_id, step, name, value`), `final_metrics` (the last step of each metric),
 * `metric_names`; since version 2 also `checkpoints` (latest saved state of a running train task,
 * deleted when the task finishes) and `task_log` (append-only audit trail of every lease and state
 * change: `claim`, `done`, `diverged`, `failed`, `released`, `reclaimed`, `ignored`). Version 3
 * indexes runnable tasks in claim order and marks independent grid points with `batch_key = ''`.
 * Version 4 adds `workers`: one row per live worker process (owner id, host, pid, last heartbeat
 * on the database clock), for `status`. Version 5 gives `results` an `activation` column. Version 6 adds `sweep_tasks.spec_hash`: the hash of the
 * sweep's spec that last generated the point (the view `current_results` keeps the points of the
 * sweep's current spec; `prune` detaches the others). Version 7 removes stale `dist_to_limit` values
 * of kernel points stored before each point measured against its own limit (see the migration).
 */

export const APP_ID = 'ntk-sweep';
export const SCHEMA_VERSION = 7;

/** Migration i brings the schema from version i to i + 1. Append only; never edit. */
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE sweeps (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE sweep_specs (
    sweep TEXT NOT NULL REFERENCES sweeps(name),
    spec_hash TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (sweep, spec_hash)
  );
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params TEXT NOT NULL,
    batch_key TEXT NOT NULL,
    batch_order REAL NOT NULL DEFAULT 0,
    cost REAL NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending'
      CHECK (status IN ('pending', 'running', 'done', 'failed', 'diverged')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    diverged_step INTEGER,
    lease_owner TEXT,
    lease_expires INTEGER,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    duration_s REAL,
    run_info TEXT
  );
  CREATE INDEX tasks_status ON tasks (status, batch_key);
  CREATE INDEX tasks_lease ON tasks (lease_owner);
  CREATE TABLE sweep_tasks (
    sweep TEXT NOT NULL REFERENCES sweeps(name),
    task_id TEXT NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (sweep, task_id)
  ) WITHOUT ROWID;
  CREATE INDEX sweep_tasks_task ON sweep_tasks (task_id);
  CREATE TABLE metrics (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    step INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (task_id, name, step)
  ) WITHOUT ROWID;
  CREATE TABLE final_metrics (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    name TEXT NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (task_id, name)
  ) WITHOUT ROWID;
  CREATE TABLE metric_names (name TEXT PRIMARY KEY);
  `,
  // 1 -> 2: checkpoints of long tasks, and the audit trail of leases and state changes.
  `
  CREATE TABLE checkpoints (
    task_id TEXT PRIMARY KEY REFERENCES tasks(id),
    step INTEGER NOT NULL,
    data BLOB NOT NULL,
    bytes INTEGER NOT NULL,
    owner TEXT NOT NULL,
    saved_at INTEGER NOT NULL
  );
  CREATE TABLE task_log (
    id INTEGER PRIMARY KEY,
    task_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    owner TEXT,
    event TEXT NOT NULL
      CHECK (event IN ('claim', 'done', 'diverged', 'failed', 'released', 'reclaimed', 'ignored')),
    detail TEXT
  );
  CREATE INDEX task_log_task ON task_log (task_id, id);
  `,
  // 2 -> 3: claims walk runnable tasks in (cost DESC, batch_key) order from an index instead of
  // sorting the sweep at every claim; grid points that share no work (train, debug) get the
  // empty batch key, which lets a claim take many of them at once.
  `
  DROP INDEX tasks_status;
  CREATE INDEX tasks_pending ON tasks (cost DESC, batch_key) WHERE status = 'pending';
  CREATE INDEX tasks_failed ON tasks (cost DESC, batch_key) WHERE status = 'failed';
  CREATE INDEX tasks_batch ON tasks (batch_key);
  UPDATE tasks SET batch_key = '' WHERE batch_key LIKE 't:%';
  `,
  // 3 -> 4: live workers and their heartbeats (what `status` lists).
  `
  CREATE TABLE workers (
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    info TEXT
  );
  `,
  // 4 -> 5: the results view gains an `activation` column (relu where a kernel or train task has
  // no activation param); dropping the view lets the open recreate it with the current columns.
  `
  DROP VIEW IF EXISTS results;
  `,
  // 5 -> 6: which spec last generated each point of a sweep (NULL: not known yet; the next
  // run, submit or prune of the sweep fills it in). The views are rebuilt with current_results.
  `
  ALTER TABLE sweep_tasks ADD COLUMN spec_hash TEXT;
  DROP VIEW IF EXISTS current_results;
  DROP VIEW IF EXISTS results;
  `,
  // 6 -> 7: dist_to_limit of kernel points stored before the limit became the architecture's own
  // (those points have no chi metric) was measured against ¼·11ᵀ + ¾·I, the limit of the ReLU NTK
  // without bias only. Where that is not the point's limit (sigma_b > 0, or the nngp/rho kernel),
  // the value is wrong under an unchanged task id: it is removed (NULL in results).
  `
  CREATE TEMP TABLE stale_dist AS SELECT t.id AS id FROM tasks t
    WHERE t.kind = 'kernel' AND COALESCE(json_extract(t.params, '$.activation'), 'relu') = 'relu'
      AND (COALESCE(json_extract(t.params, '$.sigma_b'), 0) > 0 OR COALESCE(json_extract(t.params, '$.kernel'), 'ntk') <> 'ntk')
      AND NOT EXISTS (SELECT 1 FROM final_metrics c WHERE c.task_id = t.id AND c.name = 'chi');
  DELETE FROM final_metrics WHERE name = 'dist_to_limit' AND task_id IN (SELECT id FROM stale_dist);
  DELETE FROM metrics WHERE name = 'dist_to_limit' AND task_id IN (SELECT id FROM stale_dist);
  DROP TABLE stale_dist;
  `,
];

/** Standard axes exposed as columns of `results` (docs/conventions.md §2 names), NULL where absent. */
export const AXES = [
  'dataset',
  'width',
  'depth',
  'n_train',
  'n_test',
  'seed',
  'lr',
  'steps',
  't',
  'kernel',
  'sigma_w',
  'sigma_b',
  'diag_reg',
  'data_seed',
  'activation',
] as const;

/** Kinds whose tasks have an activation (`relu` when the param is absent: it predates the param). */
const ACTIVATION_KINDS = "('kernel', 'train')";

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/** An SQL string literal: `it's` → `'it''s'`. */
export function quoteString(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

/**
 * A subquery of the `results` rows of `sweep` whose status is `done`, filtered by `where` (SQL on
 * `results` columns, from the command line). The sweep and status are checked again outside the
 * filter, so an unbalanced parenthesis or a `UNION` in it cannot bring in other rows.
 * @throws Error when `where` holds `;` or a comment (which could hide the outer check).
 */
export function finishedPointsSql(sweep: string, where?: string): string {
  const mine = `sweep = ${quoteString(sweep)} AND status = 'done'`;
  if (where === undefined) return `(SELECT * FROM results WHERE ${mine})`;
  if (/;|--|\/\*/.test(where)) throw new Error('the filter must be one SQL condition, without ; or comments');
  // (PostgreSQL wants every subquery in FROM named)
  return `(SELECT * FROM (SELECT * FROM (SELECT * FROM results WHERE ${mine}) AS f1 WHERE (${where})) AS f2 WHERE ${mine})`;
}

/**
 * A database error about a filter on `results`, for the user: the statement text dropped, and for
 * an unknown column the way to reach any param in that database's SQL: SQLite
 * `json_extract(params, '$.x')`, PostgreSQL `params->>'x'` (text; `(params->>'x')::float8` for a
 * number).
 */
export function explainFilterError(e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/ \[in: [\s\S]*$/, '');
  const lite = /no such column: ([A-Za-z_][A-Za-z0-9_]*)/.exec(msg);
  if (lite) return `${msg} (a param that is not a column of results: json_extract(params, '$.${lite[1]}'))`;
  const pg = /column "?([A-Za-z_][A-Za-z0-9_]*)"? does not exist/.exec(msg);
  if (pg) return `${msg} (a param that is not a column of results: params->>'${pg[1]}', or (params->>'${pg[1]}')::float8 to compare it as a number)`;
  return msg;
}

/** SQLite: an axis from the JSON params, `t = "inf"` as the REAL infinity. */
function sqliteAxis(a: string): string {
  if (a === 't') {
    return `CASE WHEN json_type(t.params, '$.t') = 'text' THEN (CASE json_extract(t.params, '$.t') WHEN 'inf' THEN 9e999 WHEN '-inf' THEN -9e999 END) ELSE json_extract(t.params, '$.t') END`;
  }
  if (a === 'activation') return `CASE WHEN t.kind IN ${ACTIVATION_KINDS} THEN COALESCE(json_extract(t.params, '$.activation'), 'relu') END`;
  return `json_extract(t.params, '$.${a}')`;
}

/** The `activation` column on PostgreSQL (same values as {@link sqliteAxis}). */
export function pgActivationAxis(): string {
  return `(CASE WHEN t.kind IN ${ACTIVATION_KINDS} THEN COALESCE(t.params->>'activation', 'relu') END)`;
}

/**
 * SQL that (re)creates the `results` view: one row per (sweep, task) with `sweep, task_id, kind,
 * status`, the standard axes, `attempts, error, diverged_step, duration_s, params`, and one
 * column per metric name holding its final value. `t = ∞` appears as the REAL infinity
 * (`t > 1e308` selects it). `current_results` has the same columns and only the points that the
 * sweep's current spec generates (those registered, or confirmed by `prune`, under its hash).
 */
export function resultsViewSql(metricNames: string[], axisSql: (axis: (typeof AXES)[number]) => string = sqliteAxis): string {
  const axisCols = AXES.map((a) => `${axisSql(a)} AS ${a}`);
  const reserved = new Set<string>(['sweep', 'task_id', 'kind', 'status', 'attempts', 'error', 'diverged_step', 'duration_s', 'params', ...AXES]);
  const metricCols = [...metricNames]
    .sort()
    .filter((m) => !reserved.has(m))
    .map((m) => `(SELECT f.value FROM final_metrics f WHERE f.task_id = t.id AND f.name = ${quoteString(m)}) AS ${quoteIdent(m)}`);
  const cols = [
    's.sweep AS sweep',
    't.id AS task_id',
    't.kind AS kind',
    't.status AS status',
    ...axisCols,
    't.attempts AS attempts',
    't.error AS error',
    't.diverged_step AS diverged_step',
    't.duration_s AS duration_s',
    't.params AS params',
    ...metricCols,
  ];
  return `DROP VIEW IF EXISTS current_results;
DROP VIEW IF EXISTS results;
CREATE VIEW results AS SELECT
  ${cols.join(',\n  ')}
FROM sweep_tasks s JOIN tasks t ON t.id = s.task_id;
CREATE VIEW current_results AS SELECT
  ${cols.join(',\n  ')}
FROM sweep_tasks s JOIN tasks t ON t.id = s.task_id JOIN sweeps w ON w.name = s.sweep AND w.spec_hash = s.spec_hash;`;
}
