/**
 * Test harness for the transformer, in the spirit of magic-string's integrity-checking tests:
 * every instrument() goes through `instrumentChecked`, which re-parses the output and checks the
 * ABI invariants, so each test also proves the output is well-formed.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { makeTempFolder } from "../helpers/temp.js";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseSync, transformSync, type Options } from "@swc/core";
import {
  ABI_VERSION,
  INSTRUMENTED_MARKER,
  REGISTRY_KEY,
  SITE_STRIDE,
  decodeSites,
  type FrameABI,
  type HookBinder,
  type FunctionEntry,
  type ModuleTable,
} from "../../abi/index.js";
import { analyze, type Analysis } from "../../transformer/analyze.js";
import { instrument, type InstrumentOptions, type InstrumentResult } from "../../transformer/index.js";

export const ROOT = "/virtual/project";

/** Instruments and checks every invariant of the output; returns the result. */
export function instrumentChecked(code: string, filename: string, options: InstrumentOptions = {}): InstrumentResult {
  const result = instrument(code, filename, { root: ROOT, packageName: "fixture", ...options });
  if (result.skipped) return result;
  const out = result.code;
  const sites = result.sites!;
  const isTs = /\.[cm]?tsx?$/.test(filename);
  const tsx = /\.tsx$/.test(filename) || options.jsx === true;
  // 1. The output parses.
  assert.doesNotThrow(
    () =>
      parseSync(
        out,
        isTs
          ? { syntax: "typescript", tsx, decorators: true }
          : ({ syntax: "ecmascript", jsx: tsx, decorators: true, isModule: "unknown" } as never),
      ),
    `output of ${filename} does not parse:\n${out}`,
  );
  // 2. The marker is first (after a hashbang line).
  const body = out.startsWith("#!") ? out.slice(out.indexOf("\n") + 1) : out.replace(/^\uFEFF/, "");
  assert.ok(body.startsWith(INSTRUMENTED_MARKER), "marker first");
  // 3. The table matches the manifest, and every site id appears exactly once as a guard.
  const table = tableOf(out, sites.hash);
  const n = sites.functions.reduce((count, fn) => count + fn.sites.length, 0);
  const entries = JSON.parse(table.f) as FunctionEntry[];
  const outlineFlags = entries.flatMap((e) => (e[6] !== undefined ? [e[6]] : []));
  assert.equal(table.n, n + outlineFlags.length, "table n = number of sites + outlined functions");
  assert.equal(
    table.o,
    outlineFlags.length > 0 ? outlineFlags.length : undefined,
    "table o = number of outlined functions",
  );
  assert.deepEqual(
    [...outlineFlags].sort((a, b) => a - b),
    outlineFlags.map((_, k) => n + k),
    "outline flags follow the site flags",
  );
  assert.equal(decodeSites(table.s, n)?.length, n * SITE_STRIDE);
  assert.equal(entries.length, sites.functions.length);
  const counts = new Map<number, number>();
  for (const m of out.matchAll(new RegExp(`\\$dg_${sites.hash}_(\\d+)\\b`, "g")))
    counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
  // A line site the entry site serves (6th element of its function's entry) has no code.
  const entryServed = new Set(entries.flatMap((e) => (e[5] !== undefined && e[5] >= 0 ? [e[5]] : [])));
  // A function defined inside an outlined one has its code, guards included, in both bodies.
  const analysis = analyze(code, filename, { root: ROOT, packageName: "fixture", ...options }) as Analysis;
  const copies = (id: number) => (analysis.functions[analysis.sites[id]!.fn]!.duplicatedIn >= 0 ? 2 : 1);
  for (let id = 0; id < n; id++) {
    if (entryServed.has(id))
      assert.equal(counts.get(id), undefined, `site ${id} (served by the entry site) has no guard`);
    else assert.equal(counts.get(id), copies(id), `guard of site ${id} appears ${copies(id)} time(s)`);
  }
  // An outlined function's flag guards its plain body, once.
  for (const id of outlineFlags) assert.equal(counts.get(id), 1, `outline flag ${id} appears once`);
  assert.equal(counts.size, n - entryServed.size + outlineFlags.length, "no guard for a flag that is not in the table");
  // An outlined function's copy is created by the binder at the module's end, as a method-keyed
  // function that takes the original's name from its key: no statement renames it.
  assert.doesNotMatch(out, /defineProperty\(\$dg\w*O\d+/, "no copy is renamed");
  const binder = /\nvar \$dg\w*O\d+[^;]*; function (\$dg\w*)B\(/.exec(out);
  if (outlineFlags.length === 0) assert.equal(binder, null, "no binder declaration without outlined functions");
  else {
    assert.ok(binder, "the binder follows the module");
    const handle = binder[1]!;
    assert.ok(out.includes(`}, ${handle}B); } catch (e) {}`), "the header registers the binder");
    for (const [id, e] of entries.entries()) {
      if (e[6] === undefined) continue;
      assert.ok(
        out.indexOf(`${handle}O${id} = { "`, binder.index) > binder.index,
        `the binder creates the copy of ${e[0]}`,
      );
    }
  }
  // 4. Site ids are dense and ascending in the manifest.
  const ids = sites.functions.flatMap((fn) => fn.sites.map((s) => s.id)).sort((a, b) => a - b);
  assert.deepEqual(ids, [...Array(n).keys()]);
  // 5. A second pass is a no-op.
  const again = instrument(out, filename, { root: ROOT, packageName: "fixture", ...options });
  assert.equal(again.code, out);
  assert.equal(again.skipped, "already instrumented");
  return result;
}

/** The table literal registered by the header. */
export function tableOf(code: string, hash: string): ModuleTable {
  const start = code.indexOf(`.register({abi:`);
  assert.ok(start >= 0, "header registers a table");
  const from = start + ".register(".length;
  // The table is a literal of strings and numbers on one line, followed by the hook binder: a
  // function expression, or the name of the binder declared at the module's end (outlined functions).
  const end = from + /\}, (?:function \(e, l, x, t\) \{|\$dg\w*B\))/.exec(code.slice(from))!.index;
  const table = new Function(`return ${code.slice(from, end + 1)};`)() as ModuleTable;
  assert.equal(table.h, hash);
  return table;
}

/** Strips types with SWC (what a caller of `instrument` does next). */
export function compile(
  code: string,
  filename: string,
  module: "es6" | "commonjs",
  extra: Options["jsc"] = {},
): string {
  const isTs = /\.[cm]?tsx?$/.test(filename);
  const tsx = /\.[jt]sx$/.test(filename);
  return transformSync(code, {
    filename,
    sourceMaps: false,
    isModule: module === "es6" ? true : "unknown",
    jsc: {
      parser: isTs
        ? { syntax: "typescript", tsx, decorators: true }
        : { syntax: "ecmascript", jsx: tsx, decorators: true },
      target: "es2022",
      ...extra,
    },
    module: { type: module, ...(module === "commonjs" ? { strictMode: false } : {}) },
  } as Options).code;
}

let tempRoot: string | undefined;
let counter = 0;

/** Writes a file into a fresh temp folder and returns its path. */
export function writeTemp(name: string, code: string): string {
  tempRoot ??= makeTempFolder("transformer");
  const dir = join(tempRoot, String(counter++));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, code);
  return file;
}

