/**
 * The exact code at each site (docs/site-abi.md, "Code at each site"). Pure functions of the
 * module's names (`Analysis.names`) and site data, shared by the SWC path (edit.ts) and the
 * ts-patch adapter, so both emit byte-identical sites.
 *
 * Why this shape (see docs/site-abi.md and ../shared/ANCHORS.md): the guard is a global variable
 * read as a plain identifier, which V8 constant-folds while nobody wrote it; everything else
 * (argument arrays, locals arrays, the hook call) sits inside the untaken branch, so a site that
 * is off allocates nothing and calls nothing.
 */
import { flagName, handleName, hookName, identityName } from "../abi/index.js";
import { FRAME_TYPE } from "./header.js";
import type { OutlinedFunction } from "./model.js";

/**
 * The names a module's site code uses: the hash (flags are `$dg_<hash>_<id>`) and the module
 * handle, the prefix of the hook bindings (`$dgE`… in ESM/CJS output, `$dg_<hash>E`… in classic
 * scripts; see `Analysis.names`).
 * Every builder below also accepts a bare hash, which means the hash-qualified handle; that form
 * is valid in every format as long as the header is written with the same handle.
 */
export interface ModuleNames {
  hash: string;
  handle: string;
}

/** `ModuleNames` of a bare hash: the hash-qualified handle. */
export function namesOf(module: string | ModuleNames): ModuleNames {
  return typeof module === "string" ? { hash: module, handle: handleName(module) } : module;
}

/** The per-function facts the entry code needs. */
export interface EntryCodeInput {
  siteId: number;
  /** `"this"`, or `"void 0"` for arrows and derived-class constructors. */
  thisExpression: string;
  /** One expression per parameter: `a`, `rest`, `{x, y}` for a destructuring pattern. */
  args: readonly string[];
  /** Per parameter: the name to assign a replacement to, or null (destructuring: not replaceable). */
  replaceable: readonly (string | null)[];
  async: boolean;
}

/** Local variable names the instrumented code declares in each function. */
export const FRAME_VAR = "$dgf";
export const RESULT_VAR = "$dgr";
export const ERROR_VAR = "$dge";

/** Trailing call arguments: `, a, b` (hooks take arguments and locals as rest parameters). */
function list(names: readonly string[], typed = false): string {
  let out = "";
  // Typed: a local may be read before TypeScript sees it assigned (`let x: T;` then a line site).
  for (const name of names) out += typed ? `, ${name}!` : `, ${name}`;
  return out;
}

/**
 * `var $dgf, $dgr; try {` — goes after the directive prologue of every instrumented body.
 * `typed`: TypeScript output; `result` is the annotation of `$dgr` (the declared return type, so
 * `$dgr = expr` checks `expr` as `return expr` did), null to let its type follow assignments.
 */
export function bodyOpenCode(typed?: { result: string | null }): string {
  if (!typed) return `var ${FRAME_VAR}, ${RESULT_VAR}; try { `;
  return `var ${FRAME_VAR}: ${FRAME_TYPE} | undefined, ${RESULT_VAR}${typed.result === null ? "" : `: ${typed.result}`}; try { `;
}

/** The entry site: calls `e` with `this` and the arguments; applies replaced arguments. */
export function entryCode(module: string | ModuleNames, input: EntryCodeInput): string {
  const { hash, handle } = namesOf(module);
  const g = flagName(hash, input.siteId);
  const call = `${hookName(handle, "e")}(${input.siteId}, ${input.thisExpression}${list(input.args)})`;
  const assignments: string[] = [];
  input.replaceable.forEach((name, i) => {
    if (name !== null) assignments.push(`${name} = ${FRAME_VAR}.a[${i}]`);
  });
  if (!input.async) {
    if (assignments.length === 0) return `if (${g}) ${FRAME_VAR} = ${call};`;
    return `if (${g} && (${FRAME_VAR} = ${call}).a) ${assignments.join(", ")};`;
  }
  // Async: the frame may ask the call to wait (pause) before the body goes on.
  const replace =
    assignments.length === 0 ? `${FRAME_VAR} = ${call};` : `if ((${FRAME_VAR} = ${call}).a) ${assignments.join(", ")};`;
  return `if (${g}) { ${replace} if (${FRAME_VAR} && ${FRAME_VAR}.w) await ${FRAME_VAR}.w; }`;
}

