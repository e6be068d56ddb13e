/**
 * Which local bindings a site may read. A site passes the values of the function's own bindings
 * in scope there, so every name listed must be initialised when the site runs: reading a
 * `let`/`const`/`class` in its temporal dead zone would throw where the original code did not.
 * The rules (docs/site-abi.md "Locals"): parameters and `var`s always; `let`/`const`/`using` only
 * when declared by an earlier statement of an enclosing block (never another `case`); catch
 * parameters and loop variables inside their statement. Functions and classes are never locals,
 * and a name whose innermost binding is one of those, or is not yet initialised, is left out.
 */
import { isNode, type AnyNode, type Node, type VariableDeclaration, type VariableDeclarator } from "./ast.js";

/** State of a name in one scope. */
export const Binding = {
  /** Initialised: may be read at the site. */
  Local: 0,
  /** Declared in this scope but possibly uninitialised here (TDZ); shadows outer bindings. */
  Uninitialised: 1,
  /** A function, class, enum or namespace: never a local; shadows outer bindings. */
  Hidden: 2,
} as const;
export type Binding = (typeof Binding)[keyof typeof Binding];

export class Scope {
  readonly names = new Map<string, Binding>();
  /** Bumped whenever a name is added or changes state (invalidates memoised locals). */
  version = 0;
  /** Memo of `localsAt` for the chain ending here: valid while parent result and version match. */
  memo: { parent: readonly string[]; version: number; result: string[] } | undefined = undefined;

  set(name: string, state: Binding): void {
    // Hidden wins: `var f; function f() {}` makes `f` a function.
    const current = this.names.get(name);
    if (current === Binding.Hidden || current === state) return;
    this.names.set(name, state);
    this.version++;
  }
}

/** The names bound by a binding pattern, in source order. */
export function boundNames(pattern: Node | null | undefined, out: string[] = []): string[] {
  if (!pattern) return out;
  const p = pattern as AnyNode;
  switch (p.type) {
    case "Identifier":
      out.push(String(p["value"]));
      break;
    case "AssignmentPattern":
      boundNames(p["left"] as Node, out);
      break;
    case "RestElement":
      boundNames(p["argument"] as Node, out);
      break;
    case "ArrayPattern":
      for (const element of (p["elements"] as (Node | null)[]) ?? []) boundNames(element, out);
      break;
    case "ObjectPattern":
      for (const property of (p["properties"] as AnyNode[]) ?? []) {
        if (property.type === "AssignmentPatternProperty") boundNames(property["key"] as Node, out);
        else if (property.type === "KeyValuePatternProperty") boundNames(property["value"] as Node, out);
        else boundNames(property, out);
      }
      break;
    case "TsParameterProperty":
      boundNames(p["param"] as Node, out);
      break;
    case "Parameter":
      boundNames(p["pat"] as Node, out);
      break;
    default:
      break;
  }
  return out;
}

function declarators(declaration: VariableDeclaration): VariableDeclarator[] {
  return declaration.declarations ?? declaration.decls ?? [];
}

/**
 * Adds the block-scoped names a statement declares in its own block: `let`/`const`/`using` as
 * Uninitialised (the caller marks them Local once the statement ran), functions/classes/enums as
 * Hidden.
 */
export function declareLexical(statement: Node, scope: Scope): void {
  const s = statement as AnyNode;
  switch (s.type) {
    case "VariableDeclaration":
    case "UsingDeclaration":
      if ((s as unknown as VariableDeclaration).kind === "var") return;
      for (const d of declarators(s as unknown as VariableDeclaration)) {
        for (const name of boundNames(d.id)) scope.set(name, Binding.Uninitialised);
      }
      return;
    case "FunctionDeclaration":
    case "ClassDeclaration":
    case "TsEnumDeclaration":
    case "TsModuleDeclaration": {
      const id = (s["identifier"] ?? s["id"]) as AnyNode | undefined;
      if (id?.type === "Identifier") scope.set(String(id["value"]), Binding.Hidden);
      return;
    }
    default:
      return;
  }
}

/** After a statement ran, its `let`/`const`/`using` names are initialised. */
export function markInitialised(statement: Node, scope: Scope): void {
  const s = statement as AnyNode;
  if ((s.type === "VariableDeclaration" && s["kind"] !== "var") || s.type === "UsingDeclaration") {
    for (const d of declarators(s as unknown as VariableDeclaration)) {
      for (const name of boundNames(d.id)) scope.set(name, Binding.Local);
    }
  }
}

