/**
 * The hooks `e`, `l`, `x`, `t` of every registered module. They are the only registry code on the
 * hot path of a switched-on site, so:
 * - each module gets one set of small closures over its record (`hooksFor`), made once; the
 *   generated code calls them through module-scope bindings (`$dgE(...)`), and they call the
 *   shared functions below, so those see one call shape whatever the module;
 * - no closure is allocated per call; a call allocates its frame and the rest-parameter array of
 *   its arguments or locals (the generated code passes them as separate arguments) and nothing else;
 * - watcher methods are read from WatchImpl (one class), not from arbitrary watcher objects; a
 *   watcher whose methods cannot change (`WatchImpl.fixed`, e.g. probes' Dispatcher) has them
 *   called as methods, a direct call, instead of through `.call`, a generic one;
 * - rare paths (decisions, faults, errors) live in separate functions so the loops stay small.
 *
 * - boolean fields are tested with `=== true` / `!== true`: they only ever hold booleans, but
 *   TurboFan does not know that of a field, and a bare `if (w.live)` compiles to the full
 *   ToBoolean ladder (false, "", number, bigint… about ten instructions per test per hit).
 *
 * Invariant: nothing leaves a hook except a fault a watcher asked for.
 */
import { performance } from "node:perf_hooks";
import type { FrameABI, ModuleHooks } from "../../abi/index.js";
import { PauseNotAwaitableError, WatcherError } from "./errors.js";
import { Frame, NO_FRAME } from "./frames.js";
import type { FunctionState, ModuleRecord } from "./module-record.js";
import type { SiteDecision, SiteInfo } from "./types.js";
import type { WatchImpl, Where } from "./watch.js";

/** The state of the site's function (undefined until a watch made it, or for an unknown site). */
function stateOf(rec: ModuleRecord, site: number): FunctionState | undefined {
  return rec.siteFns[site];
}

function asFrame(frame: FrameABI | undefined): Frame | undefined {
  return frame instanceof Frame ? frame : undefined;
}

// ---------------------------------------------------------------------------------------------
// inlining barrier

/**
 * Why every hook body starts with `if (site < 0) outOfLine(...)`: TurboFan inlines a callee of at
 * most 460 bytes of bytecode (V8's --max-inlined-bytecode-size) wherever the caller has call
 * feedback for it. After a probe is switched off, the hook calls in the probed function keep the
 * feedback of the time it was on, and its flags are no longer folded to constants (a global that
 * was written stays a variable for V8; deleting and redefining it was measured not to help), so
 * TurboFan copied the whole hook (hookEntry, the Frame constructor, stateOf…) into the function's
 * never-taken branches and spent the caller's inlining budget on it. Measured in instructions per
 * operation (callgrind), the class-heavy benchmark ran at 1.55× the never-touched build after an
 * on→off cycle; with the hooks kept above the limit, 1.00×. The price is one real call per hit
 * while a probe is on (~2 ns). `site` is never negative, so the block never runs; its arithmetic
 * is there for its size (test/runtime/hooks-inlining.test.ts checks every hook stays above 460 B).
 */
function outOfLine(site: number): never {
  throw new RangeError(`diagnose: invalid site id ${site}`);
}

// ---------------------------------------------------------------------------------------------
// entry

