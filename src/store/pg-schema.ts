/**
 * The PostgreSQL schema of an ntk-sweep database: the same tables, columns and meanings as the
 * SQLite schema (`schema.ts`, version 7), with PostgreSQL types: timestamps `BIGINT` (ms since
 * the epoch, server clock), metrics and costs `DOUBLE PRECISION`, params and run facts `JSONB`,
 * checkpoints `BYTEA`. PostgreSQL has its own migration list, numbered from 1 (version 2 is
 * SQLite's version 5, the `activation` column of `results`; version 3 is SQLite's version 6:
 * `sweep_tasks.spec_hash` and the `current_results` view; version 4 is SQLite's version 7).
 */
import { pgActivationAxis, resultsViewSql } from './schema.js';

export const PG_SCHEMA_VERSION = 4;

/** Migration i brings the schema from version i to i + 1. Append only; never edit. */
export const PG_MIGRATIONS: string[] = [
  `
  CREATE TABLE sweeps (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE sweep_specs (
    sweep TEXT NOT NULL REFERENCES sweeps(name),
    spec_hash TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (sweep, spec_hash)
  );
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    params JSONB NOT NULL,
    batch_key TEXT NOT NULL,
    batch_order DOUBLE PRECISION NOT NULL DEFAULT 0,
    cost DOUBLE PRECISION NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending'
      CHECK (status IN ('pending', 'running', 'done', 'failed', 'diverged')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    diverged_step BIGINT,
    lease_owner TEXT,
    lease_expires BIGINT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    duration_s DOUBLE PRECISION,
    run_info JSONB
  );
  CREATE INDEX tasks_runnable ON tasks (cost DESC, batch_key, id) WHERE status IN ('pending', 'failed');
  CREATE INDEX tasks_batch ON tasks (batch_key);
  CREATE INDEX tasks_lease ON tasks (lease_owner) WHERE status = 'running';
  CREATE TABLE sweep_tasks (
    sweep TEXT NOT NULL REFERENCES sweeps(name),
    task_id TEXT NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (sweep, task_id)
  );
  CREATE INDEX sweep_tasks_task ON sweep_tasks (task_id);
  CREATE TABLE metrics (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    step BIGINT NOT NULL,
    name TEXT NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (task_id, name, step)
  );
  CREATE TABLE final_metrics (
    task_id TEXT NOT NULL REFERENCES tasks(id),
    name TEXT NOT NULL,
    step BIGINT NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (task_id, name)
  );
  CREATE TABLE metric_names (name TEXT PRIMARY KEY);
  CREATE TABLE checkpoints (
    task_id TEXT PRIMARY KEY REFERENCES tasks(id),
    step BIGINT NOT NULL,
    data BYTEA NOT NULL,
    bytes BIGINT NOT NULL,
    owner TEXT NOT NULL,
    saved_at BIGINT NOT NULL
  );
  CREATE TABLE task_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    owner TEXT,
    event TEXT NOT NULL
      CHECK (event IN ('claim', 'done', 'diverged', 'failed', 'released', 'reclaimed', 'ignored')),
    detail TEXT
  );
  CREATE INDEX task_log_task ON task_log (task_id, id);
  CREATE TABLE workers (
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    info JSONB
  );
  `,
  // 1 -> 2: the results view gains an `activation` column (relu where a kernel or train task has
  // no activation param); dropping the view lets the open recreate it with the current columns.
  `
  DROP VIEW IF EXISTS results;
  `,
  // 2 -> 3: which spec last generated each point of a sweep (as SQLite version 6).
  `
  ALTER TABLE sweep_tasks ADD COLUMN spec_hash TEXT;
  DROP VIEW IF EXISTS current_results;
  DROP VIEW IF EXISTS results;
  `,
  // 3 -> 4: stale dist_to_limit of kernel points measured against ¼ (as SQLite version 7).
  `
  CREATE TEMP TABLE stale_dist AS SELECT t.id AS id FROM tasks t
    WHERE t.kind = 'kernel' AND COALESCE(t.params->>'activation', 'relu') = 'relu'
      AND (COALESCE(${pgNumber('t.params', 'sigma_b')}, 0) > 0 OR COALESCE(t.params->>'kernel', 'ntk') <> 'ntk')
      AND NOT EXISTS (SELECT 1 FROM final_metrics c WHERE c.task_id = t.id AND c.name = 'chi');
  DELETE FROM final_metrics WHERE name = 'dist_to_limit' AND task_id IN (SELECT id FROM stale_dist);
  DELETE FROM metrics WHERE name = 'dist_to_limit' AND task_id IN (SELECT id FROM stale_dist);
  DROP TABLE stale_dist;
  `,
];

/** Axes that hold text; every other axis is a number (`t = "inf"` becomes `'Infinity'`). */
const TEXT_AXES = new Set(['dataset', 'kernel']);

/** A JSON param as DOUBLE PRECISION: numbers, and the strings "inf"/"-inf" as ±Infinity; else NULL. */
export function pgNumber(col: string, key: string): string {
  const v = `${col}->'${key}'`;
  const s = `${col}->>'${key}'`;
  return `(CASE jsonb_typeof(${v}) WHEN 'number' THEN (${s})::double precision WHEN 'string' THEN (CASE ${s} WHEN 'inf' THEN 'Infinity'::double precision WHEN '-inf' THEN '-Infinity'::double precision END) END)`;
}

/** The `results` view on PostgreSQL: the same columns as on SQLite. */
export function pgResultsViewSql(metricNames: string[]): string {
  return resultsViewSql(metricNames, (a) => (a === 'activation' ? pgActivationAxis() : TEXT_AXES.has(a) ? `(t.params->>'${a}')` : pgNumber('t.params', a)));
}
