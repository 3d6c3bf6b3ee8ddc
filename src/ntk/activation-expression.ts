/**
 * User activations given as an expression in `x` (`activation: "x * tanh(log(1 + exp(x)))"`):
 * parsed with mathjs (no JavaScript `eval`), checked against an allow-list, differentiated
 * symbolically (mathjs `derivative`), and compiled once into plain closures over the checked
 * syntax tree (no mathjs call, scope object or `Function` constructor per evaluation), then handed
 * to the quadrature duals of `activation-quadrature.ts`.
 *
 * An expression may use the variable `x`, numbers, the constants `pi` and `e`, `+ − * / ^`,
 * parentheses and the smooth functions of {@link EXPRESSION_FUNCTIONS}. It is refused when it
 * uses anything else (other names, comparisons, conditionals, non-smooth functions such as
 * `sign`, `abs`, `max`, whose derivatives are Dirac deltas or undefined at a point), when it does
 * not depend on `x`, when mathjs cannot differentiate it, or when φ or φ' is not finite
 * somewhere on `[−50, 50]` (e.g. `sqrt(x)`, `1/x`, `sqrt(x^2)`, whose derivative is undefined at 0),
 * or when φ' vanishes there (no NTK).
 */
import { createRequire } from 'node:module';
import type { MathNode } from '../util/math-node.js';

type MathJs = typeof import('mathjs');
let mathInstance: MathJs | null = null;
/** mathjs, loaded on first use (it takes about a second to load). */
function mathjs(): MathJs {
  mathInstance ??= createRequire(import.meta.url)('mathjs') as MathJs;
  return mathInstance;
}

/** Functions an activation expression may call (smooth where finite, differentiable by mathjs). */
export const EXPRESSION_FUNCTIONS = ['exp', 'log', 'sqrt', 'tanh', 'sinh', 'cosh', 'sin', 'cos', 'atan', 'asinh'] as const;

/** Functions refused with their reason. */
const REFUSED_REASON: Record<string, string> = {
  sign: 'it is discontinuous (its derivative is a Dirac delta at 0; for the NNGP of a step use activation step)',
  abs: 'it is not differentiable at 0 (use activation abs)',
  max: 'it is not differentiable where its arguments meet (use activation relu or leaky_relu)',
  min: 'it is not differentiable where its arguments meet (use activation relu or leaky_relu)',
  floor: 'it is discontinuous (its derivative is a sum of Dirac deltas)',
  ceil: 'it is discontinuous (its derivative is a sum of Dirac deltas)',
  round: 'it is discontinuous (its derivative is a sum of Dirac deltas)',
  erf: 'mathjs cannot differentiate it (use activation erf)',
  log1p: 'mathjs cannot differentiate it (write log(1 + ...))',
  expm1: 'mathjs cannot differentiate it (write exp(...) - 1)',
};

/** Implementations the compiler knows: the allowed functions and those mathjs derivatives produce. */
const IMPL: Record<string, (a: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  cbrt: Math.cbrt,
  tanh: Math.tanh,
  sinh: Math.sinh,
  cosh: Math.cosh,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  atan: Math.atan,
  asinh: Math.asinh,
  sech: (a) => 1 / Math.cosh(a),
  csch: (a) => 1 / Math.sinh(a),
  coth: (a) => 1 / Math.tanh(a),
  sec: (a) => 1 / Math.cos(a),
  csc: (a) => 1 / Math.sin(a),
  cot: (a) => 1 / Math.tan(a),
  abs: Math.abs,
};
const OPERATORS = new Set(['add', 'subtract', 'multiply', 'divide', 'pow', 'unaryMinus', 'unaryPlus']);
const CONSTANTS: Record<string, number> = { pi: Math.PI, e: Math.E };


type Scalar = (x: number) => number;

/** Compile a checked tree into closures. @throws RangeError for a node the compiler does not know. */
function compile(node: MathNode): Scalar {
  switch (node.type) {
    case 'ConstantNode': {
      const c = Number(node.value);
      return () => c;
    }
    case 'SymbolNode': {
      if (node.name === 'x') return (x) => x;
      const c = CONSTANTS[node.name!];
      if (c === undefined) throw new RangeError(`uses ${node.name}`);
      return () => c;
    }
    case 'ParenthesisNode':
      return compile(node.content!);
    case 'OperatorNode': {
      const [a, b] = (node.args ?? []).map(compile);
      switch (String(node.fn)) {
        case 'add': return (x) => a(x) + b(x);
        case 'subtract': return (x) => a(x) - b(x);
        case 'multiply': return (x) => a(x) * b(x);
        case 'divide': return (x) => a(x) / b(x);
        case 'pow': {
          const e = node.args![1];
          if (e.type === 'ConstantNode' && Number(e.value) === 2) return (x) => { const v = a(x); return v * v; };
          return (x) => Math.pow(a(x), b(x));
        }
        case 'unaryMinus': return (x) => -a(x);
        case 'unaryPlus': return a;
        default: throw new RangeError(`uses the operator ${node.op}`);
      }
    }
    case 'FunctionNode': {
      const fn = node.fn as MathNode;
      const name = fn.name ?? '';
      const args = (node.args ?? []).map(compile);
      if (name === 'log' && args.length === 2) return (x) => Math.log(args[0](x)) / Math.log(args[1](x));
      if (name === 'pow' && args.length === 2) return (x) => Math.pow(args[0](x), args[1](x));
      const f = IMPL[name];
      if (!f || args.length !== 1) throw new RangeError(`calls ${name} with ${args.length} argument(s)`);
      const a = args[0];
      return (x) => f(a(x));
    }
    default:
      throw new RangeError(`contains a ${node.type.replace(/Node$/, '').toLowerCase()} expression`);
  }
}