/** A line site; in async functions the hook may return a promise to wait for. */
export function lineCode(
  module: string | ModuleNames,
  siteId: number,
  locals: readonly string[],
  async: boolean,
  typed = false,
): string {
  const { hash, handle } = namesOf(module);
  const g = flagName(hash, siteId);
  const call = `${hookName(handle, "l")}(${siteId}, ${FRAME_VAR}${list(locals, typed)})`;
  if (async) return `if (${g} && (${RESULT_VAR} = ${call})) await ${RESULT_VAR};`;
  return `if (${g}) ${call};`;
}

/**
 * `return expr;` becomes `return <returnOpen>expr<returnClose>;`. `anonymous`: `expr` is (through
 * parentheses) an anonymous function, arrow or class expression. `$dgr = expr` would name it
 * "$dgr" (NamedEvaluation), and even `$dgr = (0, expr)` makes V8 infer "$dgr" as the name its
 * stack traces show (`at $dgr (file:line)`); passing it through the module's identity function,
 * `$dgr = $dgI(expr)`, does neither (a call argument gets no inferred name).
 */
export function returnOpenCode(module: string | ModuleNames, sequence: boolean, anonymous = false): string {
  // A bare sequence `return a, b` would otherwise assign only `a`.
  if (sequence) return `(${RESULT_VAR} = (`;
  return anonymous ? `(${RESULT_VAR} = ${identityName(namesOf(module).handle)}(` : `(${RESULT_VAR} = `;
}

export function returnCloseCode(
  module: string | ModuleNames,
  siteId: number,
  locals: readonly string[],
  sequence: boolean,
  anonymous = false,
  typed = false,
): string {
  const { hash, handle } = namesOf(module);
  const g = flagName(hash, siteId);
  return `${sequence || anonymous ? ")" : ""}, ${g} ? ${hookName(handle, "x")}(${siteId}, ${FRAME_VAR}, ${RESULT_VAR}${list(locals, typed)}) : ${RESULT_VAR})`;
}

/** Inserted right after the `return` keyword of `return;`. */
export function returnVoidCode(
  module: string | ModuleNames,
  siteId: number,
  locals: readonly string[],
  typed = false,
): string {
  const { hash, handle } = namesOf(module);
  const g = flagName(hash, siteId);
  return ` ${g} ? ${hookName(handle, "x")}(${siteId}, ${FRAME_VAR}, void 0${list(locals, typed)}) : void 0`;
}

/**
 * The last statement of a body: falling off the end. `typed`: TypeScript output, where the
 * `undefined` is typed `never`: the statement may stand where the checker knows the end is not
 * reached (after an exhaustive `switch`), in a function whose return type excludes `undefined`.
 */
export function endCode(
  module: string | ModuleNames,
  siteId: number,
  locals: readonly string[],
  typed: boolean | "setter" = false,
): string {
  const { hash, handle } = namesOf(module);
  const call = `${hookName(handle, "x")}(${siteId}, ${FRAME_VAR}, void 0${typed ? " as never" : ""}${list(locals, typed !== false)})`;
  // A setter's return value is dropped by the language, and TypeScript rejects `return <value>` in one.
  if (typed === "setter") return `if (${flagName(hash, siteId)}) ${call};`;
  return `if (${flagName(hash, siteId)}) return ${call};`;
}

/** Closes the body's `try` (before the body's closing brace): the end site and the throw site. */
export function bodyCloseCode(
  module: string | ModuleNames,
  endSite: { siteId: number; locals: readonly string[] } | null,
  throwSiteId: number,
  typed: boolean | "setter" = false,
): string {
  // The leading ";" ends a last statement written without one (`{ foo() }`).
  const end = endSite ? ` ${endCode(module, endSite.siteId, endSite.locals, typed)}` : "";
  return `;${end} } catch (${ERROR_VAR}) { ${throwCode(module, throwSiteId, typed !== false)} }`;
}

/**
 * The catch clause body: rethrow the same error object, through the hook when the site is on.
 * Kept this small on purpose (it is in every instrumented function and counts against V8's
 * inlining budget): no locals (the hook has the call's arguments in its frame), one statement.
 * The guard stays: a hook called while the site is off could itself overflow the stack when the
 * error is a stack overflow, and replace the user's error with a new one.
 */
