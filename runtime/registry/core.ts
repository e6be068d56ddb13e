/**
 * The registry of one realm: module records by hash and by module path, pending watches, and the
 * bookkeeping that turns watches into flag values. One instance lives in the global slot and is
 * shared by every copy of the package (see global-slot.ts), so its public methods form the
 * SharedRegistry interface.
 *
 * Invariants:
 * - a flag is true exactly when an active watch needs its site (entry: any watch on the function;
 *   return/end/throw: a watch with exits; line: a watch asking for that line);
 * - a watch is in `all` while pending or active, bound to functions only while active, and in the
 *   pending index only while pending.
 */
import { isNativeError } from "node:util/types";
import { describeError } from "../../errors/index.js";
import {
  ABI_VERSION,
  DEFERRED_COPIES_ABI,
  replacesArguments,
  siteCount,
  type HookBinder,
  type ModuleTable,
} from "../../abi/index.js";
import {
  type CopiesUnavailableError,
  InvalidOptionsError,
  InvalidTargetError,
  LineNotFoundError,
  TargetNotFoundError,
} from "./errors.js";
import { defineFlags } from "./flags.js";
import { ModuleRecord, RECORD } from "./module-record.js";
import { nearest } from "./suggest.js";
import type { FunctionInfo, SharedRegistry, TargetLookup, Watch, Watcher, WatchOptions } from "./types.js";
import { decodeTable, hasUsableFlagFields } from "./validate.js";
import { parseOptions, WatchImpl, type ParsedOptions, type WatchHost } from "./watch.js";

/** Inert record for refused tables: their hooks find no function and return at once. */
const INERT = new ModuleRecord(
  { abi: ABI_VERSION, h: "", m: "", p: "", n: 0, f: "[]", s: "", v: "" },
  { f: [], s: new Int32Array(0), load: undefined },
);

function warn(message: string): void {
  try {
    process.emitWarning(message, { code: "DIAGNOSE_BAD_TABLE" });
  } catch {
    // No process (or a broken one): a warning is not worth an exception in a module header.
  }
}

/** Whether a target has a non-empty module and path around some ":". */
function isQualifiedName(target: unknown): target is string {
  if (typeof target !== "string") return false;
  const i = target.indexOf(":");
  return i > 0 && i < target.length - 1;
}

export class Registry implements SharedRegistry, WatchHost {
  readonly abi = ABI_VERSION;
  readonly protocol = 3;
  private readonly byHash = new Map<string, ModuleRecord>();
  private readonly byModule = new Map<string, ModuleRecord[]>();
  /** Candidate module path → pending watches (a target "a:b:c" waits under "a" and "a:b"). */
  private readonly pending = new Map<string, Set<WatchImpl>>();
  /** Pending and active watches. */
  private readonly all = new Set<WatchImpl>();

  /**
   * Called by every instrumented module's header with its table and the binder of its hook
   * bindings; never throws into it.
   */
  register(table: ModuleTable, bind?: HookBinder): ModuleTable {
    try {
      return this.registerUnsafe(table, bind);
    } catch (err) {
      warn(`diagnose: could not register a module table: ${describeError(err)}`);
      return table;
    }
  }

  watch(target: string, watcher: Watcher, options?: WatchOptions): Watch {
    const w = new WatchImpl(target, watcher, this);
    if (!isQualifiedName(target)) return w.failEarly(new InvalidTargetError(String(target)));
    if (typeof watcher !== "object" || watcher === null) {
      return w.failEarly(new InvalidOptionsError(`The watcher of ${JSON.stringify(target)} must be an object.`));
    }
    try {
      const parsed = parseOptions(options);
      w.exits = parsed.exits;
      w.setLines(parsed.lines);
      w.timing = parsed.timing;
    } catch (err) {
      return w.failEarly(err as Error);
    }
    this.all.add(w);
    try {
      this.resolve(w);
    } catch (err) {
      // A bug of ours must not escape into the caller's start-up path: report it on the watch.
      if (w.state === "active") this.detach(w);
      else this.forgetPending(w);
      w.failEarly(isNativeError(err) ? err : new Error(describeError(err)));
    }
    return w;
  }

