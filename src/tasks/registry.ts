/**
 * The task kinds (docs/architecture.md §8). A new kind is one file in `tasks/kinds/` exporting a
 * `TaskKind`, plus its line in {@link BUILTIN}; a kind defined elsewhere (a plugin, a test) is
 * added at run time with {@link registerKind}, and the worker threads import it by its module.
 */
import { debugKind } from './kinds/debug.js';
import { kernelKind } from './kinds/kernel.js';
import type { BatchKind, BatchRunner, PointKind, PointRunner, TaskKind } from './kinds/kind.js';
import { trainKind } from './kinds/train.js';
import type { Params } from './types.js';

export type { BatchKind, BatchRunner, PointKind, PointRunner, ReportDefaults, TaskKind } from './kinds/kind.js';

const BUILTIN = {
  kernel: kernelKind,
  train: trainKind,
  debug: debugKind,
} as const satisfies Record<string, TaskKind>;

/** The name of a kind of this package. */
export type BuiltinKindName = keyof typeof BUILTIN;

/** The name of a registered kind (the `kind:` of a spec). */
export type KindName = string;

/** The typed params of a kind of this package (its descriptor's `typedParams`). */
export type KindParams<K extends BuiltinKindName> = (typeof BUILTIN)[K] extends { typedParams?: (read: Params, raw: Params) => infer P } ? P : Params;

const KINDS = new Map<string, TaskKind>(Object.entries(BUILTIN));
/** Kinds added by {@link registerKind}: the module a worker thread imports to know them. */
const MODULES = new Map<string, string>();

/** Registered kind names, in registration order (the package's first; grows with {@link registerKind}). */
export const KIND_NAMES: readonly KindName[] = [...KINDS.keys()];

/** Whether `name` is a registered kind. */
export function isKind(name: string): boolean {
  return KINDS.has(name);
}

/**
 * The descriptor of kind `name`.
 * @throws RangeError for an unregistered kind, naming the registered ones.
 */
export function kindOf(name: string): TaskKind {
  const kind = KINDS.get(name);
  if (!kind) throw new RangeError(`unknown task kind ${JSON.stringify(name)}; registered kinds: ${KIND_NAMES.join(', ')}`);
  return kind;
}

/**
 * Add a kind defined outside this package. `moduleUrl` is the URL (`import.meta.url`) of the
 * ES module that exports `kind` (under any name): each worker thread imports it on the first
 * job of the kind ({@link importKind}). Registering the same descriptor again does nothing. The
 * kind's params are checked against the others when the param table is built (`spec/params.ts`).
 * @throws RangeError when another descriptor already has the name.
 */
export function registerKind(kind: TaskKind, moduleUrl: string | URL): void {
  const have = KINDS.get(kind.name);
  if (have === kind) return;
  if (have) throw new RangeError(`task kind ${JSON.stringify(kind.name)} is already registered`);
  KINDS.set(kind.name, kind);
  MODULES.set(kind.name, String(moduleUrl));
  (KIND_NAMES as KindName[]).push(kind.name);
}

/** The module of a kind added by {@link registerKind}; undefined for the package's own kinds. */
export function kindModule(name: string): string | undefined {
  return MODULES.get(name);
}

/**
 * The descriptor of kind `name`, registering it from `moduleUrl` first when this thread does
 * not know it (a worker thread, for a kind added by {@link registerKind} in the main thread).
 * @throws RangeError when the kind is unknown and `moduleUrl` is absent or exports no descriptor of that name.
 */
export async function importKind(name: string, moduleUrl?: string): Promise<TaskKind> {
  if (!KINDS.has(name) && moduleUrl !== undefined) {
    const exported = Object.values((await import(moduleUrl)) as Record<string, unknown>);
    const kind = exported.find((v): v is TaskKind => typeof v === 'object' && v !== null && (v as TaskKind).name === name && typeof (v as TaskKind).taskCode === 'object');
    if (!kind) throw new RangeError(`module ${moduleUrl} exports no task kind ${JSON.stringify(name)}`);
    registerKind(kind, moduleUrl);
  }
  return kindOf(name);
}

/**
 * The task code of `kind`: the function its `taskCode` module exports (imported on first use;
 * worker threads call this, the main thread does not need to).
 * @throws TypeError when the module does not export a function of that name.
 */
export function loadRunner(kind: BatchKind): Promise<BatchRunner>;
export function loadRunner(kind: PointKind): Promise<PointRunner>;
export function loadRunner(kind: TaskKind): Promise<BatchRunner | PointRunner>;
export async function loadRunner(kind: TaskKind): Promise<BatchRunner | PointRunner> {
  const { module, export: name } = kind.taskCode;
  const run = ((await import(module)) as Record<string, unknown>)[name];
  if (typeof run !== 'function') throw new TypeError(`task kind ${kind.name}: ${module} exports no function ${name}`);
  return run as BatchRunner | PointRunner;
}