/**
 * The function-level names of a body: `var`s anywhere in it (not in nested functions, class
 * bodies or static blocks) and, as Hidden, function declarations in nested blocks (sloppy-mode
 * Annex B also binds them at function level).
 */
export function collectVarScoped(statements: readonly Node[], vars: string[], nestedFunctions: string[]): void {
  for (const statement of statements) visitVarScoped(statement, vars, nestedFunctions, true);
}

const VAR_SCOPE_BARRIERS = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
  "ClassDeclaration",
  "ClassExpression",
  "ObjectExpression",
]);

function visitVarScoped(node: unknown, vars: string[], nestedFunctions: string[], topLevel: boolean): void {
  if (Array.isArray(node)) {
    for (const item of node) visitVarScoped(item, vars, nestedFunctions, false);
    return;
  }
  if (!isNode(node)) {
    if (typeof node === "object" && node !== null) {
      for (const value of Object.values(node)) visitVarScoped(value, vars, nestedFunctions, false);
    }
    return;
  }
  if (node.type === "VariableDeclaration" && node["kind"] === "var") {
    for (const d of declarators(node as unknown as VariableDeclaration)) boundNames(d.id, vars);
    // Initialisers may hold nested statements only inside functions, which are barriers.
    return;
  }
  if (node.type === "FunctionDeclaration") {
    if (!topLevel) nestedFunctions.push(String((node["identifier"] as AnyNode)["value"]));
    return;
  }
  if (VAR_SCOPE_BARRIERS.has(node.type)) return;
  // Only statements can contain `var`; expressions (except the barriers) cannot.
  for (const key in node) {
    if (key === "span" || key === "type") continue;
    const value = node[key];
    if (typeof value === "object" && value !== null) visitVarScoped(value, vars, nestedFunctions, false);
  }
}

/**
 * At most this many names per site. Bundles wrap a whole program in one function with thousands
 * of `var`s; passing all of them at every line would multiply the output size for nothing.
 */
export const MAX_LOCALS = 64;
const MAX_PARAMS_KEPT = 16;

/**
 * The locals at a site: scopes ordered outermost (the function scope) to innermost. A name is
 * decided by its innermost binding; the result lists names outermost first, each once. Over
 * MAX_LOCALS names, the first parameters and the most recently declared names are kept.
 *
 * Sites are many and scopes change rarely, so the list is built incrementally and memoised per
 * scope: a scope whose parent list and own names are unchanged returns its previous array. Sites
 * with the same locals therefore share one array, and a site costs O(scope depth), not O(names)
 * (bundle wrappers declare thousands of `var`s in one function).
 */
export function localsAt(scopes: readonly Scope[], paramCount = 0): string[] {
  let list: string[] = NO_LOCALS;
  for (const scope of scopes) list = scopeLocals(scope, list);
  if (list.length <= MAX_LOCALS) return list;
  let truncated = TRUNCATED.get(list);
  if (truncated === undefined || truncated.paramCount !== paramCount) {
    const head = Math.min(paramCount, MAX_PARAMS_KEPT);
    truncated = { paramCount, result: [...list.slice(0, head), ...list.slice(list.length - (MAX_LOCALS - head))] };
    TRUNCATED.set(list, truncated);
  }
  return truncated.result;
}

const NO_LOCALS: string[] = [];
const NAME_SETS = new WeakMap<readonly string[], Set<string>>();
const TRUNCATED = new WeakMap<readonly string[], { paramCount: number; result: string[] }>();

/** The locals of the chain ending at `scope`, given those of the chain above it. */
function scopeLocals(scope: Scope, parent: string[]): string[] {
  if (scope.names.size === 0) return parent;
  const memo = scope.memo;
  if (memo !== undefined && memo.parent === parent && memo.version === scope.version) return memo.result;
  // Names of this scope shadow outer ones, whatever their state here.
  const own: string[] = [];
  for (const [name, state] of scope.names) if (state === Binding.Local) own.push(name);
  let shadows = false;
  if (parent.length > 0) {
    const outer = namesOf(parent);
    for (const name of scope.names.keys()) if (outer.has(name)) shadows = true;
  }
  const result = shadows
    ? parent.filter((name) => !scope.names.has(name)).concat(own)
    : own.length > 0
      ? parent.concat(own)
      : parent;
  scope.memo = { parent, version: scope.version, result };
  return result;
}

function namesOf(list: readonly string[]): Set<string> {
  let set = NAME_SETS.get(list);
  if (set === undefined) NAME_SETS.set(list, (set = new Set(list)));
  return set;
}