  listFunctions(): FunctionInfo[] {
    const out: FunctionInfo[] = [];
    for (const rec of this.byHash.values()) out.push(...rec.allInfos());
    return out;
  }

  lookup(target: string): TargetLookup {
    let missingIn: readonly ModuleRecord[] | undefined;
    let firstModule = target;
    if (isQualifiedName(target)) {
      firstModule = target.slice(0, target.indexOf(":"));
      for (let i = target.indexOf(":"); i !== -1; i = target.indexOf(":", i + 1)) {
        const recs = this.byModule.get(target.slice(0, i));
        if (recs === undefined) continue;
        const path = target.slice(i + 1);
        for (let k = recs.length - 1; k >= 0; k--) {
          const rec = recs[k]!;
          const fid = rec.findFunction(path);
          if (fid >= 0) return { state: "found", fn: rec.state(fid).info };
        }
        missingIn ??= recs;
      }
    }
    if (missingIn !== undefined) {
      const names = new Set<string>();
      for (const rec of missingIn) for (let fid = 0; fid < rec.functionCount; fid++) names.add(rec.qualifiedName(fid));
      return { state: "missing", nearest: nearest(target, names, 3) };
    }
    return { state: "not-loaded", nearest: nearest(firstModule, this.byModule.keys(), 3) };
  }

  resetForTests(): void {
    for (const w of [...this.all]) w.close();
    for (const rec of this.byHash.values()) rec.lastFault = undefined;
  }

  // -- WatchHost ---------------------------------------------------------------------------------

  reconfigure(w: WatchImpl, options: ParsedOptions): void {
    const primary = w.bound[0];
    if (primary !== undefined) this.checkLines(w.target, primary.record, primary.id, options.lines);
    w.exits = options.exits;
    w.setLines(options.lines);
    w.timing = options.timing;
    for (const fs of w.bound) fs.record.applyFlags(fs);
  }

  detach(w: WatchImpl): void {
    w.live = false;
    this.all.delete(w);
    const bound = w.bound;
    w.bound = [];
    for (const fs of bound) {
      fs.watches = fs.watches.filter((x) => x !== w);
      fs.record.applyFlags(fs);
    }
  }

  forgetPending(w: WatchImpl): void {
    this.all.delete(w);
    for (const key of w.pendingKeys) {
      const set = this.pending.get(key);
      if (set === undefined) continue;
      set.delete(w);
      if (set.size === 0) this.pending.delete(key);
    }
    w.pendingKeys = [];
  }

  // -- internals ---------------------------------------------------------------------------------

  private registerUnsafe(table: ModuleTable, bind: HookBinder | undefined): ModuleTable {
    // Already registered (a module instance registering the same table object again).
    if (typeof table === "object" && table !== null && RECORD in table) {
      this.link(table, bind, (table as { [RECORD]: ModuleRecord })[RECORD]);
      return table;
    }
    const decoded =
      typeof bind === "function"
        ? decodeTable(table)
        : "its header passed no hook binder (a module built for another ABI version?)";
    if (typeof decoded === "string") {
      const problem = decoded;
      // Define the flags anyway if we can: the module's guards read them as plain identifiers and
      // would throw a ReferenceError otherwise. They stay false, so its hooks are never called.
      if (hasUsableFlagFields(table)) defineFlags(table.h, table.n);
      warn(`diagnose: refused the site table of ${describe(table)}: ${problem}. Its probes stay off.`);
      this.link(table, bind, INERT);
      return table;
    }
    // Only the flags the module's code reads now (table `l`); the record defines the rest when the
    // module is first watched.
    defineFlags(table.h, table.n, decoded.load);
    const known = this.byHash.get(table.h);
    if (known !== undefined) {
      if (known.flagCount !== table.n || known.n !== siteCount(table) || known.module !== table.m) {
        warn(
          `diagnose: refused the site table of ${describe(table)}: its hash ${table.h} is already used by ` +
            `${JSON.stringify(known.module)} with ${known.n} sites. Its probes stay off.`,
        );
        this.link(table, bind, INERT);
        return table;
      }
      // Another instance of the same module (CJS and ESM): same flags, same watchers.
      known.tables.push(table);
      if (!replacesArguments(table)) known.replaceArgs = false;
      this.link(table, bind, known);
      return table;
    }
    const rec = new ModuleRecord(table, decoded);
    // Bound before it is registered: a module whose hooks could not be bound never gets a record,
    // so no watch can switch its flags on.
    if (!this.link(table, bind, rec)) return table;
    rec.tables.push(table);
    this.byHash.set(table.h, rec);
    const siblings = this.byModule.get(rec.module);
    if (siblings === undefined) this.byModule.set(rec.module, [rec]);
    else {
      siblings.push(rec);
      this.extendToNewVersion(rec, siblings);
    }
    this.attachPending(rec.module);
    return table;
  }

