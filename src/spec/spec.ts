/**
 * Sweep specs: YAML → validated {@link SweepSpec}. Structure is checked with zod, each param
 * value against its definition in `params.ts`; every problem is reported with its path, e.g.
 * `grid.depth[2]: expected a positive integer, got -1`.
 *
 * ```yaml
 * name: quickstart            # sweep name (letters, digits, - _ .)
 * kind: kernel                # kernel | train
 * description: optional text
 * max_attempts: 3             # retries of a failing grid point
 * dataset: { name: mnist, center: true }   # data params; `dataset: mnist` is short for { name: mnist }
 * fixed:   { n_test: 500, kernel: ntk }    # one value each
 * grid:    { n_train: [100, 400], depth: [1, 2, 3], t: [1, 10, inf] }  # cartesian product
 * derived: { t: "tau * depth" }            # math expressions over other params (mathjs)
 * ```
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { show } from '../util/show.js';
import { SpecError } from './errors.js';
import { checkExpression } from './expression.js';
import { KIND_NAMES, kindOf } from '../tasks/registry.js';
import { validParamValue } from './param-def.js';
import { activationProblems, paramTable, type Kind } from './params.js';

export interface SweepSpec {
  name: string;
  kind: Kind;
  description?: string;
  max_attempts: number;
  /** Params from the dataset block (`name` renamed to `dataset`). */
  dataset: Record<string, unknown>;
  fixed: Record<string, unknown>;
  grid: Record<string, unknown[]>;
  derived: Record<string, string>;
}

const scalar = z.union([z.number(), z.string(), z.boolean(), z.array(z.number())]);
const shapeFields = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, "-", "_" or "."'),
  kind: z.string(),
  description: z.string().optional(),
  max_attempts: z.number().int().positive().optional(),
  dataset: z.union([z.string(), z.record(z.string(), scalar)]).optional(),
  fixed: z.record(z.string(), scalar).optional(),
  grid: z.record(z.string(), z.array(scalar).min(1, 'expected a non-empty list')).optional(),
  derived: z.record(z.string(), z.string()).optional(),
};
type SpecShape = z.infer<z.ZodObject<typeof shapeFields>>;
/** The top-level fields a spec may have. */
const FIELDS = Object.keys(shapeFields);

/** The spec's shape, `kind` one of the kinds registered now (a kind may be added at run time). */
function specShape() {
  return z.object({ ...shapeFields, kind: z.enum(KIND_NAMES as [Kind, ...Kind[]]) }).strict();
}

function fmtPath(path: PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(top level)';
}

/** Accept `inf`, `.inf`, `Infinity` (any case) as +∞ for numeric params. */
function normalizeValue(v: unknown): unknown {
  if (typeof v === 'string' && /^[+]?(\.?inf|infinity)$/i.test(v.trim())) return Infinity;
  return v;
}

function checkParam(kind: Kind, key: string, value: unknown, where: string, problems: string[]): unknown {
  const def = paramTable()[key];
  if (!def) return value; // auxiliary param: checked elsewhere
  if (!def.kinds.includes(kind)) {
    problems.push(`${where}: ${key} is not a parameter of kind ${kind} tasks`);
    return value;
  }
  const v = normalizeValue(value);
  if (!validParamValue(def, v)) {
    problems.push(`${where}: expected ${def.expected}, got ${show(value)}`);
    return v;
  }
  return def.canonical ? def.canonical(v) : v;
}

function closest(word: string, options: string[]): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++) {
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[a.length][b.length];
  };
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const dd = dist(word, o);
    if (dd < bestD) [best, bestD] = [o, dd];
  }
  return best;
}

/**
 * Validate a parsed YAML document as a sweep spec.
 * @throws SpecError listing every problem with its path.
 */