function hookEntry(rec: ModuleRecord, site: number, self: unknown, args: unknown[]): FrameABI {
  if (site < 0)
    outOfLine(
      site * 1 +
        site * 2 +
        site * 3 +
        site * 4 +
        site * 5 +
        site * 6 +
        site * 7 +
        site * 8 +
        site * 9 +
        site * 10 +
        site * 11 +
        site * 12 +
        site * 13 +
        site * 14 +
        site * 15 +
        site * 16 +
        site * 17 +
        site * 18 +
        site * 19 +
        site * 20 +
        site * 21 +
        site * 22 +
        site * 23 +
        site * 24 +
        site * 25 +
        site * 26 +
        site * 27 +
        site * 28 +
        site * 29 +
        site * 30 +
        site * 31 +
        site * 32 +
        site * 33 +
        site * 34 +
        site * 35 +
        site * 36 +
        site * 37 +
        site * 38 +
        site * 39 +
        site * 40 +
        site * 41 +
        site * 42 +
        site * 43 +
        site * 44 +
        site * 45 +
        site * 46 +
        site * 47 +
        site * 48 +
        site * 49 +
        site * 50 +
        site * 51 +
        site * 52 +
        site * 53 +
        site * 54 +
        site * 55 +
        site * 56 +
        site * 57 +
        site * 58 +
        site * 59 +
        site * 60 +
        site * 61 +
        site * 62 +
        site * 63 +
        site * 64 +
        site * 65 +
        site * 66 +
        site * 67 +
        site * 68 +
        site * 69 +
        site * 70 +
        site * 71 +
        site * 72 +
        site * 73 +
        site * 74 +
        site * 75 +
        site * 76 +
        site * 77 +
        site * 78 +
        site * 79 +
        site * 80,
    );
  const fs = stateOf(rec, site);
  if (fs === undefined || fs.watches.length === 0) return NO_FRAME;
  // The clock read is most of the cost of a bare entry (~40 ns on Node 20): skipped when no
  // watch asked for timing.
  const frame = new Frame(fs.info, self, args, fs.timing === true ? performance.now() : NaN);
  // One watch (the usual case): no loop (~10 instructions per hit), and enterWatch's body written
  // out here rather than called. As a call, whether TurboFan inlined it depended on which of the
  // two was optimized first: after a full GC deoptimized both ("weak objects"), enterWatch was
  // compiled alone with the watcher's onEntry inlined into it, hookEntry then refused it as too
  // big, and a no-op "call" hit cost 619 instructions instead of 493 (test/perf/hit-instructions.ts,
  // which now collects garbage before measuring). Written out, it is 488 either way.
  const sole = fs.sole;
  if (sole !== undefined) {
    if (sole.onEntry !== undefined && sole.live === true) {
      let d: SiteDecision | void;
      try {
        d = sole.fixed === true ? sole.watcher.onEntry!(frame) : sole.onEntry.call(sole.watcher, frame);
      } catch (err) {
        sole.fail(err, "entry");
        d = undefined;
      }
      if (d !== undefined && d !== null) entryDecision(fs, frame, sole, d);
    }
  } else {
    const ws = fs.watches;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]!;
      if (w.onEntry !== undefined && w.live === true) enterWatch(fs, frame, w);
    }
  }
  if (frame.fault !== undefined) {
    rec.lastFault = { error: frame.fault.error, frame };
    throw frame.fault.error;
  }
  // The first statement's line, which the entry site serves: after the entry watchers ran.
  if (fs.entryLineOn === true) entryLine(rec, fs, frame);
  return frame;
}

/** One watch's onEntry, guarded, and its decision (the loop over several watches; the sole watch's is written out in hookEntry). */
function enterWatch(fs: FunctionState, frame: Frame, w: WatchImpl): void {
  let d: SiteDecision | void;
  try {
    d = w.fixed === true ? w.watcher.onEntry!(frame) : w.onEntry!.call(w.watcher, frame);
  } catch (err) {
    w.fail(err, "entry");
    return;
  }
  if (d !== undefined && d !== null) entryDecision(fs, frame, w, d);
}

/** The line event of the body's first statement, dispatched from the entry hook. */
function entryLine(rec: ModuleRecord, fs: FunctionState, frame: Frame): void {
  const where = fs.entryLocals;
  const args = frame.args;
  const replaced = frame.a;
  const locals = new Array<unknown>(where.length);
  for (let i = 0; i < where.length; i++) {
    const w = where[i];
    if (w === null || w === undefined) continue;
    if (w[1] === null) locals[i] = replaced !== undefined ? replaced[w[0]] : args[w[0]];
    else {
      const o = args[w[0]];
      locals[i] = o === null || o === undefined ? undefined : (o as Record<string, unknown>)[w[1]];
    }
  }
  let pause: Promise<unknown> | undefined;
  try {
    pause = dispatchLine(fs, fs.entryLine!, frame, locals);
  } catch (error) {
    // A fault asked for at the line: it leaves the entry hook, so the throw site gets no frame.
    rec.lastFault = { error, frame };
    throw error;
  }
  if (pause !== undefined) frame.w = joinPause(frame.w, pause);
}

