/**
 * Type annotations for TypeScript output (docs/instrument.md, "Type-checking instrumented
 * sources"). `instrument()` of a `.ts`/`.tsx`/`.mts`/`.cts` file annotates everything it adds, so
 * the output type-checks wherever the original did under the strictest settings. Every annotation
 * is type-only syntax that type stripping removes without a trace: the JavaScript is the same as
 * for untyped output (same code, same sites, same lines).
 *
 * What the annotations read from the original, per instrumented function (`FunctionTypes`):
 * - the return type, so `$dgr = expr` checks and contextually types `expr` as `return expr` did;
 * - for an outlined function, its own and its class's type parameters and its parameter types,
 *   copied onto the module-level copy (whose body still names them);
 * - for a plain function (declaration or expression) without a `this` parameter, the offset where
 *   `this: any` goes: its entry code (and an outlined guard, `$dgO3.call(this, …)`) passes `this`,
 *   which `noImplicitThis` rejects unannotated.
 */
import type { AnyNode, Node } from "./ast.js";

/** What the typed output needs of one function; all text is TypeScript type syntax. */
export interface FunctionTypes {
  /** The annotation of the body's `$dgr` (the declared return type, adapted), or null: inferred. */
  result: string | null;
  /** Outlined functions: the copy's signature; null otherwise. */
  copy: CopySignature | null;
  /** Where `this: any` goes into the original's parameter list (after its `(`), or -1. */
  thisParamAt: number;
  /** Whether the original already has parameters after that `(` (the insertion adds ", "). */
  hasParams: boolean;
}

/** The copy's type parameters (without `<>`, "" for none), `this` type and typed parameters. */
export interface CopySignature {
  typeParams: string;
  thisType: string;
  params: string[];
}

/** UTF-16 text of an SWC node (`index` converts SWC byte positions). */
export type SourceText = (node: AnyNode) => string;

/** The polymorphic `this` type means nothing outside the class: such annotations become `any`. */
function outsideClass(type: string): string {
  return /\bthis\b/.test(type) ? "any" : type;
}

function annotationOf(node: AnyNode | null | undefined, text: SourceText): string | null {
  const annotation = node?.["typeAnnotation"] as AnyNode | null | undefined;
  const type = annotation?.["typeAnnotation"] as AnyNode | null | undefined;
  return type ? text(type) : null;
}

/** The node holding `params`, `typeParameters`, `returnType` and `thisParam` of a function node. */
function functionPart(node: AnyNode): AnyNode {
  return node.type === "ClassMethod" || node.type === "PrivateMethod" ? (node["function"] as AnyNode) : node;
}

/**
 * The type parameters of a declaration as a function may declare them: variance modifiers
 * (`in`/`out`, only valid on classes and type aliases) dropped, `const` kept.
 */
export function typeParams(declaration: AnyNode | null | undefined, text: SourceText): TypeParam[] {
  const params = declaration?.["parameters"] as AnyNode[] | undefined;
  if (!params) return [];
  return params.map((p) => {
    const constraint = p["constraint"] as AnyNode | null | undefined;
    const fallback = p["default"] as AnyNode | null | undefined;
    const name = text(p["name"] as AnyNode);
    return { name, text: `${p["const"] ? "const " : ""}${name}${constraint ? ` extends ${text(constraint)}` : ""}${fallback ? ` = ${text(fallback)}` : ""}` };
  });
}

/** A type parameter: its name and its declaration as a function may write it. */
export interface TypeParam {
  name: string;
  text: string;
}

function mentions(text: string, name: string): boolean {
  return new RegExp(`(^|[^\\w$])${name.replace(/\$/g, "\\$")}($|[^\\w$])`).test(text);
}

/**
 * The class's type parameters a member's copy declares: those its text names, and those the
 * kept ones' constraints name (an unused one would trip `noUnusedParameters`).
 */