export function validateSpec(doc: unknown, file?: string): SweepSpec {
  const shaped = specShape().safeParse(doc);
  if (!shaped.success) throw new SpecError(shapeProblems(shaped.error.issues, doc), file);
  const problems: string[] = [];
  const raw = shaped.data;
  const kind = raw.kind;
  const { dataset, fixed, grid } = checkSections(raw, kind, problems);
  const derived: Record<string, string> = { ...(raw.derived ?? {}) };

  // each param defined once
  const owners = new Map<string, string>();
  for (const [section, obj] of [
    ['dataset', dataset],
    ['fixed', fixed],
    ['grid', grid],
    ['derived', derived],
  ] as const) {
    for (const k of Object.keys(obj)) {
      const prev = owners.get(k);
      if (prev) problems.push(`${section}.${k}: ${k} is already set in ${prev}; set each parameter in one place`);
      else owners.set(k, section);
    }
  }
  const referenced = checkDerived(derived, owners, kind, problems);
  const params = paramTable();
  // unknown names are allowed only as auxiliary inputs of derived expressions
  for (const [k, section] of owners) {
    if (params[k] || referenced.has(k)) continue;
    const hint = closest(k, Object.keys(params));
    const other = hint && !params[hint].kinds.includes(kind) ? `, a ${params[hint].kinds.join('/')} parameter` : '';
    problems.push(
      `${section}.${k}: unknown parameter${hint ? ` (did you mean ${hint}${other}?)` : ''}; see \`ntk-sweep params\` (helper values are allowed only when a derived expression uses them)`,
    );
  }
  checkDatasetFields(dataset.dataset ?? fixed.dataset, owners, problems);
  const valuesOf = (key: string): unknown[] => {
    if (key in grid) return grid[key];
    if (key in fixed) return [fixed[key]];
    const def = params[key]?.default;
    return def !== undefined && params[key].kinds.includes(kind) && !(key in derived) ? [def] : [];
  };
  const placeOf = (key: string, value: unknown): string | undefined => {
    const i = grid[key]?.findIndex((v) => String(v) === String(value)) ?? -1;
    return i >= 0 ? `grid.${key}[${i}]` : key in fixed ? `fixed.${key}` : undefined;
  };
  problems.push(...activationProblems(kind, valuesOf, placeOf));
  for (const req of kindOf(kind).required) {
    if (!owners.has(req) && params[req]?.default === undefined) problems.push(`${req}: required for kind ${kind}; set it in dataset, fixed, grid or derived`);
  }
  if (problems.length) throw new SpecError(problems, file);
  return { name: raw.name, kind, description: raw.description, max_attempts: raw.max_attempts ?? 3, dataset, fixed, grid, derived };
}

/** What a top-level field holds, for "required" messages. */
function fieldMeaning(field: string): string | undefined {
  if (field === 'name') return 'the sweep name (letters, digits, "-", "_" or ".")';
  if (field === 'kind') return `one of ${KIND_NAMES.join(', ')}`;
  return undefined;
}