/** Problems of the syntax tree against the allow-list (module comment). */
function treeProblems(root: MathNode): string[] {
  const problems: string[] = [];
  let usesX = false;
  root.traverse((node, _path, parent) => {
    if (node.type === 'SymbolNode') {
      if (parent?.type === 'FunctionNode' && parent.fn === node) return;
      if (node.name === 'x') usesX = true;
      else if (!(node.name! in CONSTANTS)) problems.push(`uses ${node.name}; the only variable is x (constants: pi, e)`);
    } else if (node.type === 'FunctionNode') {
      const fn = node.fn as MathNode;
      const name = fn.type === 'SymbolNode' ? fn.name! : fn.type;
      if (REFUSED_REASON[name]) problems.push(`calls ${name}, which is not allowed: ${REFUSED_REASON[name]}`);
      else if (!(EXPRESSION_FUNCTIONS as readonly string[]).includes(name)) problems.push(`calls ${name}, which is not an allowed function (allowed: ${EXPRESSION_FUNCTIONS.join(', ')})`);
      else if ((node.args ?? []).length !== 1 && name !== 'log') problems.push(`calls ${name} with ${(node.args ?? []).length} arguments; it takes one`);
    } else if (node.type === 'OperatorNode') {
      if (!OPERATORS.has(String(node.fn))) problems.push(`uses the operator ${node.op}, which is not allowed (+ - * / ^ only: comparisons make φ discontinuous)`);
    } else if (node.type === 'ConstantNode') {
      if (typeof node.value !== 'number' && !(typeof node.value === 'string' && Number.isFinite(Number(node.value)))) problems.push(`contains the constant ${JSON.stringify(node.value)}; only numbers are allowed`);
    } else if (node.type !== 'ParenthesisNode') {
      problems.push(`contains a ${node.type.replace(/Node$/, '').toLowerCase()} expression, which is not allowed`);
    }
  });
  if (problems.length === 0 && !usesX) problems.push('does not depend on x (a constant φ has no NTK and a degenerate NNGP)');
  return problems;
}

/** Grid on which φ and φ' must be finite, and φ' not identically 0. */
const CHECK_RANGE = 50;
const CHECK_STEP = 1 / 128;

/** A checked activation expression. */
export interface ActivationExpression {
  /** Canonical text (mathjs formatting of the parsed tree): the `activation` param value and part of the task id. */
  canonical: string;
  /** Canonical text of φ' (mathjs `derivative`). */
  derivative: string;
  phi: Scalar;
  dphi: Scalar;
}

/**
 * Parse, check, differentiate and compile an activation expression (module comment).
 * @returns the compiled expression, or the list of problems (each a phrase completing
 *   "activation expression '…' …").
 */
export function parseActivationExpression(text: string): ActivationExpression | { problems: string[] } {
  const math = mathjs();
  let root: MathNode;
  try {
    root = math.parse(text) as unknown as MathNode;
  } catch (err) {
    return { problems: [`cannot be parsed: ${(err as Error).message}`] };
  }
  const problems = treeProblems(root);
  if (problems.length) return { problems };
  let droot: MathNode;
  try {
    droot = math.derivative(root as never, 'x') as unknown as MathNode;
  } catch (err) {
    return { problems: [`cannot be differentiated by mathjs: ${(err as Error).message}`] };
  }
  let phi: Scalar;
  let dphi: Scalar;
  try {
    phi = compile(root);
    dphi = compile(droot);
  } catch (err) {
    return { problems: [`has a derivative (${droot.toString()}) that ${(err as Error).message}, which cannot be evaluated`] };
  }
  let moves = false;
  for (let x = -CHECK_RANGE; x <= CHECK_RANGE; x += CHECK_STEP) {
    const f = phi(x);
    const d = dphi(x);
    if (!Number.isFinite(f)) return { problems: [`is not finite at x = ${x} (φ(x) = ${f})`] };
    if (!Number.isFinite(d)) return { problems: [`has a derivative ${droot.toString()} that is not finite or not defined at x = ${x} (φ'(x) = ${d}); φ must be differentiable on the real line`] };
    if (d !== 0) moves = true;
  }
  if (!moves) return { problems: [`has a derivative that is 0 on [-${CHECK_RANGE}, ${CHECK_RANGE}] (no NTK)`] };
  return { canonical: root.toString(), derivative: droot.toString(), phi, dphi };
}

/** Whether an `activation` value is meant as an expression rather than a name (it mentions `x` or an operator). */
export function looksLikeExpression(value: string): boolean {
  return !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value) || value === 'x';
}
