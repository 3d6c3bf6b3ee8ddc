/**
 * The task kinds (docs/architecture.md §8). A new kind is one file in `tasks/kinds/` exporting a
 * `TaskKind`, plus its line here.
 */
import { debugKind } from './kinds/debug.js';
import { kernelKind } from './kinds/kernel.js';
import type { TaskKind } from './kinds/kind.js';
import { trainKind } from './kinds/train.js';

export type { BatchKind, BatchRunner, PointKind, PointRunner, ReportDefaults, TaskKind } from './kinds/kind.js';

const REGISTRY = {
  kernel: kernelKind,
  train: trainKind,
  debug: debugKind,
} as const satisfies Record<string, TaskKind>;

/** The name of a registered kind (the `kind:` of a spec). */
export type KindName = keyof typeof REGISTRY;

/** Registered kind names, in registration order. */
export const KIND_NAMES = Object.keys(REGISTRY) as KindName[];

/** Whether `name` is a registered kind. */
export function isKind(name: string): name is KindName {
  return Object.hasOwn(REGISTRY, name);
}

/**
 * The descriptor of kind `name`.
 * @throws RangeError for an unregistered kind, naming the registered ones.
 */
export function kindOf(name: string): TaskKind {
  if (!isKind(name)) throw new RangeError(`unknown task kind ${JSON.stringify(name)}; registered kinds: ${KIND_NAMES.join(', ')}`);
  return REGISTRY[name];
}
