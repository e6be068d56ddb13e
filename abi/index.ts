/**
 * The site ABI shared by the transformer (which writes code that follows it) and the runtime
 * registry (which drives that code). See docs/site-abi.md for the generated code at each site.
 * Changing anything here is a breaking change: bump ABI_VERSION.
 */

/**
 * Version of the contract between the registry and every module: the registry's `abi`, the inline
 * bootstrap's, and the `abi` of a table without deferred copies. A registry refuses tables of
 * another version, except `DEFERRED_COPIES_ABI`.
 */
export const ABI_VERSION = 3;

/**
 * The `abi` of a table whose outlined functions' copies are not in the module but in separate copy
 * text named by its hash (`ModuleTable.c`; docs/site-abi.md, "Why version 4"). A runtime that
 * speaks only ABI 3 refuses such a table (its flags stay off), so a guard can never send a call to
 * a copy that no runtime created. Every other table stays ABI 3: one runtime drives both.
 */
export const DEFERRED_COPIES_ABI = 4;

/** Key of the realm's store of deferred copy text (runtime/registry/copies.ts). */
export const COPIES_KEY = "diagnose.copies";

/** Hex digits of sha256 that name a module's deferred copy text (`ModuleTable.c`). */
export const COPY_HASH_LENGTH = 64;

/** Key of the one global slot that holds the registry of this realm. */
export const REGISTRY_KEY = "diagnose.registry";

/** First line of every instrumented output; a second pass leaves such a file alone. */
export const INSTRUMENTED_MARKER = "/*diagnose:instrumented*/";

/**
 * Global variable name of flag `id` of a module: a site's flag (ids `0..sites-1`, the site id) or
 * an outlined function's flag (the last `o` ids, see ModuleTable).
 */
export function flagName(moduleHash: string, id: number): string {
  return `$dg_${moduleHash}_${id}`;
}

/**
 * The module handle: the prefix of the module-scope bindings that hold the module's hooks
 * (`hookName`). ESM and CommonJS modules each have their own scope, so a short fixed name is
 * enough; classic scripts share the global scope and need the hash-qualified `handleName`.
 */
export const MODULE_HANDLE = "$dg";

/** The handle of a classic script (format "script"): `$dg_<hash>`, unique in the shared global scope. */
export function handleName(moduleHash: string): string {
  return `$dg_${moduleHash}`;
}

/**
 * The module-scope binding that holds the instrumented copy of outlined function `fnId`
 * (docs/site-abi.md, "Outlined functions"): `$dgO3`.
 */
export function outlinedName(handle: string, fnId: number): string {
  return `${handle}O${fnId}`;
}

/**
 * The module's binder when it has outlined functions: `function $dgB(…) { … }`, a hoisted
 * declaration at the end of the module that assigns the hook bindings and creates the copies
 * (docs/site-abi.md, "Outlined functions"). The header passes it to `register`.
 */
export function binderName(handle: string): string {
  return `${handle}B`;
}

/**
 * The binder's parameters (`HookBinder`'s `e, l, x, t`), named so that no module code can use
 * them (`$dg_…` is reserved): the copies are created inside the binder and see its scope, so a
 * parameter named `e` would hide a module binding `e` from them.
 */
export function binderParam(hook: HookKey): string {
  return `$dg_${hook}`;
}

/**
 * The binder's fifth parameter in a module with deferred copies: the copy text it evaluates
 * (direct `eval`, so the copies close over the module's bindings). Reserved like the others.
 */
export const BINDER_COPIES_PARAM = "$dg_c";

/**
 * The first parameter of an outlined copy whose body never reads its `this`: the guard passes the
 * original's `this` as an argument (`$dgO3(this, a)`, a direct call, where `.call(this, a)` is a
 * generic one), and the copy's entry site hands it to the probes. Reserved like the binder's.
 */
export const COPY_RECEIVER_PARAM = "$dg_s";

/** The hooks, in the order `register`'s binder receives them. */
export const HOOKS = ["e", "l", "x", "t"] as const;
export type HookKey = (typeof HOOKS)[number];

