/**
 * The parts of the SWC AST the transformer reads, typed as @swc/core 1.16 actually emits them
 * (its published `@swc/types` differ in places: bodies are `FunctionBody`, getters carry a
 * `function`, `PrivateName` has `value`, call arguments are `{ spread, expression }`).
 * Every other node is walked generically.
 */

export interface Span {
  start: number;
  end: number;
}

export interface Node {
  type: string;
  span: Span;
}

/** A node seen through the generic walker: any fields. */
export type AnyNode = Node & { readonly [key: string]: unknown };

export interface Identifier extends Node {
  type: "Identifier";
  value: string;
}

export interface Block extends Node {
  /** "BlockStatement" or "FunctionBody". */
  stmts: Node[];
}

export interface Param extends Node {
  type: "Parameter";
  pat: Node;
  decorators?: Node[] | null;
}

export interface TsParameterProperty extends Node {
  type: "TsParameterProperty";
  param: Node;
  decorators?: Node[] | null;
}

/** The shared shape of function declarations/expressions, method functions and getters. */
export interface Fn extends Node {
  params: Node[];
  decorators?: Node[] | null;
  body?: Block | null;
  generator: boolean;
  async: boolean;
}

export interface FunctionDeclaration extends Fn {
  type: "FunctionDeclaration";
  identifier: Identifier;
  declare: boolean;
}

export interface FunctionExpression extends Fn {
  type: "FunctionExpression";
  identifier?: Identifier | null;
}

export interface ArrowFunctionExpression extends Node {
  type: "ArrowFunctionExpression";
  params: Node[];
  body: Node;
  async: boolean;
  generator: boolean;
}

export interface ClassLike extends Node {
  type: "ClassDeclaration" | "ClassExpression";
  identifier?: Identifier | null;
  declare?: boolean;
  body: Node[];
  superClass?: Node | null;
  decorators?: Node[] | null;
}

export interface ClassMethod extends Node {
  type: "ClassMethod" | "PrivateMethod";
  key: Node;
  function: Fn;
  kind: "method" | "getter" | "setter";
  isStatic: boolean;
}

export interface Constructor extends Node {
  type: "Constructor";
  key: Node;
  params: Node[];
  body?: Block | null;
}

export interface ClassProperty extends Node {
  type: "ClassProperty" | "PrivateProperty" | "AutoAccessor";
  key: Node;
  value?: Node | null;
  isStatic: boolean;
  declare?: boolean;
  decorators?: Node[] | null;
}

export interface StaticBlock extends Node {
  type: "StaticBlock";
  body: Block;
}

export interface ObjectExpression extends Node {
  type: "ObjectExpression";
  properties: Node[];
}

/** `KeyValueProperty` has no span of its own; its key's span stands in. */
export interface KeyValueProperty {
  type: "KeyValueProperty";
  key: Node;
  value: Node;
}

export interface MethodProperty extends Fn {
  type: "MethodProperty";
  key: Node;
}

export interface AccessorProperty extends Node {
  type: "GetterProperty" | "SetterProperty";
  key: Node;
  function: Fn;
}

export interface StringLike extends Node {
  value: string | number;
}

export interface Computed extends Node {
  type: "Computed";
  expression: Node;
}

export interface MemberExpression extends Node {
  type: "MemberExpression" | "SuperPropExpression";
  object?: Node;
  property: Node;
}

export interface CallExpression extends Node {
  type: "CallExpression" | "NewExpression";
  callee: Node;
  arguments?: { spread?: unknown; expression: Node }[] | null;
}

export interface AssignmentExpression extends Node {
  type: "AssignmentExpression";
  operator: string;
  left: Node;
  right: Node;
}

export interface VariableDeclaration extends Node {
  type: "VariableDeclaration" | "UsingDeclaration";
  kind?: "var" | "let" | "const";
  declare?: boolean;
  declarations?: VariableDeclarator[];
  /** `UsingDeclaration` */
  decls?: VariableDeclarator[];
}

export interface VariableDeclarator extends Node {
  id: Node;
  init?: Node | null;
}

export interface ReturnStatement extends Node {
  type: "ReturnStatement";
  argument?: Node | null;
}

export interface ExpressionStatement extends Node {
  type: "ExpressionStatement";
  expression: Node;
}

export interface IfStatement extends Node {
  type: "IfStatement";
  test: Node;
  consequent: Node;
  alternate?: Node | null;
}

export interface LoopStatement extends Node {
  type: "ForStatement" | "ForInStatement" | "ForOfStatement" | "WhileStatement" | "DoWhileStatement";
  init?: Node | null;
  left?: Node;
  right?: Node;
  test?: Node | null;
  update?: Node | null;
  body: Node;
}

export interface LabeledStatement extends Node {
  type: "LabeledStatement";
  body: Node;
}

export interface SwitchStatement extends Node {
  type: "SwitchStatement";
  discriminant: Node;
  cases: { test?: Node | null; consequent: Node[] }[];
}

export interface TryStatement extends Node {
  type: "TryStatement";
  block: Block;
  handler?: { param?: Node | null; body: Block } | null;
  finalizer?: Block | null;
}

export interface WithStatement extends Node {
  type: "WithStatement";
  object: Node;
  body: Node;
}

/** Program: `Module` or `Script`. */
export interface Program extends Node {
  body: Node[];
}

export function isNode(value: unknown): value is AnyNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

/** Fields holding types only: walks over values never enter them. */
const TYPE_KEYS = new Set([
  "span",
  "type",
  "typeAnnotation",
  "typeParameters",
  "typeParams",
  "returnType",
  "superTypeParams",
  "typeArguments",
  "implements",
  "ctxt",
]);

/**
 * Calls `visit` for every child node of `node` in field order (SWC emits fields in source order),
 * looking through arrays and the plain objects SWC wraps some nodes in (`{ spread, expression }`).
 */
export function forEachChild(node: AnyNode | Record<string, unknown>, visit: (child: AnyNode) => void): void {
  for (const key in node) {
    if (TYPE_KEYS.has(key)) continue;
    const value = (node as Record<string, unknown>)[key];
    if (typeof value !== "object" || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      if (isNode(item)) visit(item);
      else if (typeof item === "object" && item !== null) forEachChild(item as Record<string, unknown>, visit);
    }
  }
}

/** Unwraps parentheses and TypeScript-only wrappers (`as`, `satisfies`, `!`, `<T>x`). */
export function unwrapExpression(node: Node): Node {
  let n = node as AnyNode;
  while (
    n.type === "ParenthesisExpression" ||
    n.type === "TsAsExpression" ||
    n.type === "TsSatisfiesExpression" ||
    n.type === "TsNonNullExpression" ||
    n.type === "TsTypeAssertion" ||
    n.type === "TsConstAssertion" ||
    n.type === "TsInstantiation"
  ) {
    n = n["expression"] as AnyNode;
  }
  return n;
}