/** A zod issue in words, e.g. `expected one of kernel, train, debug, got "kern"`. */
function explainIssue(issue: z.core.$ZodIssue, got: unknown): string {
  const field = issue.path.length === 1 ? String(issue.path[0]) : '';
  if (got === undefined) return `required: ${fieldMeaning(field) ?? 'a value'}`;
  if (typeof got === 'number' && Number.isNaN(got)) return 'got NaN (.nan), which is not a value; write a number, or inf for t = ∞';
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => String(v)).join(', ')}, got ${show(got)}`;
  if (issue.code === 'invalid_type') return `expected ${field === 'name' ? fieldMeaning('name') : `a ${issue.expected}`}, got ${show(got)}`;
  if (issue.code === 'invalid_union') return `expected a number, a string, true/false or a list of numbers, got ${show(got)}`;
  return `${issue.message}, got ${show(got)}`;
}

/** Problems of a document that does not have the spec's shape, each with its path (unknown fields with a suggestion). */
function shapeProblems(issues: readonly z.core.$ZodIssue[], doc: unknown): string[] {
  const problems: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) {
        const hint = closest(k, FIELDS);
        problems.push(`${fmtPath([...issue.path, k])}: unknown field${hint ? ` (did you mean ${hint}?)` : ''}; allowed: ${FIELDS.join(', ')}`);
      }
    } else {
      const got = issue.path.reduce<unknown>((o, p) => (o && typeof o === 'object' ? (o as Record<PropertyKey, unknown>)[p] : undefined), doc);
      problems.push(`${fmtPath(issue.path)}: ${explainIssue(issue, got)}`);
    }
  }
  return problems;
}

/** The dataset block (`name` renamed to `dataset`), fixed values and grid lists, each value checked against its param. */
function checkSections(
  raw: SpecShape,
  kind: Kind,
  problems: string[],
): { dataset: Record<string, unknown>; fixed: Record<string, unknown>; grid: Record<string, unknown[]> } {
  const datasetBlock: Record<string, unknown> = typeof raw.dataset === 'string' ? { name: raw.dataset } : { ...(raw.dataset ?? {}) };
  const dataset: Record<string, unknown> = {};
  if (raw.dataset !== undefined && !('name' in datasetBlock)) problems.push('dataset.name: expected one of mnist, fashion-mnist, sphere, csv, got nothing');
  for (const [k, v] of Object.entries(datasetBlock)) {
    const key = k === 'name' ? 'dataset' : k;
    const params = paramTable();
    if (!params[key]?.data) {
      const hint = closest(key, Object.keys(params).filter((p) => params[p].data));
      problems.push(`dataset.${k}: not a data parameter${hint ? ` (did you mean ${hint}?)` : ''}`);
      continue;
    }
    dataset[key] = checkParam(kind, key, v, `dataset.${k}`, problems);
  }
  const fixed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw.fixed ?? {})) fixed[k] = checkParam(kind, k, v, `fixed.${k}`, problems);
  const grid: Record<string, unknown[]> = {};
  for (const [k, vs] of Object.entries(raw.grid ?? {})) {
    grid[k] = vs.map((v, i) => checkParam(kind, k, v, `grid.${k}[${i}]`, problems));
    const seen = new Set(grid[k].map((v) => JSON.stringify(v === Infinity ? 'inf' : v)));
    if (seen.size !== vs.length) problems.push(`grid.${k}: contains duplicate values`);
  }
  return { dataset, fixed, grid };
}

/**
 * Derived expressions parse and use only the spec's names (`owners`) and the allowed functions,
 * and set params of this kind. Returns the names the expressions use.
 */
function checkDerived(derived: Record<string, string>, owners: Map<string, string>, kind: Kind, problems: string[]): Set<string> {
  const referenced = new Set<string>();
  const known = new Set(owners.keys());
  for (const [k, expr] of Object.entries(derived)) {
    try {
      const checked = checkExpression(expr, known);
      for (const s of checked.symbols) referenced.add(s);
      for (const p of checked.problems) problems.push(`derived.${k}: expression "${expr}" ${p}`);
      if (checked.symbols.includes(k)) problems.push(`derived.${k}: expression "${expr}" refers to itself`);
    } catch (e) {
      problems.push(`derived.${k}: cannot parse expression "${expr}": ${(e as Error).message}`);
    }
    const def = paramTable()[k];
    if (def && !def.kinds.includes(kind)) problems.push(`derived.${k}: ${k} is not a parameter of kind ${kind} tasks`);
  }
  return referenced;
}

/** Data params that do not apply to the chosen dataset (they would only change task ids), and those a dataset needs. */
function checkDatasetFields(dsName: unknown, owners: Map<string, string>, problems: string[]): void {
  if (typeof dsName !== 'string') return;
  const only: Record<string, string[]> = { d: ['sphere'], target: ['sphere'], path: ['csv'], train_path: ['csv'], test_path: ['csv'], label_column: ['csv'], task: ['csv'], classes: ['mnist', 'fashion-mnist', 'csv'] };
  for (const [k, section] of owners) {
    if (only[k] && !only[k].includes(dsName)) problems.push(`${section}.${k}: applies only to the ${only[k].join(' / ')} dataset${only[k].length > 1 ? 's' : ''}, not ${dsName}`);
  }
  if (dsName === 'sphere' && !owners.has('d')) problems.push('dataset.d: required for the sphere dataset (input dimension)');
  if (dsName === 'csv' && !owners.has('path') && !(owners.has('train_path') && owners.has('test_path'))) {
    problems.push('dataset.path: the csv dataset needs `path` (one file with a split column) or both `train_path` and `test_path`');
  }
}

/**
 * Read and validate a YAML spec file.
 * @throws SpecError for unreadable files, YAML syntax errors (with line and column) and invalid specs.
 */
export function loadSpecFile(file: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SpecError([`cannot read spec: ${(e as Error).message}`], file);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    if (e instanceof YAMLParseError) {
      // the message ends with the offending lines and a caret under the column: keep them
      const [first, ...excerpt] = e.message.trimEnd().split('\n');
      const lines = excerpt.filter((l, i) => i > 0 || l.trim() !== '');
      throw new SpecError([`YAML syntax error: ${first.replace(/:$/, '')}${lines.length ? ':\n' + lines.map((l) => '    ' + l).join('\n') : ''}`], file);
    }
    throw e;
  }
  return validateSpec(doc, file);
}
