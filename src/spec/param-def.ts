/**
 * What a parameter definition is: its meaning, schema (zod), the phrase of its error messages
 * and its default. Shared params (data, network) are defined in `shared-params.ts`; each task
 * kind defines its own in its descriptor (`tasks/kinds/<kind>.ts`); `params.ts` joins them.
 * Names follow docs/conventions.md §2.
 */
import { z } from 'zod';

/** One parameter a sweep spec may set. */
export interface ParamDef {
  /** One-line meaning, shown by `ntk-sweep params`. */
  doc: string;
  schema: z.ZodType;
  /** Human phrase completing "expected …". */
  expected: string;
  /** Filled in when the spec does not set the param (part of the task id either way). */
  default?: unknown;
  /** Belongs to the data selection / preprocessing (the `dataset` block). */
  data?: boolean;
  /** +∞ is a valid value (written `inf` in a spec), besides what `schema` accepts. */
  infinite?: boolean;
  /**
   * Changes where or how a grid point runs, not its numbers: left out of its task id (a csv
   * file's location, a checkpoint period).
   */
  not_identity?: boolean;
  /**
   * The default value is left out of the task id: the param was added after task ids existed,
   * and leaving its default out keeps those ids, and the results stored under them, valid.
   */
  id_omits_default?: boolean;
  /** Canonical form of a valid value, stored in the task's params (and so its id) instead of the value as written. */
  canonical?: (value: unknown) => unknown;
}

/** Definitions by param name, in the order `ntk-sweep params` lists them. */
export type ParamDefs = Readonly<Record<string, ParamDef>>;

/** Whether `value` is valid for `def`: +∞ where the param allows it, anything else as its schema says. */
export function validParamValue(def: ParamDef, value: unknown): boolean {
  return value === Infinity ? def.infinite === true : def.schema.safeParse(value).success;
}

export const posInt = z.number().int().positive();
export const nonNegInt = z.number().int().nonnegative();
export const posNum = z.number().positive().finite();
export const nonNegNum = z.number().nonnegative().finite();
