/**
 * From a spec file to a registered sweep: validate, expand, check the data, register the grid
 * (shared by `submit` and `run`). Nothing is written when the spec or its data is bad.
 */
import { dirname } from 'node:path';
import { checkDataParams, type DataParams } from '../data/index.js';
import { SpecError } from '../spec/errors.js';
import { expandSpec, specHash } from '../spec/expand.js';
import { PARAMS } from '../spec/params.js';
import { loadSpecFile, type SweepSpec } from '../spec/spec.js';
import type { NewTask, RegisterResult, Store } from '../store/store.js';
import { encodeParams } from '../util/json.js';
import { describeSpecChange } from './spec-diff.js';

function checkData(spec: SweepSpec, tasks: NewTask[]): void {
  if (spec.kind === 'debug') return;
  const seen = new Map<string, DataParams>();
  for (const t of tasks) {
    const dp = Object.fromEntries(Object.entries(t.params).filter(([k]) => PARAMS[k]?.data)) as unknown as DataParams;
    seen.set(encodeParams(dp as unknown as Record<string, unknown>), dp);
  }
  const problems = new Set<string>();
  for (const dp of seen.values()) for (const p of checkDataParams(dp)) problems.add(`dataset: ${p}`);
  if (problems.size) throw new SpecError([...problems]);
}

/** A validated, expanded spec, ready to register. */
export interface PreparedSpec {
  spec: SweepSpec;
  tasks: NewTask[];
}

/**
 * Load, validate and expand the spec at `path` and check its data.
 * @throws SpecError (exit 2) naming the field or the data problem.
 */
export function prepareSpec(path: string): PreparedSpec {
  const spec = loadSpecFile(path);
  const tasks = expandSpec(spec, dirname(path));
  try {
    checkData(spec, tasks);
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(e.problems, path);
    throw e;
  }
  // a changed csv file changes every task id: make it part of the spec so the drift notice says so
  if (typeof tasks[0]?.params.data_sha256 === 'string') spec.dataset.data_sha256 = tasks[0].params.data_sha256;
  return { spec, tasks };
}

/**
 * Register a prepared spec; a changed spec of an existing sweep name is described on stderr
 * unless `quiet`.
 */
export async function registerSpec(store: Store, p: PreparedSpec, quiet: boolean): Promise<RegisterResult> {
  const specJson = encodeParams(p.spec as unknown as Record<string, unknown>);
  const reg = await store.registerSweep({ name: p.spec.name, kind: p.spec.kind, specJson, specHash: specHash(p.spec) }, p.tasks);
  if (reg.previousSpecJson && !quiet) process.stderr.write(describeSpecChange(p.spec.name, reg.previousSpecJson, specJson, reg.attached) + '\n');
  return reg;
}