function entryDecision(fs: FunctionState, frame: Frame, w: WatchImpl, d: SiteDecision): void {
  if (typeof d !== "object") return;
  const { args, pause } = d;
  if (args !== undefined) {
    if (!Array.isArray(args)) {
      w.fail(
        new WatcherError(`onEntry of ${JSON.stringify(w.target)} returned \`args\` that is not an array.`),
        "entry",
      );
      return;
    }
    if (!fs.record.replaceArgs) {
      w.fail(
        new WatcherError(
          `onEntry of ${JSON.stringify(w.target)} returned \`args\`, but ${fs.info.qualifiedName} was built without ` +
            `\`replaceArguments\` (an instrument() / plugin option), so its arguments cannot be replaced.`,
        ),
        "entry",
      );
      return;
    }
    frame.a = args;
  }
  if (pause !== undefined) {
    if (fs.async) frame.w = joinPause(frame.w, guardPause(w, pause, "entry"));
    else w.report(new PauseNotAwaitableError(fs.info.qualifiedName), "entry");
  }
  if (d.throw !== undefined && frame.fault === undefined) frame.fault = faultOf(w, d.throw, "entry");
}

// ---------------------------------------------------------------------------------------------
// line

function hookLine(
  rec: ModuleRecord,
  site: number,
  frame: FrameABI | undefined,
  locals: unknown[],
): Promise<unknown> | undefined {
  if (site < 0)
    outOfLine(
      site * 1 +
        site * 2 +
        site * 3 +
        site * 4 +
        site * 5 +
        site * 6 +
        site * 7 +
        site * 8 +
        site * 9 +
        site * 10 +
        site * 11 +
        site * 12 +
        site * 13 +
        site * 14 +
        site * 15 +
        site * 16 +
        site * 17 +
        site * 18 +
        site * 19 +
        site * 20 +
        site * 21 +
        site * 22 +
        site * 23 +
        site * 24 +
        site * 25 +
        site * 26 +
        site * 27 +
        site * 28 +
        site * 29 +
        site * 30 +
        site * 31 +
        site * 32 +
        site * 33 +
        site * 34 +
        site * 35 +
        site * 36 +
        site * 37 +
        site * 38 +
        site * 39 +
        site * 40 +
        site * 41 +
        site * 42 +
        site * 43 +
        site * 44 +
        site * 45 +
        site * 46 +
        site * 47 +
        site * 48 +
        site * 49 +
        site * 50 +
        site * 51 +
        site * 52 +
        site * 53 +
        site * 54 +
        site * 55 +
        site * 56 +
        site * 57 +
        site * 58 +
        site * 59 +
        site * 60 +
        site * 61 +
        site * 62 +
        site * 63 +
        site * 64 +
        site * 65 +
        site * 66 +
        site * 67 +
        site * 68 +
        site * 69 +
        site * 70 +
        site * 71 +
        site * 72 +
        site * 73 +
        site * 74 +
        site * 75 +
        site * 76 +
        site * 77 +
        site * 78 +
        site * 79 +
        site * 80,
    );
  const fs = stateOf(rec, site);
  if (fs === undefined) return undefined;
  return dispatchLine(fs, rec.siteInfo[site]!, asFrame(frame), locals);
}

/** Runs the line watchers; returns what to await (async functions), throws a requested fault. */
function dispatchLine(
  fs: FunctionState,
  info: SiteInfo,
  f: Frame | undefined,
  locals: unknown[],
): Promise<unknown> | undefined {
  const ws = fs.watches;
  let pause: Promise<unknown> | undefined;
  let fault: { error: unknown } | undefined;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    if (w.onLine === undefined || w.live !== true || (w.lineAll !== true && w.lineOn[info.line] !== 1)) continue;
    let d: SiteDecision | void;
    try {
      d = w.fixed === true ? w.watcher.onLine!(f, info, locals) : w.onLine.call(w.watcher, f, info, locals);
    } catch (err) {
      w.fail(err, "line");
      continue;
    }
    if (d !== undefined && d !== null && typeof d === "object") {
      if (d.pause !== undefined) {
        if (fs.async) pause = joinPause(pause, guardPause(w, d.pause, "line"));
        else w.report(new PauseNotAwaitableError(fs.info.qualifiedName), "line");
      }
      if (d.throw !== undefined && fault === undefined) fault = faultOf(w, d.throw, "line");
    }
  }
  if (fault !== undefined) throw fault.error;
  return pause;
}