export function throwCode(module: string | ModuleNames, siteId: number, typed = false): string {
  const { hash, handle } = namesOf(module);
  const g = flagName(hash, siteId);
  // Typed: the type argument is a read of `$dgr` for `noUnusedLocals` (a body may never assign it).
  const hook = `${hookName(handle, "t")}${typed ? `<typeof ${RESULT_VAR}>` : ""}`;
  return `throw ${g} ? ${hook}(${siteId}, ${FRAME_VAR}, ${ERROR_VAR}) : ${ERROR_VAR};`;
}

/** An arrow's expression body `expr` becomes `<arrowOpen>expr<arrowClose>`. */
export function arrowOpenCode(
  module: string | ModuleNames,
  entry: EntryCodeInput,
  anonymous = false,
  typed?: { result: string | null },
): string {
  return `{ ${bodyOpenCode(typed)}${entryCode(module, entry)} return ${returnOpenCode(module, false, anonymous)}`;
}

export function arrowCloseCode(
  module: string | ModuleNames,
  returnSite: { siteId: number; locals: readonly string[] },
  throwSiteId: number,
  anonymous = false,
  typed = false,
): string {
  return `${returnCloseCode(module, returnSite.siteId, returnSite.locals, false, anonymous, typed)}; } catch (${ERROR_VAR}) { ${throwCode(module, throwSiteId, typed)} } }`;
}

/** What the guard of an outlined function needs (model.ts OutlinedFunction). */
export type OutlineGuardInput = Pick<OutlinedFunction, "flag" | "name" | "forward" | "receiver">;

function outlinedCall(input: OutlineGuardInput): string {
  if (input.receiver === "none") return `${input.name}(${input.forward.join(", ")})`;
  return `${input.name}${input.receiver === "call" ? ".call" : ""}(this${list(input.forward)})`;
}

/**
 * The one statement an outlined function's plain block body starts with (after its directive
 * prologue): while the function flag is on, the call goes to the instrumented copy.
 */
export function outlineGuardCode(module: string | ModuleNames, input: OutlineGuardInput): string {
  return `if (${flagName(namesOf(module).hash, input.flag)}) return ${outlinedCall(input)};`;
}

/** An outlined arrow's expression body `expr` becomes `<open>expr<close>`. */
export function outlineArrowOpenCode(module: string | ModuleNames, input: OutlineGuardInput): string {
  return `(${flagName(namesOf(module).hash, input.flag)} ? ${outlinedCall(input)} : (`;
}

export const OUTLINE_ARROW_CLOSE = "))";

/**
 * What precedes the instrumented body in the copy, a line of the binder (header.ts
 * binderOpenCode): `$dgO3 = { "total"(a, b) `. A method-keyed function takes its key as its name
 * (the original's, functionNameOf), which V8 shows in stack frames: a stack while a probe is on
 * reads `Cart.total` twice rather than `Cart.$dgO3`. What a method is not, the copy never needs:
 * it is called through `.call(this, …)` (or directly, for an arrow), never with `new`; strictness,
 * `this` and parameters are those of a function declaration in the same place, and it uses no
 * `arguments`, `super`, `new.target` or own name (outline.ts). Duplicate parameter names, which a
 * method does not allow, are never outlined (outline.ts).
 * `typed`: TypeScript output (typed.ts CopySignature): the copy declares the original's type
 * parameters and parameter types (`this: any` for non-arrows, unless the class type fits: a
 * method's body may reach members private to its class); the binding it is assigned to takes any
 * function (`as never`: the guard passes the original's arguments, whose types may name the
 * original's type parameters, and its result adds nothing to the original's return type).
 */
export function outlinedCopyOpenCode(
  name: string,
  key: string,
  params: readonly string[],
  typed?: { typeParams: string; thisType: string; params: readonly string[] } | null,
): string {
  const open = `${name} = { ${JSON.stringify(key)}`;
  if (!typed) return `${open}(${params.join(", ")}) `;
  const typeParams = typed.typeParams === "" ? "" : `<${typed.typeParams}>`;
  return `${open}${typeParams}(${[...(typed.thisType === "" ? [] : [`this: ${typed.thisType}`]), ...typed.params].join(", ")}) `;
}

/** What follows the instrumented body in the copy: ` }["total"];` (typed: ` }["total"] as never;`). */
export function outlinedCopyCloseCode(key: string, typed = false): string {
  return ` }[${JSON.stringify(key)}]${typed ? " as never" : ""};`;
}
