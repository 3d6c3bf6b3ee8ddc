/**
 * A throwaway task kind, defined in this one file as a new kind would be in `src/tasks/kinds/`:
 * `kind: poly` evaluates `coef · u^power` for each grid point. Its own params (`u` required,
 * `power` and `coef` with defaults), their checks and its task code live here; nothing in
 * `src/` names it. `test/kind-registration.test.ts` registers it and runs it end to end.
 */
import { z } from 'zod';
import { nonNegInt, type ParamDefs } from '../../src/spec/param-def.js';
import type { PointKind } from '../../src/tasks/registry.js';
import type { TaskContext, TaskInput } from '../../src/tasks/types.js';
import { parseParams } from '../../src/spec/params.js';

/** This module's URL: where a worker thread imports the kind from (`registerKind`). */
export const POLY_MODULE = import.meta.url;

/** Typed params of a poly task. */
export interface PolyParams {
  u: number;
  power: number;
  coef: number;
}

const POLY_PARAMS: ParamDefs = {
  u: { doc: 'poly: the point at which the monomial is evaluated', schema: z.number().finite(), expected: 'a finite number' },
  power: { doc: 'poly: the exponent', schema: nonNegInt.max(10), expected: 'an integer from 0 to 10', default: 2 },
  coef: { doc: 'poly: the coefficient', schema: z.number().finite(), expected: 'a finite number', default: 3 },
};

/** The task: one metric, `poly_value = coef · u^power`. */
export async function runPolyTask(task: TaskInput, ctx: TaskContext): Promise<void> {
  const p = parseParams('poly', task.params) as unknown as PolyParams;
  ctx.reporter.metrics(task.id, [{ step: 0, name: 'poly_value', value: p.coef * p.u ** p.power }]);
  ctx.reporter.end(task.id, { status: 'done' });
}

export const polyKind: PointKind<PolyParams> = {
  name: 'poly',
  doc: 'test kind: a monomial coef · u^power',
  version: 7,
  sharedParams: [],
  params: POLY_PARAMS,
  required: ['u'],
  typedParams: (read) => read as unknown as PolyParams,
  /** An odd power of a negative `u` is refused for the whole spec (a rule across params). */
  specProblems: (values) =>
    values('u').some((u) => Number(u) < 0) && values('power').some((q) => Number(q) % 2 === 1) ? ['power: odd powers need u ≥ 0 in poly sweeps'] : [],
  needsData: false,
  execution: 'each',
  report: { metrics: ['poly_value'], x: ['u'], color: ['power'] },
  cost: () => 0,
  memoryBytes: () => 0,
  taskCode: { module: POLY_MODULE, export: 'runPolyTask' },
};
