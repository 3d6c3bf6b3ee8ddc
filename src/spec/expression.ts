/**
 * Derived expressions (`derived: { t: "tau * depth" }`): parsed and evaluated with mathjs (no
 * JavaScript `eval`), restricted to arithmetic over the spec's own names. An expression may use
 * numbers, the params and helper values of the spec, the operators of {@link OPERATORS},
 * `a ? b : c`, parentheses, and the functions of {@link FUNCTIONS}. Everything else is refused
 * with its name: mathjs constants (`pi`, `tau`, `e`, `phi`, …, which would silently stand in for
 * a helper the spec forgot), other functions (`evaluate`, `import`, …), strings, assignments,
 * arrays, objects, property access.
 */
import { createRequire } from 'node:module';
import type { MathNode } from '../util/math-node.js';

type MathJs = typeof import('mathjs');
let mathInstance: ReturnType<MathJs['create']> | null = null;
/** mathjs, loaded on first use: it takes about a second to load, and most specs have no `derived`. */
function mathjs(): ReturnType<MathJs['create']> {
  if (!mathInstance) {
    const m = createRequire(import.meta.url)('mathjs') as MathJs;
    mathInstance = m.create(m.all);
  }
  return mathInstance;
}

/** Functions a derived expression may call (mathjs names, numeric arguments). */
export const FUNCTIONS = ['abs', 'ceil', 'floor', 'round', 'fix', 'sign', 'sqrt', 'cbrt', 'exp', 'log', 'log2', 'log10', 'log1p', 'expm1', 'pow', 'min', 'max', 'mod', 'hypot'] as const;

/** Operators a derived expression may use (mathjs operator function names). */
const OPERATORS = new Set(['add', 'subtract', 'multiply', 'divide', 'pow', 'mod', 'unaryMinus', 'unaryPlus', 'larger', 'smaller', 'largerEq', 'smallerEq', 'equal', 'unequal', 'and', 'or', 'not']);
const ALLOWED_FUNCTIONS = new Set<string>(FUNCTIONS);


/**
 * Parse `expr` and check it against the rules of the module comment.
 * @param known the names the expression may read (params and helpers of the spec).
 * @returns the names it reads (symbols that are not called) and one message per problem, e.g.
 *   `uses pi, which is not set in dataset, fixed, grid or derived (mathjs constants are not available)`.
 * @throws the mathjs parse error for text that is not an expression.
 */
export function checkExpression(expr: string, known: ReadonlySet<string>): { symbols: string[]; problems: string[] } {
  const symbols = new Set<string>();
  const problems: string[] = [];
  (mathjs().parse(expr) as unknown as MathNode).traverse((node, _path, parent) => {
    if (node.type === 'SymbolNode') {
      if (parent?.type === 'FunctionNode' && parent.fn === node) return;
      symbols.add(node.name!);
      if (!known.has(node.name!)) {
        const constant = node.name! in mathjs() ? ` (${node.name} is not a mathjs constant here: give it as a helper value in fixed or grid)` : '';
        problems.push(`uses ${node.name}, which is not set in dataset, fixed, grid or derived${constant}`);
      }
    } else if (node.type === 'FunctionNode') {
      const fn = node.fn as MathNode;
      const name = fn.type === 'SymbolNode' ? fn.name! : fn.type;
      if (!ALLOWED_FUNCTIONS.has(name)) problems.push(`calls ${name}, which is not an allowed function (allowed: ${FUNCTIONS.join(', ')})`);
    } else if (node.type === 'OperatorNode') {
      if (!OPERATORS.has(String(node.fn))) problems.push(`uses the operator ${node.op}, which is not allowed (arithmetic and comparisons only)`);
    } else if (node.type === 'ConstantNode') {
      if (typeof node.value !== 'number' && typeof node.value !== 'string') problems.push(`contains the constant ${JSON.stringify(node.value)}; only numbers and strings are allowed`);
    } else if (!['ParenthesisNode', 'ConditionalNode'].includes(node.type)) {
      problems.push(`contains a ${node.type.replace(/Node$/, '').toLowerCase()} expression, which is not allowed (arithmetic over params only)`);
    }
  });
  return { symbols: [...symbols], problems };
}

/** Names an expression reads (symbols that are not called). */
export function expressionSymbols(expr: string): string[] {
  return checkExpression(expr, new Set()).symbols;
}

/** Evaluate a derived expression (checked with {@link checkExpression}) with mathjs. */
export function evaluateExpression(expr: string, scope: Record<string, unknown>): unknown {
  const v = mathjs().evaluate(expr, { ...scope });
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return v;
}
