/**
 * Code-affecting versions, part of every task id (docs/conventions.md §12): each kind's
 * `version` in its descriptor (`tasks/kinds/`); bump it when a change alters the numbers the
 * kind's tasks produce, so old results are not mixed with new ones.
 */
import { isKind, kindOf } from './registry.js';

/** The code version of kind `kind`; undefined for a kind that is not registered. */
export function taskVersion(kind: string): number | undefined {
  return isKind(kind) ? kindOf(kind).version : undefined;
}
