/**
 * Content hashing of canonical JSON. Canonicalisation (sorted keys, no whitespace) comes from
 * `safe-stable-stringify`; the digest is SHA-256 from `node:crypto`.
 */
import { createHash } from 'node:crypto';
import { configure } from 'safe-stable-stringify';

const stable = configure({ deterministic: true, bigint: false, circularValue: Error });

/**
 * Canonical JSON text of a plain value: object keys sorted recursively, no whitespace.
 * Non-finite numbers are not representable in JSON; callers must encode them first
 * (e.g. `t: "inf"`).
 * @throws Error on circular structures.
 */
export function canonicalJson(value: unknown): string {
  const s = stable(value);
  if (s === undefined) throw new Error('canonicalJson: value is not serialisable');
  return s;
}

/** Hex SHA-256 of `canonicalJson(value)`. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
