/**
 * The statement check of `query`, the same for every database: one statement that only reads.
 * Strings, quoted names and comments are blanked first, so words inside them do not count.
 */
import { CliError, EXIT } from './exit.js';

/** Words that start or contain a writing (or file-creating, or settings-changing) statement. */
const WRITES = /\b(INSERT|UPDATE|DELETE|REPLACE|UPSERT|CREATE|DROP|ALTER|ATTACH|DETACH|VACUUM|PRAGMA|REINDEX|ANALYZE|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|COPY|GRANT|TRUNCATE|SET|LOCK|CALL|DO)\b/i;

/** `sql` with string literals, quoted identifiers and comments replaced by spaces. */
function blank(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|\/\*[\s\S]*?(?:\*\/|$)/g, (m) => ' '.repeat(m.length));
}

/**
 * Refuse what `query` must not run: several statements, and any statement that is not a
 * SELECT / WITH / VALUES / EXPLAIN reading the database (VACUUM INTO, PRAGMA, ATTACH, writes).
 * @throws CliError (exit 2) naming the reason.
 */
export function checkReadOnlySql(sql: string): void {
  const text = blank(sql);
  const parts = text.split(';').filter((p) => p.trim() !== '');
  if (parts.length === 0) throw new CliError('query: the SQL text is empty', EXIT.USAGE);
  if (parts.length > 1) throw new CliError(`query: ${parts.length} statements given; query runs exactly one (remove the ";" between them)`, EXIT.USAGE);
  const first = /^\s*([A-Za-z]+)/.exec(parts[0])?.[1]?.toUpperCase();
  const write = WRITES.exec(parts[0]);
  if (!first || !['SELECT', 'WITH', 'VALUES', 'EXPLAIN'].includes(first) || write) {
    const what = write ? write[1].toUpperCase() : (first ?? parts[0].trim().slice(0, 20));
    throw new CliError(`query runs only reading statements (SELECT, WITH, VALUES, EXPLAIN); ${what} is refused (the command never changes the database or writes files)`, EXIT.USAGE);
  }
}

/**
 * SQL giving one all-NULL row with the column names of `sql` (a SELECT, WITH or VALUES), for
 * the header of an empty result.
 */
export function columnsProbeSql(sql: string): string {
  return `SELECT q.* FROM (SELECT 1) LEFT JOIN (${sql.replace(/;\s*$/, '')}) AS q ON 0`;
}
