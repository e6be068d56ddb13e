/**
 * Outlining: which functions get their instrumented body as a separate copy (docs/site-abi.md,
 * "Outlined functions").
 *
 * Why: the untaken site code of a small function (≈100 bytes of bytecode) is what keeps V8 from
 * inlining it into its callers, whose budgets count bytecode (docs/benchmarks.md). An outlined
 * function keeps its plain body behind one guard, `if ($fnFlag) return $dgO3.call(this, a, b);`,
 * and the instrumented body goes into a module-level function declaration `$dgO3` appended to the
 * module, which runs only while a probe is on in that function.
 *
 * The copy is only correct where it sees exactly the bindings the original sees. So a function is
 * outlined only when:
 * - it stands in module scope: between it and the module there are only expressions, object
 *   literals and the bodies of class declarations (no block, loop, catch, switch, namespace or
 *   enclosing function, whose bindings a module-level copy could not see);
 * - it is a leaf: it defines no function or class (copying those would duplicate their sites and
 *   grow code size with nesting depth);
 * - it does not use what depends on the function itself: `arguments`, `super`, `new.target`,
 *   private names (`#x` is only valid inside its class), the name of a named function expression,
 *   `yield`/`await`, and, for arrows, `this`;
 * - it is neither async, a generator nor a constructor (their frames are not a single call), its
 *   parameters are plain names (with defaults or a rest: the plain code evaluates those, the copy
 *   receives the values), and its body is short (V8 inlines nothing longer anyway).
 */
import type { AnyNode, Node } from "./ast.js";
import type { FunctionKind } from "./model.js";

/** Longest body (UTF-16 units of source) that is outlined: about V8's 460-byte inlining limit. */
export const OUTLINE_MAX_BODY = 1200;

const FUNCTION_NODES = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
  "ClassMethod",
  "PrivateMethod",
  "Constructor",
  "MethodProperty",
  "GetterProperty",
  "SetterProperty",
]);

/** Nodes whose bindings a module-level copy would not see: nothing inside them is outlined. */
const SCOPE_NODES = new Set([
  "BlockStatement",
  "ForStatement",
  "ForInStatement",
  "ForOfStatement",
  "CatchClause",
  "SwitchStatement",
  "WithStatement",
  "TsModuleDeclaration",
  "StaticBlock",
  // A field initializer runs as a method of the instance.
  "ClassProperty",
  "PrivateProperty",
  "AutoAccessor",
]);

/** Fields holding types only. */
const TYPE_KEYS = new Set(["span", "ctxt", "typeAnnotation", "typeParameters", "typeParams", "returnType", "superTypeParams", "typeArguments", "implements"]);

function isNodeLike(value: unknown): value is AnyNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

function forEachChild(node: AnyNode | Record<string, unknown>, visit: (child: AnyNode) => void): void {
  for (const key in node) {
    if (TYPE_KEYS.has(key)) continue;
    const value = (node as Record<string, unknown>)[key];
    if (typeof value !== "object" || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (isNodeLike(item)) visit(item);
        else if (typeof item === "object" && item !== null) forEachChild(item as Record<string, unknown>, visit);
      }
    } else if (isNodeLike(value)) {
      visit(value);
    } else {
      forEachChild(value as Record<string, unknown>, visit);
    }
  }
}

/** The function nodes of a program that stand in module scope (see the module comment). */
export function moduleScopedFunctions(program: Node): Set<Node> {
  const found = new Set<Node>();
  const visit = (node: AnyNode, parent: AnyNode | null): void => {
    if (FUNCTION_NODES.has(node.type)) {
      found.add(node as Node);
      return;
    }
    if (SCOPE_NODES.has(node.type)) return;
    // A named class expression binds its name inside (unless it is `export default class X`,
    // whose name is a module binding).
    if (node.type === "ClassExpression" && node["identifier"] && parent?.type !== "ExportDefaultDeclaration") return;
    forEachChild(node, (child) => visit(child, node));
  };
  visit(program as AnyNode, null);
  return found;
}

/** What the walk knows of a function (walk/state.ts FunctionSyntax, trimmed). */
export interface OutlineCandidate {
  node: Node;
  kind: FunctionKind;
  params: readonly Node[];
  body: Node;
  async: boolean;
  generator: boolean;
  /** The function is an arrow (lexical `this`). */
  arrow: boolean;
  /** The name a named function expression binds in its own scope, if any. */
  ownName: string | undefined;
}

/**
 * The names the copy's parameters take and the arguments the guard forwards (`a`, `...rest`), or
 * undefined when the function is not outlined.
 */
export function outlineParams(c: OutlineCandidate, moduleScoped: ReadonlySet<Node>, bodyLength: number): { params: string[]; forward: string[] } | undefined {
  if (!moduleScoped.has(c.node) || c.async || c.generator || bodyLength > OUTLINE_MAX_BODY) return undefined;
  if (c.kind === "constructor" || c.kind === "field") return undefined;
  const params: string[] = [];
  const forward: string[] = [];
  for (const param of c.params) {
    let p = param as AnyNode;
    if (p.type === "Parameter") {
      if (Array.isArray(p["decorators"]) && (p["decorators"] as unknown[]).length > 0) return undefined;
      p = p["pat"] as AnyNode;
    }
    if (p.type === "AssignmentPattern") p = p["left"] as AnyNode;
    const rest = p.type === "RestElement";
    if (rest) p = p["argument"] as AnyNode;
    if (p.type !== "Identifier") return undefined;
    const name = String(p["value"]);
    params.push(rest ? `...${name}` : name);
    forward.push(rest ? `...${name}` : name);
  }
  if (!isLeaf(c)) return undefined;
  return { params, forward };
}

/** No nested function or class, nothing that depends on the function's own frame (module comment). */
function isLeaf(c: OutlineCandidate): boolean {
  let leaf = true;
  const visit = (node: AnyNode): void => {
    if (!leaf) return;
    switch (node.type) {
      case "FunctionDeclaration":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
      // Object literal methods and accessors are functions with sites of their own too.
      case "MethodProperty":
      case "GetterProperty":
      case "SetterProperty":
      case "ClassDeclaration":
      case "ClassExpression":
      case "Super":
      case "PrivateName":
      case "YieldExpression":
      case "AwaitExpression":
        leaf = false;
        return;
      case "MetaProperty":
        if (node["kind"] !== "import.meta") leaf = false;
        return;
      case "ThisExpression":
        if (c.arrow) leaf = false;
        return;
      case "Identifier": {
        const name = node["value"];
        if (name === "arguments" || (c.ownName !== undefined && name === c.ownName)) leaf = false;
        return;
      }
    }
    forEachChild(node, visit);
  };
  for (const param of c.params) visit(param as AnyNode);
  visit(c.body as AnyNode);
  return leaf;
}
