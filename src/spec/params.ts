/**
 * Every parameter a sweep spec may set, joined from their one definition each: the shared groups
 * (`shared-params.ts`: data, network) and each registered kind's own params (its descriptor in
 * `tasks/kinds/`). A task reads its typed params through {@link parseParams} (defaults filled,
 * values checked, the kind's rules applied) and {@link dataParams}. Names follow
 * docs/conventions.md §2.
 *
 * Tasks (worker side) import from `spec/` only this module and the two it joins.
 */
import type { DataParams } from '../data/types.js';
import { isKind, KIND_NAMES, kindOf, type BuiltinKindName, type KindName, type KindParams } from '../tasks/registry.js';
import { show } from '../util/show.js';
import { validParamValue, type ParamDef } from './param-def.js';
import { activationExtraParamProblems, activationValuesProblems, DATA_PARAMS, SHARED_PARAMS } from './shared-params.js';

export type { ParamDef } from './param-def.js';
export type { NetworkParams } from './shared-params.js';

/** A task kind's name (`tasks/registry.ts`). */
export type Kind = KindName;

/** A param with the kinds that take it, as `ntk-sweep params` lists it. */
export interface ParamEntry extends ParamDef {
  kinds: Kind[];
}

/** Params as stored with a task: canonical JSON values by name. */
type RawParams = Record<string, unknown>;

let table: { kinds: number; byName: Readonly<Record<string, ParamEntry>> } | undefined;
const kindTables = new Map<string, Readonly<Record<string, ParamDef>>>();

/**
 * The params of kind `kind` (its shared groups, then its own), by name, in listing order.
 * @throws RangeError for an unregistered kind.
 */
export function kindParams(kind: Kind): Readonly<Record<string, ParamDef>> {
  const known = kindTables.get(kind);
  if (known) return known;
  const k = kindOf(kind);
  const defs: Record<string, ParamDef> = Object.create(null);
  for (const group of [...k.sharedParams.map((g) => SHARED_PARAMS[g]), k.params]) Object.assign(defs, group);
  kindTables.set(kind, defs);
  return defs;
}

/**
 * Every param of every registered kind, by name (shared groups first, then each kind's own, in
 * registration order), each with the kinds that take it. Rebuilt when a kind is registered.
 * @throws Error when a kind's own param has a shared param's name, or another kind's with a
 *   different definition.
 */
export function paramTable(): Readonly<Record<string, ParamEntry>> {
  if (table?.kinds === KIND_NAMES.length) return table.byName;
  const byName: Record<string, ParamEntry> = Object.create(null);
  const owner = new Map<string, ParamDef>();
  for (const [group, defs] of Object.entries(SHARED_PARAMS)) {
    for (const [name, def] of Object.entries(defs)) {
      byName[name] = { ...def, kinds: KIND_NAMES.filter((k) => (kindOf(k).sharedParams as readonly string[]).includes(group)) };
      owner.set(name, def);
    }
  }
  for (const kind of KIND_NAMES) {
    for (const [name, def] of Object.entries(kindOf(kind).params)) {
      const prev = owner.get(name);
      if (prev === def) {
        byName[name].kinds.push(kind);
        continue;
      }
      if (prev) throw new Error(`task kind ${kind}: param ${name} is already defined (shared, or by another kind); use that definition or another name`);
      owner.set(name, def);
      byName[name] = { ...def, kinds: [kind] };
    }
  }
  table = { kinds: KIND_NAMES.length, byName };
  return byName;
}

/**
 * Problems of a spec of kind `kind` that no single value shows: unknown activations or refused
 * expressions, the kind's own rules across params (e.g. the step activation has no NTK), and
 * `activation_*` params set for no activation that takes them or missing for one that needs
 * them. `values(key)` lists every value a param takes in the spec (fixed, grid, or its default);
 * `placeOf(key, value)`, where the spec sets a value, prefixes its problems (default: the key).
 */
export function activationProblems(kind: Kind, values: (key: string) => unknown[], placeOf?: (key: string, value: unknown) => string | undefined): string[] {
  return [...activationValuesProblems(values, placeOf), ...(isKind(kind) ? (kindOf(kind).specProblems?.(values) ?? []) : []), ...activationExtraParamProblems(values)];
}

/**
 * `raw[key]`, else the default of `def`, checked against the param's schema.
 * @throws RangeError `<kind> task: param <key>: expected …, got …` (or `required` when a param
 *   without default is missing and `required` is set).
 */
function paramOf(kind: Kind, def: ParamDef, raw: RawParams, key: string, required: boolean): unknown {
  const v = raw[key] ?? def.default;
  if (v === undefined) {
    if (required) throw new RangeError(`${kind} task: param ${key}: required (${def.expected})`);
    return undefined;
  }
  if (!validParamValue(def, v)) throw new RangeError(`${kind} task: param ${key}: expected ${def.expected}, got ${show(v)}`);
  return v;
}

/**
 * The data params of a task's raw params: every data param (`shared-params.ts`) that is set,
 * with the defaults of those that have one (`n_test`, `data_seed`, `center`, `unit_norm`). Not
 * validated here: `loadDataset` checks them together (`data/check.ts`).
 */
export function dataParams(raw: RawParams): DataParams {
  const out: RawParams = {};
  for (const [key, def] of Object.entries(DATA_PARAMS)) {
    const v = raw[key] ?? def.default;
    if (v !== undefined) out[key] = v;
  }
  return out as unknown as DataParams;
}

/**
 * The typed params of a task of `kind` from its raw params (as expanded from a spec, or given
 * directly by a test), as the kind's descriptor defines them: each of its params (shared groups
 * and own) that is set or has a default, checked against its schema (those the kind requires
 * must be set); the data params collected by {@link dataParams} as `data` when the kind takes
 * the data group; then the kind's `typedParams` rules. Params of other kinds and auxiliary names
 * are ignored.
 * @throws RangeError for an unregistered kind, and naming the param and what is expected (for
 *   train tasks also when both `log_every` and `log_points` are set).
 */
export function parseParams<K extends BuiltinKindName>(kind: K, raw: RawParams): KindParams<K>;
export function parseParams(kind: Kind, raw: RawParams): RawParams;
export function parseParams(kind: Kind, raw: RawParams): unknown {
  const descriptor = kindOf(kind);
  const read: RawParams = {};
  for (const [key, def] of Object.entries(kindParams(kind))) {
    if (def.data) continue;
    const v = paramOf(kind, def, raw, key, descriptor.required.includes(key));
    if (v !== undefined) read[key] = v;
  }
  if (descriptor.sharedParams.includes('data')) read.data = dataParams(raw);
  return descriptor.typedParams ? descriptor.typedParams(read, raw) : read;
}
