/**
 * The module header (docs/site-abi.md, "Per module"): the marker, the ESM flag definer and the
 * registration of the site table. Pure string builders, shared with the ts-patch adapter.
 */
import { createHash } from "node:crypto";
import {
  ABI_VERSION,
  BINDER_COPIES_PARAM,
  HOOKS,
  INSTRUMENTED_MARKER,
  REGISTRY_KEY,
  binderName,
  binderParam,
  handleName,
  hookName,
  identityName,
  loadFlagRanges,
  type ModuleTable,
} from "../abi/index.js";

/** 8 base-36 characters of sha1(package \0 module \0 source): stable per package version + content. */
export function moduleHash(packageName: string, modulePath: string, source: string): string {
  // Fed in parts: the same digest as of the joined text, without copying the whole source once more.
  const digest = createHash("sha1").update(`${packageName}\0${modulePath}\0`).update(source).digest();
  // 48 bits cover 36^8 (≈ 2^41.4); reduce to exactly 8 digits.
  const value = digest.readUIntBE(0, 6) % 36 ** 8;
  return value.toString(36).padStart(8, "0");
}

/** Defines flag `k` as a non-enumerable `false` global unless it exists (data: URL safe: no `#`, `?`, `%`, `"`). */
function defineFlagCode(name: string): string {
  return `let k=${name};k in globalThis||Object.defineProperty(globalThis,k,{value:!1,writable:!0,configurable:!0})`;
}

/**
 * The code that defines the flags a module reads at load as non-enumerable globals, unless they
 * exist: `0..n-1`, or the ranges of its table's `l` (the others wait for the registry).
 */
export function flagDefinerCode(table: Pick<ModuleTable, "h" | "n" | "l">): string {
  const define = defineFlagCode(`'$dg_${table.h}_'+i`);
  if (table.l === undefined) return `for(let i=0;i<${table.n};i++){${define}}`;
  // Flat `first, last` pairs and index loops: a `for…of` with destructuring compiles to the
  // iterator protocol, ~60 bytes more code per module (heap snapshots of the rxjs graph). `?? 0`:
  // typed output is checked under `noUncheckedIndexedAccess` too.
  const pairs = (loadFlagRanges(table.l, table.n) ?? []).flat();
  return `for(let r=[${pairs.join(",")}],j=0;j<r.length;j+=2)for(let i=r[j]??0,z=r[j+1]??0;i<=z;i++){${define}}`;
}

/**
 * The body of a `data:` URL, percent-encoding only what a URL or the JS string around it would
 * change: `%`, `#` (fragment), `?` (query), `"`, backslashes, whitespace, controls, non-ASCII.
 */
