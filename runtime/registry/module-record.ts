/**
 * One registered module (one hash). The table's `s` is decoded once into an Int32Array, its `v`
 * only when a site's locals are first needed, and everything else (the function index, per-function site lists,
 * FunctionInfo/SiteInfo objects, flag states) is built only when a watch first needs this module.
 * A module that nobody watches costs the registry one record object and a map entry.
 *
 * Several tables may share a record: the same file loaded as CJS and ESM has the same hash, hence
 * the same flags, and both instances dispatch to the same watchers.
 */
import {
  FnFlags,
  SITE_KIND_NAMES,
  SITE_STRIDE,
  SiteKind,
  decodeLocals,
  parseParameter,
  replacesArguments,
  siteCount,
  type FunctionEntry,
  type HookBinder,
  type ModuleHooks,
  type ModuleTable,
} from "../../abi/index.js";
import { describeError } from "../../errors/index.js";
import { findCopies } from "./copies.js";
import { CopiesUnavailableError } from "./errors.js";
import { hooksFor } from "./dispatch.js";
import { defineFlags, writeFlag } from "./flags.js";
import type { Frame } from "./frames.js";
import type { FunctionInfo, SiteInfo } from "./types.js";
import type { DecodedTable } from "./validate.js";
import type { WatchImpl } from "./watch.js";

const NO_NAMES: readonly string[] = Object.freeze([]);
const NO_WATCHES: readonly WatchImpl[] = Object.freeze([]);

/** Key of the record on a registered table (a table registered twice is recognised by it). */
export const RECORD: unique symbol = Symbol("diagnose.record");

/** A watched (or once-watched) function of a record: what its hooks dispatch to. */
export class FunctionState {
  /** Active watches in attach order. Replaced, never mutated: a dispatch loop keeps its snapshot. */
  watches: readonly WatchImpl[] = NO_WATCHES;
  /** Whether some active watch needs `frame.start` (one clock read per call). */
  timing = false;
  /** `watches[0]` while it is the only one (set with `watches` by `applyFlags`): the entry hook skips its loop. */
  sole: WatchImpl | undefined = undefined;
  readonly async: boolean;
  /**
   * The line site of the body's first statement, which the entry hook serves (table: 6th element
   * of the `f` entry); it has no code and its flag is never set.
   */
  entryLine: SiteInfo | undefined = undefined;
  /** Whether some active watch wants `entryLine`: the entry hook then dispatches its line event. */
  entryLineOn = false;
  /**
   * Per local of `entryLine`: where its value is at entry: `[parameter index, key]` (key: a name
   * bound by a destructuring parameter, whose entry argument is an object of its bound names), or
   * null (a `var`: undefined before the first statement).
   */
  entryLocals: readonly ([number, string | null] | null)[] = [];

  constructor(
    readonly record: ModuleRecord,
    readonly id: number,
    readonly info: FunctionInfo,
  ) {
    this.async = (info.flags & FnFlags.async) !== 0;
  }
}

/** Built on the first watch of a module: sites grouped per function (CSR layout), flag states. */
interface ActiveIndex {
  /** Sites of function `f` are `sites[start[f] .. start[f + 1])`, in source order. */
  readonly start: Uint32Array;
  readonly sites: Uint32Array;
  /** What the registry last wrote to each flag, site and outline flags (1 = on). */
  readonly on: Uint8Array;
}

export class ModuleRecord {
  readonly hash: string;
  readonly module: string;
  readonly pkg: string;
  /** Number of sites. */
  readonly n: number;
  /** Number of flags: the sites' and the outlined functions' (table `n`). */
  readonly flagCount: number;
  /** Only some flags were defined at load (table `l`): `activate` defines the others. */
  private readonly lazyFlags: boolean;
  /**
   * Whether the entry code of every table of this record applies replaced arguments (table field
   * `r`); false refuses `args` decisions.
   */
  replaceArgs: boolean;
  readonly f: FunctionEntry[];
  /** The table's `s`, decoded into 4-byte integers (SITE_STRIDE per site). */
  readonly s: Int32Array;
  /** The table's `v` (encoded) until `locals()` first needs it. */
  private vText: string;
  private lists: string[][] | undefined = undefined;
  /** Every table registered under this hash (module instances driven together). */
  readonly tables: ModuleTable[] = [];
  /** The module's hooks (dispatch.ts `hooksFor`), handed to every table's binder. */
  readonly hooks: ModuleHooks;
  /** By function id; empty until the module is first watched. Read by the hooks. */
  fns: (FunctionState | undefined)[] = [];
  /** By site id; empty until the module is first watched. Read by the hooks. */
  siteInfo: (SiteInfo | undefined)[] = [];
  /**
   * By site id: the state of the site's function, set with that state; empty until the module is
   * first watched. Read by the hooks: one array load per hit instead of decoding the function id
   * from `s` (~30 instructions per hit of an entry site, measured by test/perf/hit-instructions.ts).
   */
  siteFns: (FunctionState | undefined)[] = [];
  /**
   * The fault an entry hook threw last, so that the throw hook of the same call, which runs next
   * and receives no frame (the entry hook never returned), can still pair the exit. @internal
   */
  lastFault: { error: unknown; frame: Frame } | undefined = undefined;
  /**
   * The module instances whose outlined functions' copies are deferred (site ABI 4, table `c`):
   * their binder, which evaluates the copy text, and whether it did. An outline flag goes on only
   * while every instance has its copies (a guard would otherwise call a copy that does not exist).
   */
  readonly deferred: { table: ModuleTable; bind: HookBinder; done: boolean }[] = [];
  /** Whether copies were evaluated: an instance linked later evaluates its own at once. */
  copiesMade = false;
  private byPath: Map<string, number> | undefined = undefined;
  private index: ActiveIndex | undefined = undefined;

