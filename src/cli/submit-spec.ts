/**
 * From a spec file to a registered sweep (shared by `submit` and `run`): validate, size the grid
 * before expanding anything, scan it as a stream to check its data, then register it in chunks.
 * Nothing is written when the spec, its size or its data is bad.
 */
import { dirname } from 'node:path';
import { checkDataParams, type DataParams } from '../data/index.js';
import { relocateCsv } from '../data/csv.js';
import { SpecError } from '../spec/errors.js';
import { DATA_PARAMS } from '../spec/shared-params.js';
import { checkGridSize, specHash } from '../spec/expand.js';
import { DEFAULT_MAX_POINTS } from '../spec/limits.js';
import { migrateCsvIds } from '../spec/legacy-ids.js';
import { loadSpecFile, type SweepSpec } from '../spec/spec.js';
import type { RegisterResult, Store } from '../store/store.js';
import type { Params } from '../tasks/types.js';
import { encodeParams } from '../util/json.js';
import { badOption, CliError, EXIT } from './exit.js';
import { registrationChunks, scanGrid, type GridScan } from './grid-registration.js';
import { describeSpecChange } from './spec-diff.js';

function checkData(data: Iterable<Params>, spec: SweepSpec): void {
  const problems = new Set<string>();
  const set = (k: string) => k in spec.dataset || k in spec.fixed || k in spec.grid || k in spec.derived;
  for (const dp of data) {
    for (const p of checkDataParams(dp as unknown as DataParams)) {
      // a default the user never wrote is named as one
      const dflt = ['n_test', 'n_train'].find((k) => !set(k) && p.startsWith(`${k} = ${DATA_PARAMS[k].default} `));
      problems.add(`dataset: ${p}${dflt ? ` (${dflt} is not set in the spec: ${DATA_PARAMS[dflt].default} is its default; set ${dflt} in fixed or grid)` : ''}`);
    }
  }
  if (problems.size) throw new SpecError([...problems]);
}

/** A validated spec whose grid was sized and scanned, ready to register. */
export interface PreparedSpec {
  path: string;
  spec: SweepSpec;
  specDir: string;
  /** Grid points (the product of the grid list lengths). */
  total: number;
  scan: GridScan;
  /** For csv data: maps a claimed point's params to this spec's copy of the file. */
  relocate?: (params: Params) => Params;
}

/**
 * Load and validate the spec at `path`, refuse grids of more than `maxPoints` points before
 * expanding, and check its data.
 * @throws SpecError (exit 2) naming the field, the axes and their sizes, or the data problem.
 */
export async function prepareSpec(path: string, maxPoints = DEFAULT_MAX_POINTS): Promise<PreparedSpec> {
  if (!(Number.isInteger(maxPoints) && maxPoints >= 1)) throw badOption('--max-points', 'a positive integer', maxPoints);
  const spec = loadSpecFile(path);
  const specDir = dirname(path);
  let total: number;
  let scan: GridScan;
  try {
    total = checkGridSize(spec, maxPoints);
    scan = await scanGrid(spec, specDir);
    checkData(scan.data.values(), spec);
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(e.problems, path);
    throw e;
  }
  // a changed csv file changes every task id: make it part of the spec so the drift notice says so
  if (typeof scan.first?.data_sha256 === 'string') spec.dataset.data_sha256 = scan.first.data_sha256;
  const relocate = spec.dataset.dataset === 'csv' && scan.first ? relocateCsv(scan.first) : undefined;
  return { path, spec, specDir, total, scan, relocate };
}

/**
 * Register a prepared spec. A sweep name cannot change kind (exit 2); csv points of databases
 * written before content identity are re-identified first (said on stderr unless `quiet`); a
 * changed spec of an existing sweep is described on stderr unless `json`.
 */
export async function registerSpec(store: Store, p: PreparedSpec, out: { quiet: boolean; json: boolean }): Promise<RegisterResult> {
  const quiet = out.quiet;
  const { spec } = p;
  const existing = (await store.sweeps()).find((w) => w.name === spec.name);
  if (existing && existing.kind !== spec.kind) {
    throw new CliError(
      `${p.path}: sweep ${spec.name} already exists with kind ${existing.kind}; a sweep cannot change kind (its grid points would mix ${existing.kind} and ${spec.kind} results). Give this spec another name.`,
      EXIT.USAGE,
    );
  }
  if (spec.dataset.dataset === 'csv') {
    const moved = await migrateCsvIds(store);
    if (moved > 0 && !quiet) process.stderr.write(`note: ${moved} csv grid point${moved === 1 ? '' : 's'} of this database re-identified by the data's content instead of its path\n`);
  }
  const specJson = encodeParams(spec as unknown as Record<string, unknown>);
  const reg = await store.registerSweep({ name: spec.name, kind: spec.kind, specJson, specHash: specHash(spec) }, registrationChunks(spec, p.specDir, p.total, quiet || out.json, p.scan.tasks));
  if (reg.previousSpecJson && !out.json) process.stderr.write(describeSpecChange(spec.name, reg.previousSpecJson, specJson, reg.attached) + '\n');
  return reg;
}