  /**
   * Links a table to its record and fills the module's hook bindings; false if the binder threw
   * (the table is then linked to the inert record). The binder is generated code (`$dgE = e; …`),
   * so that only happens to a tampered header; a second instance of an already registered module
   * whose binder throws shares the flags of the first and would find no hooks if they went on.
   */
  private link(table: ModuleTable, bind: HookBinder | undefined, rec: ModuleRecord): boolean {
    let bound = true;
    if (typeof bind === "function") {
      try {
        bind(rec.hooks.e, rec.hooks.l, rec.hooks.x, rec.hooks.t);
      } catch (err) {
        warn(`diagnose: could not bind the hooks of ${describe(table)}: ${describeError(err)}. Its probes stay off.`);
        rec = INERT;
        bound = false;
      }
    }
    if (bound && rec !== INERT && typeof bind === "function" && table.abi === DEFERRED_COPIES_ABI) {
      // Its copies are deferred: made when a probe first needs an outlined function, and at once
      // if another instance of the module already has them (their flags may be on).
      rec.deferred.push({ table, bind, done: false });
      if (rec.copiesMade) {
        const error = rec.makeCopies();
        if (error !== undefined) this.failOutlinedWatches(rec, error);
      }
    }
    if (typeof table === "object" && table !== null && Object.isExtensible(table))
      (table as { [RECORD]?: ModuleRecord })[RECORD] = rec;
    return bound;
  }

  /** A module path registered again with other content (e.g. hot reload): active watches follow. */
  private extendToNewVersion(rec: ModuleRecord, siblings: readonly ModuleRecord[]): void {
    for (const old of siblings) {
      if (old === rec) continue;
      for (const fs of old.fns) {
        if (fs === undefined) continue;
        for (const w of fs.watches) {
          if (w.bound.some((b) => b.record === rec)) continue;
          const fid = rec.findFunction(fs.info.path);
          if (fid < 0) continue;
          const error = this.copiesFor(rec, fid);
          if (error !== undefined) warn(`diagnose: ${error.message}`);
          else this.bind(w, rec, fid);
        }
      }
    }
  }

  private attachPending(module: string): void {
    const waiting = this.pending.get(module);
    if (waiting === undefined) return;
    const changed: WatchImpl[] = [];
    for (const w of [...waiting]) {
      this.forgetPending(w);
      this.all.add(w);
      this.resolve(w);
      if (w.state !== "pending") changed.push(w);
    }
    // Notices last, once every waiting watch is settled: a watcher may call back into the registry.
    for (const w of changed) w.notifyState();
  }