  /** `decoded`: what validate.ts's `decodeTable` made of `table`. */
  constructor(table: ModuleTable, decoded: DecodedTable) {
    this.hash = table.h;
    this.module = table.m;
    this.pkg = table.p;
    this.n = siteCount(table);
    this.flagCount = table.n;
    this.replaceArgs = replacesArguments(table);
    this.hooks = hooksFor(this);
    this.f = decoded.f;
    this.s = decoded.s;
    this.lazyFlags = decoded.load !== undefined;
    this.vText = table.v;
  }

  /** The local-name list `li` of `v`. */
  private locals(li: number): readonly string[] {
    if (this.lists === undefined) {
      this.lists = decodeLocals(this.vText);
      this.vText = "";
    }
    return this.lists[li]!;
  }

  get functionCount(): number {
    return this.f.length;
  }

  /** Function id of a path (first one wins on duplicates), or -1. */
  findFunction(path: string): number {
    if (this.byPath === undefined) {
      const map = new Map<string, number>();
      for (let i = 0; i < this.f.length; i++) {
        const p = this.f[i]![0];
        if (!map.has(p)) map.set(p, i);
      }
      this.byPath = map;
    }
    return this.byPath.get(path) ?? -1;
  }

  functionPath(fid: number): string {
    return this.f[fid]![0];
  }

  qualifiedName(fid: number): string {
    return this.module + ":" + this.f[fid]![0];
  }

  /** The state of a function, created (with its FunctionInfo) on first use. */
  state(fid: number): FunctionState {
    const index = this.activate();
    let fs = this.fns[fid];
    if (fs === undefined) {
      const sites: SiteInfo[] = [];
      for (let k = index.start[fid]!; k < index.start[fid + 1]!; k++) sites.push(this.site(index.sites[k]!));
      fs = new FunctionState(this, fid, this.makeInfo(fid, sites));
      const entryLine = this.f[fid]![5];
      if (entryLine !== undefined && entryLine >= 0) {
        fs.entryLine = this.site(entryLine);
        fs.entryLocals = entryLocalsOf(fs.info.params, fs.entryLine.locals);
      }
      this.fns[fid] = fs;
      for (let k = index.start[fid]!; k < index.start[fid + 1]!; k++) this.siteFns[index.sites[k]!] = fs;
    }
    return fs;
  }

  /** Distinct lines of the function's line sites, ascending. */
  lineSiteLines(fid: number): number[] {
    const lines = new Set<number>();
    for (const site of this.state(fid).info.sites) if (site.kind === "line") lines.add(site.line);
    return [...lines].sort((a, b) => a - b);
  }

  /** FunctionInfo for every function, reusing the ones already built; one pass over `s`. */
  allInfos(): FunctionInfo[] {
    const perFn: SiteInfo[][] = this.f.map(() => []);
    for (let id = 0; id < this.n; id++) {
      const fid = this.s[id * SITE_STRIDE + 1]!;
      if (this.fns[fid] === undefined) perFn[fid]!.push(this.site(id));
    }
    return perFn.map((sites, fid) => this.fns[fid]?.info ?? this.makeInfo(fid, sites));
  }

