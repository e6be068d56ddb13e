/**
 * Qualified names: the public address of a function, `<module>:<path>`. The rules are documented
 * for users in docs/qualified-names.md; this module holds the pieces that turn syntax into path
 * segments. The walk (walk/index.ts) decides which segment applies where.
 */
import { unwrapExpression, type AnyNode, type Computed, type MemberExpression, type Node } from "./ast.js";

/** The `value` of an identifier or literal node. */
function nodeValue(node: unknown): unknown {
  return (node as { value?: unknown }).value;
}

export const ANONYMOUS = "<anonymous>";
export const COMPUTED = "[computed]";

/**
 * The name V8 gives the function a path names, as far as the path tells (`Cart.total` → `total`,
 * `Cart.size@get` → `get size`, `It[Symbol.iterator]` → `[Symbol.iterator]`); "" for an anonymous
 * or computed one. A string key with a dot in it yields only its last part.
 */
export function functionNameOf(path: string): string {
  let p = path.replace(/~\d+$/, "");
  let accessor = "";
  if (p.endsWith("@get") || p.endsWith("@set")) {
    accessor = p.endsWith("@get") ? "get " : "set ";
    p = p.slice(0, -4);
  }
  const segment = p.endsWith("]") ? p.slice(p.lastIndexOf("[")) : p.slice(p.lastIndexOf(".") + 1);
  if (segment === ANONYMOUS || segment === COMPUTED) return "";
  return accessor + segment;
}

/** Appends a segment; `[Symbol.iterator]`-style segments attach without a dot. */
export function joinPath(prefix: string, segment: string): string {
  if (!prefix) return segment;
  return segment.startsWith("[") && segment !== COMPUTED ? prefix + segment : `${prefix}.${segment}`;
}

/** The segment of a property/method key: `name`, `#name`, `'literal'` → value, `[Symbol.x]`, `[computed]`. */
export function keySegment(key: Node): string {
  const k = key as AnyNode;
  switch (k.type) {
    case "Identifier":
      return String(nodeValue(k));
    case "PrivateName": {
      const value = k["value"] ?? nodeValue(k["id"]);
      return `#${String(value)}`;
    }
    case "StringLiteral":
    case "NumericLiteral":
      return String(nodeValue(k));
    case "BigIntLiteral":
      return String(nodeValue(k));
    case "Computed":
      return computedSegment((k as unknown as Computed).expression);
    default:
      return COMPUTED;
  }
}

function computedSegment(expression: Node): string {
  const e = unwrapExpression(expression) as AnyNode;
  if (e.type === "StringLiteral" || e.type === "NumericLiteral") return String(nodeValue(e));
  if (e.type === "TemplateLiteral") {
    const quasis = e["quasis"] as { cooked?: string | null; raw?: string }[] | undefined;
    const exprs = e["expressions"] as unknown[] | undefined;
    if (quasis?.length === 1 && exprs?.length === 0) return quasis[0]!.cooked ?? quasis[0]!.raw ?? COMPUTED;
  }
  if (e.type === "MemberExpression") {
    const m = e as unknown as MemberExpression;
    const object = m.object && (unwrapExpression(m.object) as AnyNode);
    if (object?.type === "Identifier" && nodeValue(object) === "Symbol" && m.property.type === "Identifier") {
      return `[Symbol.${String(nodeValue(m.property))}]`;
    }
  }
  return COMPUTED;
}

/** The last name of a callee (`a.b.map` → `map`), or undefined when it has none. */
export function calleeName(callee: Node): string | undefined {
  const c = unwrapExpression(callee) as AnyNode;
  switch (c.type) {
    case "Identifier":
      return String(nodeValue(c));
    case "Super":
      return "super";
    case "MemberExpression":
    case "SuperPropExpression": {
      const segment = keySegment((c as unknown as MemberExpression).property);
      return segment === COMPUTED ? undefined : segment;
    }
    case "OptionalChainingExpression":
      return calleeName(c["base"] as Node);
    default:
      return undefined;
  }
}

/**
 * The segment for a function assigned to `target`: `handler = …` → `handler`, `a.b.c = …` → `c`,
 * `exports.foo = …` → `foo`, `X.prototype.m = …` → `X.m`. Returns whether the target is
 * `this.<name>` (named under the class when assigned in a constructor).
 */
export function assignmentSegment(target: Node): { segment: string; onThis: boolean } | undefined {
  const t = unwrapExpression(target) as AnyNode;
  if (t.type === "Identifier") return { segment: String(nodeValue(t)), onThis: false };
  if (t.type !== "MemberExpression") return undefined;
  const m = t as unknown as MemberExpression;
  const segment = keySegment(m.property);
  const object = m.object && (unwrapExpression(m.object) as AnyNode);
  if (object?.type === "ThisExpression") return { segment, onThis: true };
  if (object?.type === "MemberExpression") {
    const inner = object as unknown as MemberExpression;
    const innerObject = inner.object && (unwrapExpression(inner.object) as AnyNode);
    if (keySegment(inner.property) === "prototype" && innerObject?.type === "Identifier") {
      return { segment: joinPath(String(nodeValue(innerObject)), segment), onThis: false };
    }
  }
  return { segment, onThis: false };
}

/**
 * Makes paths unique within a module: the second and later identical paths get `~2`, `~3`, in
 * source order, so a name only changes when a same-named function is added before it.
 */
export class PathRegistry {
  private readonly counts = new Map<string, number>();

  unique(path: string): string {
    const seen = this.counts.get(path) ?? 0;
    this.counts.set(path, seen + 1);
    return seen === 0 ? path : `${path}~${seen + 1}`;
  }
}