/**
 * The module-scope binding that holds one hook: `$dgE`, `$dgL`, `$dgX`, `$dgT` (scripts:
 * `$dg_<hash>E`…). The generated code calls hooks through these plain bindings, not as methods of
 * a table: a property load per call site is 4 bytes of bytecode in every instrumented function,
 * and bytecode size is what V8's inlining budget counts (docs/site-abi.md).
 */
export function hookName(handle: string, hook: HookKey): string {
  return handle + hook.toUpperCase();
}

/**
 * The module's identity function, `function $dgI(v) { return v; }`, declared by the header (and
 * hoisted, so it exists before any code of the module runs). A returned anonymous function passes
 * through it so that V8 infers no name for it from the result variable (docs/site-abi.md).
 */
export function identityName(handle: string): string {
  return `${handle}I`;
}

export const SiteKind = {
  entry: 0,
  line: 1,
  /** A `return` statement. */
  return: 2,
  /** Falling off the end of the body. */
  end: 3,
  /** An exception leaving the function. */
  throw: 4,
} as const;
export type SiteKind = (typeof SiteKind)[keyof typeof SiteKind];
export const SITE_KIND_NAMES = ["entry", "line", "return", "end", "throw"] as const;
export type SiteKindName = (typeof SITE_KIND_NAMES)[number];

export const FnFlags = {
  async: 1,
  generator: 2,
  arrow: 4,
  constructor: 8,
  /** A derived-class constructor: `this` is not available at entry. */
  derivedConstructor: 16,
  method: 32,
  getter: 64,
  setter: 128,
  static: 256,
  classField: 512,
} as const;

/** Numbers per site in the decoded `s` (see `decodeSites`). */
export const SITE_STRIDE = 5;

/**
 * `[qualifiedPath, line, column, flags, params, entryLine?, outlineFlag?]`. `entryLine`: the id of
 * the line site of the body's first statement when the entry site serves it (that line site has no
 * code of its own: the entry hook dispatches its line event); -1 or absent otherwise.
 * `outlineFlag`: for an outlined function, the id of the flag that sends its calls to the
 * instrumented copy (on while any of its sites is on); absent otherwise.
 * Parameter descriptors: `"a"`, `"a="` (default), `"...a"` (rest), `"{x,y}"` / `"[x,y]"`
 * (destructuring, its bound names).
 */
export type FunctionEntry = [
  path: string,
  line: number,
  column: number,
  flags: number,
  params: string[],
  entryLine?: number,
  outlineFlag?: number,
];

/** One name a parameter binds; `field` is set when the name is read from a destructured argument. */
export interface ParameterBinding {
  readonly name: string;
  readonly field: string | undefined;
}

/** A parameter descriptor of a `FunctionEntry`, parsed. */
export interface ParameterShape {
  /** `"...a"`. */
  readonly rest: boolean;
  /** `"a="`. */
  readonly defaulted: boolean;
  /** `"a"` → a; `"{x,y}"` / `"[x,y]"` → x and y, each read from the argument's field of its name. */
  readonly names: readonly ParameterBinding[];
}

/** Parses one parameter descriptor (`"a"`, `"a="`, `"...a"`, `"{x,y}"`, `"[x,y]"`): the one parser of them. */
export function parseParameter(descriptor: string): ParameterShape {
  let d = descriptor.trim();
  const rest = d.startsWith("...");
  if (rest) d = d.slice(3);
  const defaulted = d.endsWith("=");
  if (defaulted) d = d.slice(0, -1);
  if (d.startsWith("{") || d.startsWith("[")) {
    const names = d
      .slice(1, -1)
      .split(",")
      .map((s) => s.trim().replace(/^\.\.\./, ""))
      .filter((s) => s.length > 0)
      .map((name) => ({ name, field: name }));
    return { rest, defaulted, names };
  }
  return { rest, defaulted, names: [{ name: d, field: undefined }] };
}