  /**
   * Switches the function's flags to exactly what its active watches need: the entry site whenever
   * any watch is active, return/end/throw when any wants exits, line sites on requested lines.
   * Writes only flags whose value changes.
   */
  applyFlags(fs: FunctionState): void {
    const index = this.activate();
    const watches = fs.watches;
    const any = watches.length > 0;
    let exits = false;
    let allLines = false;
    let timing = false;
    const lines = new Set<number>();
    for (const w of watches) {
      if (w.exits) exits = true;
      if (w.timing) timing = true;
      if (w.lines === "all") allLines = true;
      else for (const line of w.lines) lines.add(line);
    }
    fs.timing = timing;
    fs.sole = watches.length === 1 ? watches[0] : undefined;
    const s = this.s;
    const entryLine = fs.entryLine === undefined ? -1 : fs.entryLine.id;
    for (let k = index.start[fs.id]!; k < index.start[fs.id + 1]!; k++) {
      const id = index.sites[k]!;
      const kind = s[id * SITE_STRIDE]!;
      const want =
        any &&
        (kind === SiteKind.entry || (kind === SiteKind.line ? allLines || lines.has(s[id * SITE_STRIDE + 2]!) : exits));
      if (id === entryLine) {
        // No code reads this flag: the entry hook serves the line.
        fs.entryLineOn = want;
        continue;
      }
      if ((index.on[id] === 1) !== want) {
        index.on[id] = want ? 1 : 0;
        writeFlag(this.hash, id, want);
      }
    }
    // An outlined function runs its instrumented copy while any watch is on (the entry site is).
    // Never on while an instance lacks its deferred copies (the registry makes them first).
    const outlineFlag = this.f[fs.id]![6];
    const outlineOn = any && !this.needsCopies(fs.id);
    if (outlineFlag !== undefined && (index.on[outlineFlag] === 1) !== outlineOn) {
      index.on[outlineFlag] = outlineOn ? 1 : 0;
      writeFlag(this.hash, outlineFlag, outlineOn);
    }
  }

  /** Whether function `fid` is outlined and some instance of the module still lacks its copies. */
  needsCopies(fid: number): boolean {
    return this.f[fid]![6] !== undefined && this.deferred.some((d) => !d.done);
  }

  /**
   * Evaluates the deferred copy text of every instance that lacks it: found by its hash, checked
   * against it, handed to the instance's binder (docs/site-abi.md, "Deferred copies"). Returns the
   * first failure (the instances after it are left for the next attempt); never throws.
   */
  makeCopies(): CopiesUnavailableError | undefined {
    for (const d of this.deferred) {
      if (d.done) continue;
      const found = findCopies(d.table.c!);
      if ("problem" in found) return new CopiesUnavailableError(this.module, found.problem);
      try {
        d.bind(this.hooks.e, this.hooks.l, this.hooks.x, this.hooks.t, found.text);
      } catch (err) {
        return new CopiesUnavailableError(this.module, `evaluating its copy text failed: ${describeError(err)}`, {
          cause: err,
        });
      }
      d.done = true;
      this.copiesMade = true;
    }
    return undefined;
  }

  /** Whether the registry has switched a site on (false before the module was ever watched). */
  isOn(site: number): boolean {
    return this.index?.on[site] === 1;
  }

  private activate(): ActiveIndex {
    if (this.index !== undefined) return this.index;
    // The flags its code did not read at load (table `l`: the copies' sites and the entry-line
    // sites): defined now, before any flag of the module is written and so before a copy can run.
    if (this.lazyFlags) defineFlags(this.hash, this.flagCount);
    const nf = this.f.length;
    const s = this.s;
    const start = new Uint32Array(nf + 1);
    for (let id = 0; id < this.n; id++) start[s[id * SITE_STRIDE + 1]! + 1]!++;
    for (let fid = 0; fid < nf; fid++) start[fid + 1]! += start[fid]!;
    const fill = start.slice(0, nf);
    const sites = new Uint32Array(this.n);
    for (let id = 0; id < this.n; id++) sites[fill[s[id * SITE_STRIDE + 1]!]!++] = id;
    this.fns = new Array<FunctionState | undefined>(nf).fill(undefined);
    this.siteInfo = new Array<SiteInfo | undefined>(this.n).fill(undefined);
    this.siteFns = new Array<FunctionState | undefined>(this.n).fill(undefined);
    this.index = { start, sites, on: new Uint8Array(this.flagCount) };
    return this.index;
  }

  private site(id: number): SiteInfo {
    const cached = this.siteInfo[id];
    if (cached !== undefined) return cached;
    const o = id * SITE_STRIDE;
    const s = this.s;
    const li = s[o + 4]!;
    const info: SiteInfo = {
      id,
      kind: SITE_KIND_NAMES[s[o]!]!,
      line: s[o + 2]!,
      column: s[o + 3]!,
      locals: li >= 0 ? this.locals(li) : NO_NAMES,
    };
    // Cache only once the module is active (the hooks read `siteInfo` by site id).
    if (this.index !== undefined) this.siteInfo[id] = info;
    return info;
  }

  private makeInfo(fid: number, sites: SiteInfo[]): FunctionInfo {
    const [path, line, column, flags, params] = this.f[fid]!;
    return {
      qualifiedName: this.module + ":" + path,
      module: this.module,
      path,
      line,
      column,
      flags,
      params,
      sites,
    };
  }
}

/** Where each local of an entry-served line site takes its value from at entry (see `FunctionState.entryLocals`). */
function entryLocalsOf(params: readonly string[], locals: readonly string[]): ([number, string | null] | null)[] {
  const where = new Map<string, [number, string | null]>();
  for (let i = 0; i < params.length; i++) {
    for (const { name, field } of parseParameter(params[i]!).names)
      if (name !== "") where.set(name, [i, field ?? null]);
  }
  return locals.map((name) => where.get(name) ?? null);
}
