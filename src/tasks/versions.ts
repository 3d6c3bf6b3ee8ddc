/**
 * Code-affecting versions, part of every task id (docs/conventions.md §12): each kind's
 * `version` in its descriptor (`tasks/kinds/`); bump it when a change alters the numbers the
 * kind's tasks produce, so old results are not mixed with new ones.
 */
import { KIND_NAMES, kindOf, type KindName } from './registry.js';

export const TASK_VERSIONS = Object.fromEntries(KIND_NAMES.map((k) => [k, kindOf(k).version])) as Record<KindName, number>;