// ---------------------------------------------------------------------------------------------
// return / end

function hookExit(
  rec: ModuleRecord,
  site: number,
  frame: FrameABI | undefined,
  value: unknown,
  locals: unknown[],
): unknown {
  if (site < 0)
    outOfLine(
      site * 1 +
        site * 2 +
        site * 3 +
        site * 4 +
        site * 5 +
        site * 6 +
        site * 7 +
        site * 8 +
        site * 9 +
        site * 10 +
        site * 11 +
        site * 12 +
        site * 13 +
        site * 14 +
        site * 15 +
        site * 16 +
        site * 17 +
        site * 18 +
        site * 19 +
        site * 20 +
        site * 21 +
        site * 22 +
        site * 23 +
        site * 24 +
        site * 25 +
        site * 26 +
        site * 27 +
        site * 28 +
        site * 29 +
        site * 30 +
        site * 31 +
        site * 32 +
        site * 33 +
        site * 34 +
        site * 35 +
        site * 36 +
        site * 37 +
        site * 38 +
        site * 39 +
        site * 40 +
        site * 41 +
        site * 42 +
        site * 43 +
        site * 44 +
        site * 45 +
        site * 46 +
        site * 47 +
        site * 48 +
        site * 49 +
        site * 50 +
        site * 51 +
        site * 52 +
        site * 53 +
        site * 54 +
        site * 55 +
        site * 56 +
        site * 57 +
        site * 58 +
        site * 59 +
        site * 60 +
        site * 61 +
        site * 62 +
        site * 63 +
        site * 64 +
        site * 65 +
        site * 66 +
        site * 67 +
        site * 68 +
        site * 69 +
        site * 70 +
        site * 71 +
        site * 72 +
        site * 73 +
        site * 74 +
        site * 75 +
        site * 76 +
        site * 77 +
        site * 78 +
        site * 79 +
        site * 80,
    );
  const fs = stateOf(rec, site);
  if (fs === undefined) return value;
  const info = rec.siteInfo[site]!;
  const f = asFrame(frame);
  const ws = fs.watches;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    if (w.onReturn === undefined || w.live !== true || w.exits !== true) continue;
    let r: { value: unknown } | { throw: { error: unknown } } | void;
    try {
      r =
        w.fixed === true
          ? w.watcher.onReturn!(f, info, value, locals)
          : w.onReturn.call(w.watcher, f, info, value, locals);
    } catch (err) {
      w.fail(err, "return");
      continue;
    }
    if (typeof r === "object" && r !== null) {
      if ("throw" in r) exitFault(w, r.throw);
      else value = r.value;
    }
  }
  return value;
}

/**
 * `{ throw: { error } }` from onReturn: the error leaves the function at its return site (and
 * passes its throw site like any exception), as an entry fault does at entry.
 */
function exitFault(w: WatchImpl, request: unknown): void {
  const fault = faultOf(w, request, "return");
  if (fault !== undefined) throw fault.error;
}

// ---------------------------------------------------------------------------------------------
// throw

