/**
 * The one error type of `src/data/`. Every problem with a dataset request (bad params, too many
 * points, unreadable or malformed files, zero-norm points) is reported as a {@link DataError}
 * whose message names the parameter, file, line and column involved and says what to change.
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(message: string) {
    super(message);
  }
}
