/**
 * The site ABI shared by the transformer (which writes code that follows it) and the runtime
 * registry (which drives that code). See docs/site-abi.md for the generated code at each site.
 * Changing anything here is a breaking change: bump ABI_VERSION.
 */

/** Version of the contract; a registry refuses tables of another version. */
export const ABI_VERSION = 1;

/** Key of the one global slot that holds the registry of this realm. */
export const REGISTRY_KEY = "diagnose.registry";

/** First line of every instrumented output; a second pass leaves such a file alone. */
export const INSTRUMENTED_MARKER = "/*diagnose:instrumented*/";

/** Global variable name of a site's flag. */
export function flagName(moduleHash: string, siteId: number): string {
  return `$dg_${moduleHash}_${siteId}`;
}

/** Module-scope binding that holds the module handle (the registered table). */
export function handleName(moduleHash: string): string {
  return `$dg_${moduleHash}`;
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

/** Numbers per site in `ModuleTable.s`. */
export const SITE_STRIDE = 5;

/**
 * `[qualifiedPath, line, column, FnFlags, parameterDescriptors]`.
 * Parameter descriptors: `"a"`, `"a="` (default), `"...a"` (rest), `"{x,y}"` / `"[x,y]"`
 * (destructuring, its bound names).
 */
export type FunctionEntry = [path: string, line: number, column: number, flags: number, params: string[]];

/** The object literal the transformer passes to `register()`. */
export interface ModuleTable {
  abi: number;
  /** Module hash: 8 base-36 characters. */
  h: string;
  /** Module path relative to the project root, "/" separators, source extension. */
  m: string;
  /** Package name from the nearest package.json, "" if none. */
  p: string;
  /** Number of sites. */
  n: number;
  f: FunctionEntry[];
  /** Per site: kind, function id, line (1-based), column (0-based), locals index (-1 if none). */
  s: number[];
  /** Local-name lists, shared between sites. */
  v: string[][];
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

/** The hook methods the runtime adds to a registered table. */
export interface ModuleHooks {
  e(site: number, self: unknown, args: unknown[]): FrameABI;
  l(site: number, frame: FrameABI | undefined, locals: unknown[]): Promise<unknown> | undefined;
  x(site: number, frame: FrameABI | undefined, value: unknown, locals: unknown[]): unknown;
  t(site: number, frame: FrameABI | undefined, error: unknown, locals: unknown[]): void;
}

/** The object in the global slot: the runtime's registry, or the inline bootstrap. */
export interface RegistrySlot {
  abi: number;
  register(table: ModuleTable): ModuleTable;
  /** Tables registered with the bootstrap before the runtime loaded. */
  queue?: ModuleTable[];
}