/**
 * The object literal the transformer passes to `register()`. The bulky fields are strings: one
 * token each for the parsers and printers downstream (a printer such as SWC puts every array
 * element on its own line), and a few bytes per site in memory until the module is first watched.
 */
export interface ModuleTable {
  abi: number;
  /** Module hash: 8 base-36 characters. */
  h: string;
  /** Module path relative to the project root, "/" separators, source extension. */
  m: string;
  /** Package name from the nearest package.json, "" if none. */
  p: string;
  /**
   * Number of flags (`$dg_<h>_0` … `$dg_<h>_<n-1>`): the sites, then one per outlined function.
   * Everything that defines flags reads this (and `l`, which of them to define at load), so it is the sum.
   */
  n: number;
  /** Number of outlined functions (the last `o` flags are theirs). Absent: 0. */
  o?: number;
  /** Functions, index = function id: the JSON text of a `FunctionEntry[]`. */
  f: string;
  /** Sites: see `encodeSites` (5 numbers per site, base-64 VLQ deltas). */
  s: string;
  /** Local-name lists, shared between sites: names joined by ",", lists by ";" (see `encodeLocals`). */
  v: string;
  /**
   * 1: the entry code applies replaced arguments (built with the `replaceArguments` option);
   * 0: it does not, and the runtime refuses an `args` decision. Absent (tables written before
   * the field existed): 1.
   */
  r?: number;
  /**
   * ABI 4 only: the lower-case hex sha256 (`COPY_HASH_LENGTH` digits) of the module's deferred copy
   * text: the code that creates its outlined functions' copies, kept out of the module. The
   * registry finds the text by this hash (runtime/registry/copies.ts), checks it, and passes it to
   * the binder, which evaluates it, before it turns on a flag of an outlined function.
   */
  c?: string;
  /**
   * The flags the module's own code reads before any probe is on, as `rangesText` writes them
   * (ids and inclusive `a-b` ranges, comma-separated, ascending). The header, the bootstrap and the
   * registry define only these when the module loads; the rest (the sites of outlined functions,
   * which only their copies read, and the line sites the entry code serves, which no code reads)
   * are defined when the module is first watched, before any flag of it is written. Each defined
   * flag costs ~100 bytes of heap (a global property cell, its name, a dictionary entry), and most
   * modules are never watched. Absent: all `n` at load (tables written before the field existed).
   */
  l?: string;
}

