/**
 * The code's structure, checked from its text: no circular imports and the worker side apart
 * from the database (docs/architecture.md §1), functions stay short (about 80 lines, outside
 * the linear-algebra inner loops), and code and docs point only inside the repository (no
 * developer-only design notes, no tracker issue numbers). Run from the repository root, as
 * every test is.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

/** Longest function allowed, in lines (its first line to its last, both counted). */
const MAX_LINES = 80;

/** Folders whose functions are linear-algebra inner loops, exempt from {@link MAX_LINES}. */
const INNER_LOOPS = ['src/linalg/'];

/**
 * Functions longer than {@link MAX_LINES} that are known and waiting to be split, with their
 * length when listed: each may not grow, and no other function may pass the limit.
 */
const KNOWN_LONG: Readonly<Record<string, number>> = {
  'src/ntk/input.ts:inputKernel': 91,
};

/** Every `.ts` file below `dir` (relative to the repository root). */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The name of a function node: its own, its class's and method's, or the variable or property it is assigned to. */
function functionName(node: ts.Node, sf: ts.SourceFile): string {
  const own = (node as ts.FunctionLikeDeclarationBase).name;
  const parent = node.parent;
  if (ts.isConstructorDeclaration(node) || (own && (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)))) {
    const cls = ts.isClassLike(parent) && parent.name ? parent.name.text + '.' : '';
    return cls + (ts.isConstructorDeclaration(node) ? 'constructor' : own!.getText(sf));
  }
  if (own) return own.getText(sf);
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(sf);
  return `<function at line ${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1}>`;
}

/** Every function of `file` with its length in lines, as `file:name`. */
function functionLengths(file: string): Map<string, number> {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = new Map<string, number>();
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const key = `${relative('.', file)}:${functionName(node, sf)}`;
      out.set(key, Math.max(out.get(key) ?? 0, last - first + 1));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

test(`no function in src/ or scripts/ runs past ${MAX_LINES} lines (linear-algebra inner loops aside), and the known long ones do not grow`, (t) => {
  const problems: string[] = [];
  const long: string[] = [];
  for (const file of [...tsFiles('src'), ...tsFiles('scripts')]) {
    if (INNER_LOOPS.some((dir) => file.startsWith(dir))) continue;
    for (const [fn, lines] of functionLengths(file)) {
      if (lines <= MAX_LINES) continue;
      long.push(`${fn} (${lines})`);
      const known = KNOWN_LONG[fn];
      if (known === undefined) problems.push(`${fn}: ${lines} lines (at most ${MAX_LINES}); split it into named parts`);
      else if (lines > known) problems.push(`${fn}: ${lines} lines, was ${known}; it should shrink, not grow`);
    }
  }
  t.diagnostic(`functions over ${MAX_LINES} lines: ${long.join(', ') || 'none'}`);
  assert.deepEqual(problems, []);
});

test('the function-length check sees functions, methods, arrows and their lengths', () => {
  const lengths = functionLengths('test/structure.test.ts');
  assert.equal(lengths.get('test/structure.test.ts:tsFiles'), 9);
  assert.ok((lengths.get('test/structure.test.ts:functionLengths') ?? 0) > 10);
  assert.ok(lengths.has('test/structure.test.ts:visit'));
});

/** Text that points outside the repository: developer-only design notes, tracker issue numbers. */
const OUTSIDE = [/design\.md/i, /\bissues? +#?\d+/i, /\(#\d+\)/];

test('code and docs point only inside the repository: no design.md, no tracker issue numbers in src/, docs/ or README.md', () => {
  const files = [...tsFiles('src'), ...readdirSync('docs').map((f) => join('docs', f)), 'README.md'];
  const hits: string[] = [];
  for (const file of files) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (OUTSIDE.some((re) => re.test(line))) hits.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(hits, []);
});

/** The files each file of `src/` imports (static, type-only and dynamic `import('…')` with a literal path), relative to the root. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles('src')) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const deps: string[] = [];
    const add = (spec: string): void => void (spec.startsWith('.') && deps.push(relative('.', resolve(dirname(file), spec.replace(/\.js$/, '.ts')))));
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text);
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length && ts.isStringLiteral(node.arguments[0])) add(node.arguments[0].text);
      ts.forEachChild(node, visit);
    };
    visit(sf);
    graph.set(file, deps);
  }
  return graph;
}

test('src/ has no circular imports, counting type-only and dynamic imports', () => {
  const graph = importGraph();
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const walk = (file: string, path: string[]): void => {
    state.set(file, 'open');
    for (const dep of graph.get(file) ?? []) {
      if (!graph.has(dep)) continue;
      if (state.get(dep) === 'open') cycles.push([...path.slice(path.indexOf(dep)), dep].join(' → '));
      else if (!state.has(dep)) walk(dep, [...path, dep]);
    }
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) walk(file, [file]);
  assert.deepEqual(cycles, []);
});

test('the worker side (tasks/, ntk/, nn/, data/, linalg/) imports neither engine/, store/ nor cli/, and from spec/ only the param modules', () => {
  const worker = ['src/tasks/', 'src/ntk/', 'src/nn/', 'src/data/', 'src/linalg/'];
  const params = ['src/spec/params.ts', 'src/spec/param-def.ts', 'src/spec/shared-params.ts'];
  const bad: string[] = [];
  for (const [file, deps] of importGraph()) {
    if (!worker.some((w) => file.startsWith(w))) continue;
    for (const dep of deps) {
      if (['src/engine/', 'src/store/', 'src/cli/'].some((d) => dep.startsWith(d)) || (dep.startsWith('src/spec/') && !params.includes(dep))) bad.push(`${file} imports ${dep}`);
    }
  }
  assert.deepEqual(bad, []);
});
