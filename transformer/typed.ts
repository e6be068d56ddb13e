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
  /**
   * Outlined: whether the copy can be typed as the original. When not, typed output does not
   * outline the function (its instrumented body stays in place, checked where it stands).
   */
  typable: boolean;
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
  // `this:` declares a function type's `this` parameter, which is not the polymorphic type.
  return /\bthis\b(?!\s*:)/.test(type) ? "any" : type;
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
    return {
      name,
      text: `${p["const"] ? "const " : ""}${name}${constraint ? ` extends ${text(constraint)}` : ""}${fallback ? ` = ${text(fallback)}` : ""}`,
    };
  });
}

/** A named class whose members are walked: what a member's copy needs to type `this`. */
export interface ClassOwner {
  name: string;
  /** Names of its `private`/`protected` members (constructor parameter properties included). */
  hidden: string[];
}

function classThisType(
  owner: ClassOwner,
  options: { isStatic: boolean; classTypeParams: readonly TypeParam[] },
): string {
  if (options.isStatic) return `typeof ${owner.name}`;
  return options.classTypeParams.length === 0
    ? owner.name
    : `${owner.name}<${options.classTypeParams.map((p) => p.name).join(", ")}>`;
}

/** The `private`/`protected` member names of a class body (SWC members). */
export function hiddenMembers(body: readonly AnyNode[]): string[] {
  const names: string[] = [];
  const add = (key: AnyNode | undefined) => {
    if (key && (key.type === "Identifier" || key.type === "StringLiteral")) names.push(String(key["value"]));
  };
  for (const member of body) {
    const access = member["accessibility"];
    if (access === "private" || access === "protected") add(member["key"] as AnyNode | undefined);
    if (member.type === "Constructor") {
      for (const param of (member["params"] as AnyNode[] | undefined) ?? []) {
        if (
          param.type !== "TsParameterProperty" ||
          (param["accessibility"] !== "private" && param["accessibility"] !== "protected")
        )
          continue;
        let p = param["param"] as AnyNode;
        if (p.type === "AssignmentPattern") p = p["left"] as AnyNode;
        add(p);
      }
    }
  }
  return names;
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

/**
 * Whether a copy could be typed as its original: every parameter annotated (an unannotated one
 * takes its type from the context the original stands in, which the copy does not have) and, for
 * a class member, a `this` the copy can name (typed.ts `functionTypes`).
 */
function annotated(params: readonly Node[]): boolean {
  return params.every((param) => {
    let p = param as AnyNode;
    if (p.type === "Parameter") p = p["pat"] as AnyNode;
    if (p.type === "RestElement")
      return (
        annotationOf(p, (n) => String(n.type)) !== null ||
        annotationOf(p["argument"] as AnyNode, (n) => String(n.type)) !== null
      );
    if (p.type === "AssignmentPattern") return annotationOf(p["left"] as AnyNode, (n) => String(n.type)) !== null;
    return annotationOf(p, (n) => String(n.type)) !== null;
  });
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
  options: {
    async: boolean;
    generator: boolean;
    arrow: boolean;
    outlined: boolean;
    isStatic: boolean;
    classTypeParams: readonly TypeParam[];
    owner: ClassOwner | null;
  },
  text: SourceText,
  code: string,
  index: (swcPos: number) => number,
): FunctionTypes {
  const returned = resultType(node, options.async, options.generator, text);
  // An outlined function's body is in its copy, outside the class.
  const result = returned !== null && options.outlined ? outsideClass(returned) : returned;
  const part = functionPart(node);
  let thisParamAt = -1;
  if (
    !options.arrow &&
    !part["thisParam"] &&
    (node.type === "FunctionDeclaration" || node.type === "FunctionExpression")
  ) {
    // The parameter list's `(`: after the type parameters, else after the name, else after `function`.
    const after = (part["typeParameters"] ?? node["identifier"]) as AnyNode | null | undefined;
    const from = after ? index(after.span.end) : index(node.span.start);
    const open = code.indexOf("(", from);
    if (open >= 0) thisParamAt = open + 1;
  }
  if (!options.outlined) return { result, copy: null, thisParamAt, hasParams: params.length > 0, typable: true };
  const own = typeParams(part["typeParameters"] as AnyNode | null | undefined, text);
  const memberText = text(node);
  const owner = options.owner;
  // A member's copy takes its class as `this` unless its body names a member TypeScript keeps
  // private to the class (the copy is outside it): then `any`.
  const classThis = owner !== null && !owner.hidden.some((name) => mentions(memberText, name));
  const inherited =
    classThis && !options.isStatic
      ? options.classTypeParams.slice()
      : usedTypeParams(options.classTypeParams, memberText);
  // A class's defaults go: its parameters come first, and a required one may not follow them.
  const declared = [...inherited.map((p) => p.text.replace(/ = [\s\S]*$/, "")), ...own.map((p) => p.text)].join(", ");
  const thisParam = part["thisParam"] as AnyNode | null | undefined;
  const declaredThis = thisParam ? annotationOf(thisParam, text) : null;
  const copy = {
    typeParams: declared,
    thisType: options.arrow
      ? ""
      : declaredThis !== null
        ? outsideClass(declaredThis)
        : classThis
          ? classThisType(owner!, options)
          : "any",
    params: copyParams(params, text),
  };
  const member = node.type === "ClassMethod" || node.type === "PrivateMethod";
  const typable = annotated(params) && (!member || options.arrow || declaredThis !== null || classThis);
  return { result, copy, thisParamAt, hasParams: params.length > 0, typable };
}
