/** The error type of the storage layer, shared by both dialects. */

/**
 * Any error from the database layer. `code` is the driver's code when there is one (an SQLite
 * code such as `SQLITE_FULL`, or a PostgreSQL SQLSTATE such as `57P01`). `transient` marks a lost
 * connection or a server that is restarting: the same call may succeed once the server is back.
 */
export class StoreError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly transient = false,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}