export function dataUrlBody(code: string): string {
  return code.replace(/[%#?"\\\s\x00-\x1f\x7f-\uffff]/g, (c) => encodeURIComponent(c));
}

/** The inline registry used until the runtime loads (it adopts `queue`: tables with their binders). */
export function bootstrapCode(): string {
  // Every header defines the flags its module reads at load (headerCode); a table with `l` has
  // others that only the registry may define (when the module is first watched), so the bootstrap
  // defines all of them only for a table without `l`.
  return `{abi:${ABI_VERSION},queue:[],register(t,b){if(t.l==null)for(let i=0;i<t.n;i++){${defineFlagCode(`'$dg_'+t.h+'_'+i`)}}this.queue.push([t,b]);return t}}`;
}

/**
 * TypeScript output (typed.ts): the frame a hook receives (`$dgf`); `a` holds replaced arguments
 * (assigned to parameters of any type), `w` a promise an async function waits for.
 */
export const FRAME_TYPE = "{ a: any; w: unknown }";

/**
 * TypeScript output: the types of the hook bindings. The line hook is typed as never returning
 * so that an async line site's `$dgr = $dgL(…)` fits a `$dgr` of any declared type; the return
 * hook hands back the value it is given.
 */
const HOOK_TYPES: Record<(typeof HOOKS)[number], string> = {
  e: `(id: number, self: unknown, ...args: unknown[]) => ${FRAME_TYPE}`,
  l: `(id: number, frame: ${FRAME_TYPE} | undefined, ...locals: unknown[]) => never`,
  x: `<R>(id: number, frame: ${FRAME_TYPE} | undefined, result: R, ...locals: unknown[]) => R`,
  // `R`: see site-code.ts throwCode.
  t: `<R = unknown>(id: number, frame: ${FRAME_TYPE} | undefined, error: unknown, result?: R) => unknown`,
};

/**
 * `var $dgE, $dgL, $dgX, $dgT; function $dgI(v) { return v; }` — the module's hook bindings,
 * assigned by `binderCode`, and its identity function (abi/index.ts `identityName`). `typed`:
 * TypeScript output, with the same code annotated.
 */
export function hookDeclarationCode(handle: string, typed = false): string {
  if (!typed)
    return `var ${HOOKS.map((h) => hookName(handle, h)).join(", ")}; function ${identityName(handle)}(v) { return v; }`;
  return `var ${HOOKS.map((h) => `${hookName(handle, h)}: ${HOOK_TYPES[h]}`).join(", ")}; function ${identityName(handle)}<V>(v: V): V { return v; }`;
}

/**
 * The second argument of `register` in a module without outlined functions: a function the
 * registry calls with the module's hooks (abi/index.ts HookBinder). A plain function expression,
 * valid in every output target. Typed, its parameters take the bindings' types; its return type
 * names the identity function too, which is what marks it used for `noUnusedLocals` in a module
 * that never calls it.
 */
export function binderCode(handle: string, typed = false): string {
  const params = typed ? HOOKS.map((h) => `${h}: typeof ${hookName(handle, h)}`).join(", ") : "e, l, x, t";
  const result = typed ? `: void | typeof ${identityName(handle)}` : "";
  return `function (${params})${result} { ${HOOKS.map((h) => `${hookName(handle, h)} = ${h};`).join(" ")} }`;
}

/**
 * The binder of a module with outlined functions (docs/site-abi.md, "Outlined functions"), at the
 * end of the module: `var $dgO1, $dgO3; function $dgB($dg_e, $dg_l, $dg_x, $dg_t) { $dgE = $dg_e; …`,
 * followed by one `$dgO1 = { "total"(a, b) {…} }["total"];` per copy (site-code.ts
 * outlinedCopyOpenCode) and `BINDER_CLOSE`. A hoisted declaration: the header passes it to
 * `register` before evaluation reaches it, and the registry calls it before any flag of the
 * module can be on, so every copy exists whenever a guard can send a call to it, even while the
 * module's own top-level code runs. The copies are method-keyed functions, named by the language.
 * Typed: the bindings hold any function and return `never`, so a guard's `$dgO1.call(…)` adds
 * nothing to the original's return type (the copy itself is checked as written).
 */
export function binderOpenCode(handle: string, copies: readonly string[], typed = false): string {
  const copyType = typed ? ": (this: any, ...args: any[]) => never" : "";
  const params = HOOKS.map((h) => `${binderParam(h)}${typed ? `: typeof ${hookName(handle, h)}` : ""}`).join(", ");
  const result = typed ? `: void | typeof ${identityName(handle)}` : "";
  const assignments = HOOKS.map((h) => `${hookName(handle, h)} = ${binderParam(h)};`).join(" ");
  return `var ${copies.map((c) => c + copyType).join(", ")}; function ${binderName(handle)}(${params})${result} { ${assignments} `;
}

/**
 * The binder of a module with deferred copies (site ABI 4, docs/site-abi.md "Deferred copies"), on
 * one line after the module's last line: `var $dgO1, $dgO3; function $dgB($dg_e, $dg_l, $dg_x,
 * $dg_t, $dg_c) { $dgE = $dg_e; …; if ($dg_c !== void 0) eval($dg_c); }`. The registry calls it
 * with the hooks at registration, and again with the copy text (checked against the table's `c`)
 * before it first turns on a flag of an outlined function: a direct `eval`, so the copies close
 * over the module's bindings exactly as copies written in the module do.
 */
export function deferredBinderCode(handle: string, copies: readonly string[]): string {
  const params = [...HOOKS.map((h) => binderParam(h)), BINDER_COPIES_PARAM].join(", ");
  const assignments = HOOKS.map((h) => `${hookName(handle, h)} = ${binderParam(h)};`).join(" ");
  return `var ${copies.join(", ")}; function ${binderName(handle)}(${params}) { ${assignments} if (${BINDER_COPIES_PARAM} !== void 0) eval(${BINDER_COPIES_PARAM}); }`;
}

/** What closes the binder after the last copy. */
export const BINDER_CLOSE = " }";

/** TypeScript output: the global the registry slot is typed through (type-only, never defined). */
export const REGISTRY_TYPE_NAME = "__diagnoseRegistry";

/** TypeScript output: what the header needs of the registry, including the inline bootstrap. */
const REGISTRY_TYPE =
  "{ abi: number; queue: unknown[]; register(table: { abi: number; h: string; m: string; p: string; n: number; f: string; s: string; v: string; r?: number; o?: number; l?: string }, binder: (e: any, l: any, x: any, t: any) => unknown): unknown }";

/**
 * TypeScript output: the declarations of what the header and site code name but do not declare:
 * the module's flags and the registry slot's type. A module declares the slot's type in
 * `declare global`, a script at its top level (which is global). Type-only: nothing is emitted.
 */
export function typeDeclarationCode(hash: string, count: number, module: boolean): string {
  let flags = "";
  for (let i = 0; i < count; i++) flags += `${i === 0 ? "declare var " : ", "}$dg_${hash}_${i}: boolean`;
  if (flags !== "") flags += "; ";
  const registry = `var ${REGISTRY_TYPE_NAME}: ${REGISTRY_TYPE};`;
  return `${flags}${module ? `declare global { ${registry} }` : `declare ${registry}`} `;
}

/**
 * The table literal passed to `register`, on one line so line numbers survive. `f` is JSON text
 * in a single-quoted string (its own double quotes stay readable).
 */
export function tableCode(table: ModuleTable): string {
  const f = `'${table.f.replace(/[\\'\u2028\u2029]/g, (c) => (c === "\\" ? "\\\\" : c === "'" ? "\\'" : c === "\u2028" ? "\\u2028" : "\\u2029"))}'`;
  const text = (value: string) => JSON.stringify(value);
  return `{abi:${table.abi},h:${text(table.h)},m:${text(table.m)},p:${text(table.p)},n:${table.n},f:${f},s:${text(table.s)},v:${text(table.v)}${table.r !== undefined ? `,r:${table.r}` : ""}${table.o !== undefined ? `,o:${table.o}` : ""}${table.c !== undefined ? `,c:${text(table.c)}` : ""}${table.l !== undefined ? `,l:${text(table.l)}` : ""}}`;
}

export type OutputModuleFormat = "esm" | "cjs" | "script";

/**
 * The header statements, placed after a hashbang and the directive prologue. ESM: the data: import
 * comes first, so the slot holds a registry and the flags exist before any other import (or an
 * import-cycle partner) can run code of this module; CJS/script: `register()` defines them. Then
 * the hook bindings and the registration, which hands the registry the binder that fills them.
 * `handle` is the prefix of the hook bindings (`Analysis.names.handle`); the default,
 * `$dg_<hash>`, suits every format. A module with outlined functions (`table.o`) passes its binder
 * declaration (`binderOpenCode`), which the caller appends to the module.
 */
export function headerCode(
  table: ModuleTable,
  format: OutputModuleFormat,
  handle: string = handleName(table.h),
  typed: { module: boolean } | null = null,
): string {
  // Typed, the key is asserted to name the declared global (typeDeclarationCode), so indexing
  // `globalThis` with it has a type; the assertion sits inside the brackets and strips cleanly.
  const key = `Symbol.for('${REGISTRY_KEY}')${typed ? ` as unknown as "${REGISTRY_TYPE_NAME}"` : ""}`;
  const slot = `globalThis[${key}]`;
  // With outlined functions the binder is a declaration at the module's end (binderOpenCode).
  const binder = table.o ? binderName(handle) : binderCode(handle, typed !== null);
  const registration = `.register(${tableCode(table)}, ${binder});`;
  const declarations = typed ? typeDeclarationCode(table.h, table.n, typed.module) : "";
  // Whatever the slot holds (a string, a registry of another ABI without `register`, one whose
  // `register` throws or defines no flags), loading the module must not throw: the flags are
  // defined by the header itself, and the registration is guarded. Such a module's probes stay off.
  const guarded = (call: string) => `try { ${call} } catch (e) {}`;
  if (format !== "esm") {
    return `${declarations}${hookDeclarationCode(handle, typed !== null)} ${flagDefinerCode(table)} ${guarded(`(${slot} ??= ${bootstrapCode()})${registration}`)}`;
  }
  return `import "${definerUrl(table)}";${declarations}${hookDeclarationCode(handle, typed !== null)} ${guarded(`${slot}${registration}`)}`;
}

/**
 * The `data:` URL an ESM header imports first: one data: module installs the bootstrap if needed
 * and defines the flags; it is a string, so downstream printers keep it on one line (an inline
 * bootstrap is pretty-printed). Percent-encoded (`dataUrlBody`): it holds no quote or backslash.
 */
export function definerUrl(table: ModuleTable): string {
  const definer = `(globalThis[Symbol.for('${REGISTRY_KEY}')]??=${bootstrapCode()});${flagDefinerCode(table)}`;
  return `data:text/javascript,${dataUrlBody(definer)}`;
}

/** The marker, followed by nothing: the original first line goes on after it (lines stay put). */
export function markerCode(): string {
  return INSTRUMENTED_MARKER;
}

/** Where the marker goes: index 0, or the start of the line after a hashbang. */
export function markerPosition(code: string): { index: number; prefix: string } {
  const start = code.startsWith("\uFEFF") ? 1 : 0;
  if (!code.startsWith("#!", start)) return { index: start, prefix: "" };
  const newline = code.indexOf("\n", start);
  return newline < 0 ? { index: code.length, prefix: "\n" } : { index: newline + 1, prefix: "" };
}

/** True if `code` already went through the transformer (marker at the start or after a hashbang). */
export function isInstrumented(code: string): boolean {
  const { index } = markerPosition(code);
  return code.startsWith(INSTRUMENTED_MARKER, index);
}
