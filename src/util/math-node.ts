/**
 * The part of a mathjs syntax-tree node that our expression checkers read (mathjs's own node
 * types are not exported in a form that narrows by `type`): derived params in the spec and
 * activation expressions both walk parsed trees through it.
 */
export interface MathNode {
  type: string;
  name?: string;
  fn?: unknown;
  op?: string;
  value?: unknown;
  args?: MathNode[];
  content?: MathNode;
  traverse(cb: (node: MathNode, path: string, parent: MathNode | null) => void): void;
  toString(): string;
}