function hookThrow(rec: ModuleRecord, site: number, frame: FrameABI | undefined, error: unknown): unknown {
  if (site < 0)
    outOfLine(
      site * 1 +
        site * 2 +
        site * 3 +
        site * 4 +
        site * 5 +
        site * 6 +
        site * 7 +
        site * 8 +
        site * 9 +
        site * 10 +
        site * 11 +
        site * 12 +
        site * 13 +
        site * 14 +
        site * 15 +
        site * 16 +
        site * 17 +
        site * 18 +
        site * 19 +
        site * 20 +
        site * 21 +
        site * 22 +
        site * 23 +
        site * 24 +
        site * 25 +
        site * 26 +
        site * 27 +
        site * 28 +
        site * 29 +
        site * 30 +
        site * 31 +
        site * 32 +
        site * 33 +
        site * 34 +
        site * 35 +
        site * 36 +
        site * 37 +
        site * 38 +
        site * 39 +
        site * 40 +
        site * 41 +
        site * 42 +
        site * 43 +
        site * 44 +
        site * 45 +
        site * 46 +
        site * 47 +
        site * 48 +
        site * 49 +
        site * 50 +
        site * 51 +
        site * 52 +
        site * 53 +
        site * 54 +
        site * 55 +
        site * 56 +
        site * 57 +
        site * 58 +
        site * 59 +
        site * 60 +
        site * 61 +
        site * 62 +
        site * 63 +
        site * 64 +
        site * 65 +
        site * 66 +
        site * 67 +
        site * 68 +
        site * 69 +
        site * 70 +
        site * 71 +
        site * 72 +
        site * 73 +
        site * 74 +
        site * 75 +
        site * 76 +
        site * 77 +
        site * 78 +
        site * 79 +
        site * 80,
    );
  let f = asFrame(frame);
  const fault = rec.lastFault;
  if (fault !== undefined) {
    // The entry hook threw a requested fault: this is the same call's throw site, which never
    // received its frame.
    rec.lastFault = undefined;
    if (f === undefined && fault.error === error) f = fault.frame;
  }
  const fs = stateOf(rec, site);
  if (fs === undefined) return error;
  const info = rec.siteInfo[site]!;
  const ws = fs.watches;
  for (let i = 0; i < ws.length; i++) {
    const w = ws[i]!;
    if (w.onThrow === undefined || w.live !== true || w.exits !== true) continue;
    let r: { error: unknown } | void;
    try {
      // The throw site passes no locals (the frame has the call's arguments).
      r = w.fixed === true ? w.watcher.onThrow!(f, info, error, []) : w.onThrow.call(w.watcher, f, info, error, []);
    } catch (err) {
      w.fail(err, "throw");
      continue;
    }
    // `{ error }` replaces what leaves the function; later watchers see the replacement.
    if (typeof r === "object" && r !== null && "error" in r) error = r.error;
  }
  return error;
}

// ---------------------------------------------------------------------------------------------
// rare paths

function faultOf(w: WatchImpl, request: unknown, where: Where): { error: unknown } | undefined {
  if (typeof request === "object" && request !== null && "error" in request) return { error: request.error };
  w.fail(new WatcherError(`A \`throw\` decision of ${JSON.stringify(w.target)} must be { error }.`), where);
  return undefined;
}

/**
 * The promise the function awaits. A rejected pause would throw into the user's function, so it
 * is turned into a watcher failure and the function goes on.
 */
function guardPause(w: WatchImpl, pause: unknown, where: Where): Promise<unknown> {
  return Promise.resolve(pause).then(faultAfterPause, (err: unknown) => {
    w.fail(err, where);
  });
}

/**
 * A pause that resolves to `{ throw: { error } }` throws that error into the function where it
 * awaited (a parked call whose own timeout passed). Any other value is ignored; a value whose
 * properties cannot be read safely is ignored too, so nothing else reaches the function.
 */
function faultAfterPause(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  let error: unknown;
  try {
    if (!("throw" in value)) return;
    const request = (value as { throw: unknown }).throw;
    if (typeof request !== "object" || request === null || !("error" in request)) return;
    error = (request as { error: unknown }).error;
  } catch {
    return;
  }
  throw error;
}

function joinPause(a: Promise<unknown> | undefined, b: Promise<unknown>): Promise<unknown> {
  return a === undefined ? b : Promise.all([a, b]);
}

/** The hooks of one module, made once per record. */
export function hooksFor(rec: ModuleRecord): ModuleHooks {
  return {
    e: (site, self, ...args) => hookEntry(rec, site, self, args),
    l: (site, frame, ...locals) => hookLine(rec, site, frame, locals),
    x: (site, frame, value, ...locals) => hookExit(rec, site, frame, value, locals),
    t: (site, frame, error) => hookThrow(rec, site, frame, error),
  };
}