export async function importTemp<T>(name: string, code: string): Promise<T> {
  return (await import(pathToFileURL(writeTemp(name, code)).href)) as T;
}

// ---- the on-path: a recording registry standing in for runtime/registry.ts ----------------

export interface HookEvent {
  hook: "e" | "l" | "x" | "t";
  site: number;
  kind: string;
  self?: unknown;
  args?: unknown[];
  frame?: FrameABI | undefined;
  value?: unknown;
  error?: unknown;
  locals?: unknown[];
}

export interface Recorder {
  events: HookEvent[];
  table(): ModuleTable;
  /** Replace what a hook returns (default: a fresh frame for `e`, the value for `x`). */
  onEntry?: (site: number, self: unknown, args: unknown[]) => FrameABI;
  onLine?: (site: number, locals: unknown[]) => Promise<unknown> | undefined;
  onReturn?: (site: number, value: unknown, locals: unknown[]) => unknown;
  dispose(): void;
}

const KIND_NAMES = ["entry", "line", "return", "end", "throw"];

/**
 * Installs a registry in the global slot that binds recording hooks to the module when it
 * registers, and switches every flag of that module on before it loads: the same ABI the runtime
 * drives (register(table, binder) hands the hooks e/l/x/t to the binder; flags are globals).
 */
export function recordAll(result: InstrumentResult): Recorder {
  const hash = result.sites!.hash;
  const n = result.sites!.functions.reduce((count, fn) => count + fn.sites.length, 0);
  // Every flag: the sites' and the outlined functions'.
  const flags = tableOf(result.code, hash).n;
  const g = globalThis as unknown as Record<string | symbol, unknown>;
  const slot = Symbol.for(REGISTRY_KEY);
  const previous = g[slot];
  let registered: ModuleTable | undefined;
  const recorder: Recorder = {
    events: [],
    table: () => registered!,
    dispose() {
      for (let i = 0; i < flags; i++) delete g[`$dg_${hash}_${i}`];
      g[slot] = previous;
    },
  };
  let sites: Int32Array | undefined;
  const kindOf = (site: number) => KIND_NAMES[(sites ??= decodeSites(registered!.s, n)!)[site * SITE_STRIDE]!]!;
  const hooks = {
    e(site: number, self: unknown, ...args: unknown[]): FrameABI {
      recorder.events.push({ hook: "e", site, kind: kindOf(site), self, args });
      return recorder.onEntry ? recorder.onEntry(site, self, args) : {};
    },
    l(site: number, frame: FrameABI | undefined, ...locals: unknown[]) {
      recorder.events.push({ hook: "l", site, kind: kindOf(site), frame, locals });
      return recorder.onLine?.(site, locals);
    },
    x(site: number, frame: FrameABI | undefined, value: unknown, ...locals: unknown[]) {
      recorder.events.push({ hook: "x", site, kind: kindOf(site), frame, value, locals });
      return recorder.onReturn ? recorder.onReturn(site, value, locals) : value;
    },
    t(site: number, frame: FrameABI | undefined, error: unknown, ...locals: unknown[]) {
      recorder.events.push({ hook: "t", site, kind: kindOf(site), frame, error, locals });
      return error;
    },
  };
  g[slot] = {
    abi: ABI_VERSION,
    register(t: ModuleTable, bind: HookBinder) {
      if (t.h !== hash) return t;
      registered = t;
      bind(hooks.e, hooks.l, hooks.x, hooks.t);
      return t;
    },
  };
  for (let i = 0; i < flags; i++)
    Object.defineProperty(g, `$dg_${hash}_${i}`, { value: true, writable: true, configurable: true });
  return recorder;
}

/** Removes the registry slot so that the next module load runs the inline bootstrap. */
export function clearRegistrySlot(): void {
  delete (globalThis as unknown as Record<symbol, unknown>)[Symbol.for(REGISTRY_KEY)];
}
