/**
 * Checks a module table before the registry trusts it. A table comes from generated code, possibly
 * from another version of the compiler: anything off is refused (the module keeps running with its
 * flags off) rather than thrown into the module.
 */
import {
  ABI_VERSION,
  COPY_HASH_LENGTH,
  DEFERRED_COPIES_ABI,
  SITE_STRIDE,
  decodeSites,
  loadFlagRanges,
  type FunctionEntry,
  type ModuleTable,
} from "../../abi/index.js";

const COPY_HASH = new RegExp(`^[0-9a-f]{${COPY_HASH_LENGTH}}$`);

/** Hash characters: the hash becomes part of global variable names. */
const HASH = /^[0-9A-Za-z_$]{1,64}$/;

function isIndex(x: unknown, below: number): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0 && x < below;
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0;
}

function isStringArray(x: unknown): x is string[] {
  return Array.isArray(x) && x.every((e) => typeof e === "string");
}

/** Whether `defineFlags` can be trusted with the table's hash and site count. */
export function hasUsableFlagFields(t: unknown): t is { h: string; n: number } {
  if (typeof t !== "object" || t === null) return false;
  const { h, n } = t as { h?: unknown; n?: unknown };
  return typeof h === "string" && HASH.test(h) && isCount(n) && n < 2 ** 24;
}

/** The decoded bulk of a table: what a ModuleRecord is built from. */
export interface DecodedTable {
  f: FunctionEntry[];
  /** `n * SITE_STRIDE` numbers. */
  s: Int32Array;
  /** The flags to define at load (table `l`); undefined: all of them. */
  load: [number, number][] | undefined;
}

/** Returns a description of the first problem, or undefined for a table this runtime can drive. */
export function tableProblem(t: unknown): string | undefined {
  const decoded = decodeTable(t);
  return typeof decoded === "string" ? decoded : undefined;
}

/** Decodes and checks a table: its decoded `f` and `s`, or a description of the first problem. */
export function decodeTable(t: unknown): DecodedTable | string {
  if (typeof t !== "object" || t === null) return "the table is not an object";
  const table = t as Partial<Record<keyof ModuleTable, unknown>>;
  if (table.abi !== ABI_VERSION && table.abi !== DEFERRED_COPIES_ABI)
    return `site ABI ${String(table.abi)}, this runtime speaks ABI ${ABI_VERSION} and ${DEFERRED_COPIES_ABI}`;
  // ABI 4: the copies are deferred, named by the sha256 of their text; ABI 3 has none.
  if (table.abi === DEFERRED_COPIES_ABI) {
    if (typeof table.c !== "string" || !COPY_HASH.test(table.c)) return "`c` must be the hex sha256 of the copy text";
  } else if (table.c !== undefined) return "`c` (deferred copies) needs site ABI 4";
  if (!hasUsableFlagFields(t)) return "bad module hash `h` or site count `n`";
  if (typeof table.m !== "string" || table.m === "") return "missing module path `m`";
  if (typeof table.p !== "string") return "missing package name `p`";
  if (table.r !== undefined && table.r !== 0 && table.r !== 1) return "`r` must be 0 or 1";
  if (table.o !== undefined && !(isCount(table.o) && table.o <= t.n))
    return "`o` must be a count of flags no larger than `n`";
  let load: [number, number][] | undefined;
  if (table.l !== undefined) {
    load = typeof table.l === "string" ? loadFlagRanges(table.l, t.n) : undefined;
    if (load === undefined) return "`l` must list flag ids and ranges below `n`, ascending";
  }
  const sites = t.n - ((table.o as number | undefined) ?? 0);
  if (typeof table.f !== "string" || typeof table.s !== "string" || typeof table.v !== "string")
    return "`f`, `s` and `v` must be strings";
  let f: unknown;
  try {
    f = JSON.parse(table.f);
  } catch {
    return "`f` is not JSON";
  }
  if (!Array.isArray(f)) return "`f` is not a list";
  const s = decodeSites(table.s, sites);
  if (s === undefined) return `\`s\` does not hold ${sites} sites`;
  const v = table.v;
  if (v !== "" && /^;|;;|;$|^,|,,|,$|,;|;,/.test(v)) return "`v` holds an empty name or list";
  const lists = v === "" ? 0 : v.split(";").length;
  for (let i = 0; i < f.length; i++) {
    const e: unknown = f[i];
    if (
      !Array.isArray(e) ||
      typeof e[0] !== "string" ||
      !isCount(e[1]) ||
      !isCount(e[2]) ||
      !isCount(e[3]) ||
      !isStringArray(e[4]) ||
      e.length > 7
    ) {
      return `function entry ${i} is malformed`;
    }
  }
  for (let id = 0; id < sites; id++) {
    const o = id * SITE_STRIDE;
    const locals = s[o + 4];
    if (
      !isIndex(s[o], 5) ||
      !isIndex(s[o + 1], f.length) ||
      !isCount(s[o + 2]) ||
      !isCount(s[o + 3]) ||
      !(locals === -1 || isIndex(locals, lists))
    ) {
      return `site ${id} is malformed`;
    }
  }
  // The line site an entry site serves: a line site of that function (-1: none).
  // An outline flag: one of the last `o` flags, each owned by exactly one function.
  const outlineOwners = new Set<number>();
  for (let i = 0; i < f.length; i++) {
    const e = f[i] as unknown[];
    if (e.length < 6) continue;
    const id = e[5];
    if (id !== -1 && (!isIndex(id, sites) || s[id * SITE_STRIDE] !== 1 || s[id * SITE_STRIDE + 1] !== i))
      return `function entry ${i} names a bad entry line site`;
    if (e.length < 7) continue;
    const flag = e[6];
    if (!isIndex(flag, t.n) || flag < sites || outlineOwners.has(flag))
      return `function entry ${i} names a bad outline flag`;
    outlineOwners.add(flag);
  }
  if (outlineOwners.size !== t.n - sites) return "`o` does not match the functions' outline flags";
  return { f: f as FunctionEntry[], s, load };
}