  /** pending → active | failed | (stays) pending. */
  private resolve(w: WatchImpl): void {
    const target = w.target;
    const waitKeys: string[] = [];
    let loaded: { recs: readonly ModuleRecord[]; path: string } | undefined;
    for (let i = target.indexOf(":"); i !== -1; i = target.indexOf(":", i + 1)) {
      const module = target.slice(0, i);
      const recs = this.byModule.get(module);
      if (recs === undefined) {
        waitKeys.push(module);
        continue;
      }
      const path = target.slice(i + 1);
      const matches: { rec: ModuleRecord; fid: number }[] = [];
      for (const rec of recs) {
        const fid = rec.findFunction(path);
        if (fid >= 0) matches.push({ rec, fid });
      }
      if (matches.length > 0) {
        this.attach(w, matches);
        return;
      }
      loaded ??= { recs, path };
    }
    if (loaded !== undefined) {
      const names = new Set<string>();
      for (const rec of loaded.recs)
        for (let fid = 0; fid < rec.functionCount; fid++) names.add(rec.qualifiedName(fid));
      this.all.delete(w);
      w.failEarly(new TargetNotFoundError(target, nearest(target, names, 3)));
      return;
    }
    w.state = "pending";
    w.pendingKeys = waitKeys;
    for (const key of waitKeys) {
      let set = this.pending.get(key);
      if (set === undefined) this.pending.set(key, (set = new Set()));
      set.add(w);
    }
  }

  private attach(w: WatchImpl, all: readonly { rec: ModuleRecord; fid: number }[]): void {
    const primary = all[0]!;
    try {
      this.checkLines(w.target, primary.rec, primary.fid, w.lines);
    } catch (err) {
      this.all.delete(w);
      w.failEarly(err as Error);
      return;
    }
    // An outlined function with deferred copies: its copies first (its sites are only in them).
    const primaryError = this.copiesFor(primary.rec, primary.fid);
    if (primaryError !== undefined) {
      this.all.delete(w);
      w.failEarly(primaryError);
      return;
    }
    const matches = all.filter((m, i) => {
      if (i === 0) return true;
      const error = this.copiesFor(m.rec, m.fid);
      if (error !== undefined) warn(`diagnose: ${error.message}`);
      return error === undefined;
    });
    w.state = "active";
    w.live = true;
    w.info = primary.rec.state(primary.fid).info;
    for (const { rec, fid } of matches) this.bind(w, rec, fid);
  }

  /** Makes the deferred copies a watch of `fid` needs; the failure, if any. */
  private copiesFor(rec: ModuleRecord, fid: number): CopiesUnavailableError | undefined {
    return rec.needsCopies(fid) ? rec.makeCopies() : undefined;
  }

  /**
   * A module instance linked after the copies were made could not make its own: the outlined
   * functions' flags, shared by every instance, must go off (its guards would call no copy), so
   * their watches fail with `error`.
   */
  private failOutlinedWatches(rec: ModuleRecord, error: CopiesUnavailableError): void {
    warn(`diagnose: ${error.message}`);
    for (const fs of rec.fns) {
      if (fs === undefined || rec.f[fs.id]![6] === undefined) continue;
      for (const w of fs.watches) {
        if (w.state !== "active") continue;
        this.detach(w);
        w.state = "failed";
        w.error = error;
        w.report(error, "entry");
        w.notifyState();
      }
      // Flags off even with no watch left to fail (applyFlags keeps them off while copies lack).
      rec.applyFlags(fs);
    }
  }

  private bind(w: WatchImpl, rec: ModuleRecord, fid: number): void {
    const fs = rec.state(fid);
    fs.watches = [...fs.watches, w];
    w.bound.push(fs);
    rec.applyFlags(fs);
  }

  private checkLines(target: string, rec: ModuleRecord, fid: number, lines: ReadonlySet<number> | "all"): void {
    if (lines === "all" || lines.size === 0) return;
    const available = rec.lineSiteLines(fid);
    const missing = [...lines].filter((l) => !available.includes(l)).sort((a, b) => a - b);
    if (missing.length > 0) throw new LineNotFoundError(target, missing, available);
  }
}

/** The module path of a table for a warning; never throws (a hostile table may be a Proxy). */
function describe(table: unknown): string {
  try {
    const m = typeof table === "object" && table !== null ? (table as { m?: unknown }).m : undefined;
    return typeof m === "string" ? JSON.stringify(m) : "a module";
  } catch {
    return "a module";
  }
}
