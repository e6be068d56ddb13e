/**
 * Outlining: which functions get their instrumented body as a separate copy (docs/site-abi.md,
 * "Outlined functions").
 *
 * Why: the untaken site code of a small function (its size is in docs/benchmarks.md) is what keeps V8 from
 * inlining it into its callers, whose budgets count bytecode (docs/benchmarks.md). An outlined
 * function keeps its plain body behind one guard, `if ($fnFlag) return $dgO3.call(this, a, b);`
 * (`$dgO3(this, a, b)` when the body never reads its `this`, model.ts OutlinedFunction
 * `receiver`), and the instrumented body goes into a copy, a method-keyed function `$dgO3` that the module's
 * binder creates at registration (header.ts binderOpenCode), which runs only while a probe is on
 * in that function.
 *
 * The copy is only correct where it sees exactly the bindings the original sees. So a function is
 * outlined only when:
 * - it stands in module scope: between it and the module there are only expressions, object
 *   literals and the bodies of class declarations (no block, loop, catch, switch, namespace or
 *   enclosing function, whose bindings a module-level copy could not see);
 * - it does not use what depends on the function itself: `arguments`, `eval`, `super`, `new.target`,
 *   private names (`#x` is only valid inside its class), the name of a named function expression,
 *   `yield`/`await`, and, for arrows, `this` (nested arrows share these with it; nested functions
 *   and class members have their own);
 * - it is neither async, a generator nor a constructor (their frames are not a single call), its
 *   parameters are distinct plain names (with defaults or a rest: the plain code evaluates those,
 *   the copy receives the values; the copy is a method, which may not repeat a parameter name),
 *   and its body is short (V8 inlines nothing longer anyway).
 *
 * Functions and classes defined inside an outlined function are copied with it: their code (and
 * their site code, with the same site ids) is in both bodies, so they behave the same whichever
 * body created them (each call creates them afresh either way). Only module-scoped functions are
 * outlined, so no code is copied more than once.
 */
import { forEachChild, type AnyNode, type Node } from "./ast.js";
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
 * The names the copy's parameters take and the arguments the guard forwards (`a`, `...rest`), and
 * whether the body reads its own `this` (never for an arrow that is outlined), or undefined when
 * the function is not outlined. `typed`: the output is TypeScript.
 */
export function outlineParams(
  c: OutlineCandidate,
  moduleScoped: ReadonlySet<Node>,
  bodyLength: number,
  typed = false,
  deferred = false,
): { params: string[]; forward: string[]; readsThis: boolean } | undefined {
  // Deferred copies cost the module no text, so any length is outlined (the plain body then
  // carries no site code at all).
  if (!moduleScoped.has(c.node) || c.async || c.generator || (!deferred && bodyLength > OUTLINE_MAX_BODY))
    return undefined;
  if (c.kind === "constructor" || c.kind === "field") return undefined;
  // TypeScript rejects the guard's `return …` in a setter whatever its types (typed.ts).
  if (typed && c.kind === "setter") return undefined;
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
    // `function f(a, a)` (sloppy mode): a method, which the copy is, may not repeat a name.
    if (params.includes(name) || params.includes(`...${name}`)) return undefined;
    params.push(rest ? `...${name}` : name);
    forward.push(rest ? `...${name}` : name);
  }
  const frame = frameUse(c, deferred);
  if (frame === undefined) return undefined;
  return { params, forward, readsThis: frame.readsThis };
}

/** Node types whose `this`, `arguments`, `super`, `new.target`, `yield` and `await` are their own. */
const OWN_FRAME = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ClassMethod",
  "PrivateMethod",
  "Constructor",
  "MethodProperty",
  "GetterProperty",
  "SetterProperty",
  "ClassProperty",
  "PrivateProperty",
  "AutoAccessor",
  "StaticBlock",
]);

/**
 * Nothing in the function depends on its own frame or on a binding the module-level copy cannot
 * see (module comment): undefined when something does; otherwise whether the function reads its
 * own `this`. Nested functions and classes are copied with it: inside a nested function or class
 * member `this`, `arguments`, `super` and `new.target` are its own (a method's computed key is
 * still evaluated in the outer frame); inside a nested arrow they are the outer function's.
 * `yield` and `await` belong to the innermost function of any kind. `deferred`: the copy is
 * evaluated by a direct `eval` (script code), where `import.meta` and `import()` do not work.
 *
 * `readsThis` decides whether the copy needs the original's `this` as its own receiver
 * (`$dgO3.call(this, a)`) or may take it as a plain argument (`$dgO3(this, a)`, for the probes
 * alone): nothing else can observe the receiver, since `arguments`, `eval` (a direct `eval` could
 * read `this` from a string), `super` and `new.target` already keep a function in place. A
 * decorator counts as a read wherever it stands: a class member's decorators are evaluated in the
 * frame around the class, not the member's own.
 */
function frameUse(c: OutlineCandidate, deferred: boolean): { readsThis: boolean } | undefined {
  let ok = true;
  let readsThis = false;
  /** `frame`: `this`/`arguments`/`super`/`new.target` are the outlined function's; `body`: `yield`/`await` are. */
  const visit = (node: AnyNode, frame: boolean, body: boolean): void => {
    if (!ok) return;
    switch (node.type) {
      case "PrivateName":
        // `#x` of an enclosing class is not valid outside it (and a nested class's own are rare).
        ok = false;
        return;
      case "Super":
        if (frame) ok = false;
        return;
      case "MetaProperty":
        if ((frame && node["kind"] !== "import.meta") || (deferred && node["kind"] === "import.meta")) ok = false;
        return;
      case "Import":
        // `import(…)`'s callee: an eval'd script has no module to resolve against.
        if (deferred) ok = false;
        return;
      case "ThisExpression":
        if (frame) readsThis = true;
        return;
      case "Decorator":
        readsThis = true;
        break;
      case "YieldExpression":
      case "AwaitExpression":
        if (body) {
          ok = false;
          return;
        }
        break;
      case "Identifier": {
        const name = node["value"];
        // A direct `eval` could reach `arguments` (or anything else of the frame) from a string.
        if ((frame && (name === "arguments" || name === "eval")) || (c.ownName !== undefined && name === c.ownName))
          ok = false;
        return;
      }
      case "ArrowFunctionExpression":
        forEachChild(node, (child) => visit(child, frame, false));
        return;
    }
    if (OWN_FRAME.has(node.type)) {
      // The key (`[expr]() {}`) is evaluated where the member is defined.
      const key = node["key"] as AnyNode | undefined;
      if (key) visit(key, frame, body);
      forEachChild(node, (child) => {
        if (child !== key) visit(child, false, false);
      });
      return;
    }
    forEachChild(node, (child) => visit(child, frame, body));
  };
  for (const param of c.params) visit(param as AnyNode, true, true);
  visit(c.body as AnyNode, true, true);
  // An arrow's copy is a method called without a receiver: it cannot see the arrow's lexical `this`.
  if (!ok || (c.arrow && readsThis)) return undefined;
  return { readsThis };
}