function usedTypeParams(params: readonly TypeParam[], memberText: string): TypeParam[] {
  const kept = new Set<TypeParam>();
  let text = memberText;
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of params) {
      if (!kept.has(p) && mentions(text, p.name)) {
        kept.add(p);
        text += ` ${p.text}`;
        grew = true;
      }
    }
  }
  return params.filter((p) => kept.has(p));
}

/** The `$dgr` annotation from the declared return type (null: none, or not usable). */
function resultType(node: AnyNode, async: boolean, generator: boolean, text: SourceText): string | null {
  if (generator || node.type === "Constructor" || node.type === "SetterProperty") return null;
  const part = functionPart(node);
  const holder = node.type === "GetterProperty" ? node["typeAnnotation"] : part["returnType"];
  const type = (holder as AnyNode | null | undefined)?.["typeAnnotation"] as AnyNode | null | undefined;
  if (!type) return null;
  let declared: string;
  // `x is T` returns a boolean; `asserts x` returns nothing.
  if (type.type === "TsTypePredicate") declared = type["asserts"] ? "void" : "boolean";
  else declared = text(type);
  // An async function returns the awaited value or a promise of it.
  return async ? `Awaited<${declared}> | ${declared}` : declared;
}

function copyParams(params: readonly Node[], text: SourceText): string[] {
  return params.map((param) => {
    let p = param as AnyNode;
    if (p.type === "Parameter") p = p["pat"] as AnyNode;
    if (p.type === "RestElement") {
      const argument = p["argument"] as AnyNode;
      const type = annotationOf(p, text) ?? annotationOf(argument, text);
      return `...${String(argument["value"])}: ${type === null ? "any[]" : outsideClass(type)}`;
    }
    if (p.type === "AssignmentPattern") {
      // The plain code evaluated the default: the copy receives a value.
      const left = p["left"] as AnyNode;
      const type = annotationOf(left, text);
      return `${String(left["value"])}: ${type === null ? "any" : outsideClass(type)}`;
    }
    const type = annotationOf(p, text);
    return `${String(p["value"])}${p["optional"] ? "?" : ""}: ${type === null ? "any" : outsideClass(type)}`;
  });
}

/**
 * The types of a function. `outlined`: it gets a copy; `classTypeParams`: the type parameters of
 * the class it is a member of, which its copy declares too (those it uses).
 */
export function functionTypes(
  node: AnyNode,
  params: readonly Node[],
  options: { async: boolean; generator: boolean; arrow: boolean; outlined: boolean; classTypeParams: readonly TypeParam[] },
  text: SourceText,
  code: string,
  index: (swcPos: number) => number,
): FunctionTypes {
  const returned = resultType(node, options.async, options.generator, text);
  // An outlined function's body is in its copy, outside the class.
  const result = returned !== null && options.outlined ? outsideClass(returned) : returned;
  const part = functionPart(node);
  let thisParamAt = -1;
  if (!options.arrow && !part["thisParam"] && (node.type === "FunctionDeclaration" || node.type === "FunctionExpression")) {
    // The parameter list's `(`: after the type parameters, else after the name, else after `function`.
    const after = (part["typeParameters"] ?? node["identifier"]) as AnyNode | null | undefined;
    const from = after ? index(after.span.end) : index(node.span.start);
    const open = code.indexOf("(", from);
    if (open >= 0) thisParamAt = open + 1;
  }
  if (!options.outlined) return { result, copy: null, thisParamAt, hasParams: params.length > 0 };
  const own = typeParams(part["typeParameters"] as AnyNode | null | undefined, text);
  const inherited = usedTypeParams(options.classTypeParams, text(node));
  const declared = [...inherited, ...own].map((p) => p.text).join(", ");
  const thisParam = part["thisParam"] as AnyNode | null | undefined;
  const declaredThis = thisParam ? annotationOf(thisParam, text) : null;
  const copy = { typeParams: declared, thisType: options.arrow ? "" : declaredThis === null ? "any" : outsideClass(declaredThis), params: copyParams(params, text) };
  return { result, copy, thisParamAt, hasParams: params.length > 0 };
}