/** Ascending integers as runs, `0-4,7,9-12` (the text of `ModuleTable.l`; line lists in the CLI). */
export function rangesText(ids: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    parts.push(j === i ? String(ids[i]) : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * The ranges of `ModuleTable.l` text as inclusive `[first, last]` pairs, or undefined if it is not
 * such text: ascending, disjoint, every id below `n`. The empty text is no flag.
 */
export function loadFlagRanges(text: string, n: number): [number, number][] | undefined {
  if (text === "") return [];
  const ranges: [number, number][] = [];
  let next = 0;
  for (const part of text.split(",")) {
    const m = /^(0|[1-9][0-9]{0,7})(?:-(0|[1-9][0-9]{0,7}))?$/.exec(part);
    if (m === null) return undefined;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (first < next || last < first || last >= n) return undefined;
    ranges.push([first, last]);
    next = last + 1;
  }
  return ranges;
}

/** Number of sites of a table: its flags minus the outlined functions' flags. */
export function siteCount(table: Pick<ModuleTable, "n" | "o">): number {
  return table.n - (table.o ?? 0);
}

/** Whether a table's entry code applies replaced arguments (`r`; absent means yes). */
export function replacesArguments(table: Pick<ModuleTable, "r">): boolean {
  return table.r !== 0;
}

const VLQ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VLQ_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < VLQ_CHARS.length; i++) VLQ_VALUES[VLQ_CHARS.charCodeAt(i)] = i;

/**
 * The table's `s`: per site, in site-id order, `kind, function id, line, column, locals index`
 * (-1: no locals); each number written as the difference from the same number of the previous
 * site (the first site: from 0), in the base-64 VLQ of source maps (sign in the lowest bit, 5 bits
 * per character, continuation bit 32). A typical site takes 5–7 characters.
 */
export function encodeSites(values: readonly number[]): string {
  const previous = [0, 0, 0, 0, 0];
  let out = "";
  for (let i = 0; i < values.length; i++) {
    const field = i % SITE_STRIDE;
    const delta = values[i]! - previous[field]!;
    previous[field] = values[i]!;
    let vlq = delta < 0 ? (-delta << 1) | 1 : delta << 1;
    do {
      let digit = vlq & 31;
      vlq >>>= 5;
      if (vlq > 0) digit |= 32;
      out += VLQ_CHARS[digit];
    } while (vlq > 0);
  }
  return out;
}

/** Decodes `s` into `count * SITE_STRIDE` numbers; undefined if it is malformed or of another length. */
export function decodeSites(text: string, count: number): Int32Array | undefined {
  const out = new Int32Array(count * SITE_STRIDE);
  const previous = [0, 0, 0, 0, 0];
  let pos = 0;
  for (let i = 0; i < out.length; i++) {
    let vlq = 0;
    let shift = 0;
    let digit: number;
    do {
      if (pos >= text.length || shift > 30) return undefined;
      const code = text.charCodeAt(pos++);
      digit = code < 128 ? VLQ_VALUES[code]! : -1;
      if (digit < 0) return undefined;
      vlq += (digit & 31) * 2 ** shift;
      shift += 5;
    } while (digit & 32);
    const delta = vlq % 2 === 1 ? -Math.floor(vlq / 2) : vlq / 2;
    const field = i % SITE_STRIDE;
    previous[field] = previous[field]! + delta;
    out[i] = previous[field]!;
  }
  return pos === text.length ? out : undefined;
}

/** The table's `v`: names joined by ",", lists joined by ";" (identifiers contain neither). */
export function encodeLocals(lists: readonly (readonly string[])[]): string {
  return lists.map((names) => names.join(",")).join(";");
}

export function decodeLocals(text: string): string[][] {
  return text === "" ? [] : text.split(";").map((names) => names.split(","));
}

/**
 * What a hook at an entry site returns: the call's frame. The generated code reads two fields.
 * The runtime's frame type extends this.
 */
export interface FrameABI {
  /** Replacement arguments, one per parameter (plain, default and rest parameters only). */
  a?: unknown[] | undefined;
  /** A promise an async function awaits before its body goes on (pause). */
  w?: Promise<unknown> | undefined;
}

/**
 * A module's hooks, bound to that module (the runtime makes one set per registered module).
 * Arguments and locals are passed as separate call arguments (not an array literal): fewer bytes
 * of bytecode in the instrumented function, and printers keep the call on one line.
 */
export interface ModuleHooks {
  e(site: number, self: unknown, ...args: unknown[]): FrameABI;
  l(site: number, frame: FrameABI | undefined, ...locals: unknown[]): Promise<unknown> | undefined;
  x(site: number, frame: FrameABI | undefined, value: unknown, ...locals: unknown[]): unknown;
  /** Returns the error to rethrow: always the one it was given. */
  t(site: number, frame: FrameABI | undefined, error: unknown): unknown;
}

/**
 * The second argument of `register`: assigns the module's hook bindings. The registry calls it
 * when it registers (or adopts) the module, before any flag of the module can be true.
 */
export type HookBinder = (
  e: ModuleHooks["e"],
  l: ModuleHooks["l"],
  x: ModuleHooks["x"],
  t: ModuleHooks["t"],
  /** ABI 4: the module's deferred copy text, to evaluate in module scope (see `ModuleTable.c`). */
  copies?: string,
) => void;

/** The object in the global slot: the runtime's registry, or the inline bootstrap. */
export interface RegistrySlot {
  abi: number;
  register(table: ModuleTable, bind: HookBinder): ModuleTable;
  /** Modules registered with the bootstrap before the runtime loaded. */
  queue?: [ModuleTable, HookBinder][];
}
