/**
 * The child-process side of the fidelity tests. A driver script runs ONE variant of ONE build:
 *
 *   node driver.js <buildDir> <variant> <inputs.json> <output.json>
 *
 * Variants:
 *  - "plain":    the plain build; the Diagnose runtime is never loaded.
 *  - "dormant":  the instrumented build, runtime not loaded (modules queue on the inline bootstrap).
 *  - "off":      the instrumented build with the runtime loaded and nothing watched.
 *  - "on":       the runtime's low-level `watch()` on EVERY function of the manifest with
 *                `{ lines: "all", exits: true }` and a watcher whose methods do nothing (they only
 *                count, which the library cannot see).
 *  - "probes":   `probes.attachTo()` on a sample of functions, each with no-op instruments at
 *                "call", "return" and its first "line:N".
 *
 * The driver loads every module of the build (so every table registers), runs the cases and writes
 * JSON: per-case traces, the shape of every module's exports, and hook statistics.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

export type Variant = "plain" | "dormant" | "off" | "on" | "probes";

/** The folder of an instrumented build that holds its deferred copy text, `<sha256>.txt`. */
export const COPIES_FOLDER = "diagnose-copies";
export const VARIANTS: readonly Variant[] = ["plain", "dormant", "off", "on", "probes"];

export interface HookStats {
  entry: number;
  line: number;
  return: number;
  throw: number;
  watcherErrors: string[];
  watches: Record<string, number>;
  /** Watches that failed, with their error (first few). */
  failed: string[];
  probeFires: number;
  probes: Record<string, number>;
  /** Deferred copy texts the registry asked for (a build with deferred copies). */
  copiesRead: number;
}

export interface DriverOutput {
  variant: Variant;
  cases: unknown[];
  shape: Record<string, unknown>;
  hooks: HookStats;
  /** What sits in the global registry slot at the end: "none", "bootstrap" or "runtime". */
  registry: string;
  /** Globals that look like Diagnose flags. */
  flagGlobals: number;
  ms: number;
}

/** Deterministic JSON-able description of any value, for deep comparison across processes. */
export class Serializer {
  /** User errors thrown by the driver's callbacks, so identity can be checked. */
  readonly userErrors = new Map<unknown, number>();
  private nextId = 1;

  userError(message: string): Error {
    const e = new UserError(message);
    this.userErrors.set(e, this.nextId++);
    return e;
  }

  error(e: unknown): unknown {
    if (e instanceof Error || (typeof e === "object" && e !== null && "message" in e)) {
      const err = e as Error & { errors?: unknown[]; cause?: unknown };
      const out: Record<string, unknown> = {
        error: err.constructor?.name ?? typeof e,
        name: err.name,
        message: err.message,
        user: this.userErrors.get(e) ?? null,
      };
      if (Array.isArray(err.errors)) out["errors"] = err.errors.map((x) => this.error(x));
      if (err.cause !== undefined) out["cause"] = this.error(err.cause);
      return out;
    }
    return { thrown: this.value(e) };
  }

  value(v: unknown, depth = 0, seen: Set<unknown> = new Set()): unknown {
    switch (typeof v) {
      case "undefined":
        return { undef: true };
      case "number":
        if (Number.isNaN(v)) return { num: "NaN" };
        if (Object.is(v, -0)) return { num: "-0" };
        if (!Number.isFinite(v)) return { num: String(v) };
        return v;
      case "bigint":
        return { bigint: String(v) };
      case "symbol":
        return { symbol: v.description ?? "" };
      case "function":
        return { fn: v.name, length: v.length };
      case "string":
      case "boolean":
        return v;
    }
    if (v === null) return null;
    if (depth > 8) return { deep: true };
    if (seen.has(v)) return { cycle: true };
    seen.add(v);
    try {
      if (v instanceof Error) return this.error(v);
      if (Array.isArray(v)) return v.map((x) => this.value(x, depth + 1, seen));
      if (v instanceof Map)
        return { map: [...v].map(([k, x]) => [this.value(k, depth + 1, seen), this.value(x, depth + 1, seen)]) };
      if (v instanceof Set) return { set: [...v].map((x) => this.value(x, depth + 1, seen)) };
      if (v instanceof Date) return { date: Number.isNaN(v.getTime()) ? "invalid" : v.toISOString() };
      if (v instanceof RegExp) return { regexp: String(v) };
      if (v instanceof Promise) return { promise: true };
      const proto = Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null;
      const cls = proto === null ? "null" : proto === Object.prototype ? undefined : (proto.constructor?.name ?? "?");
      const props: Record<string, unknown> = {};
      for (const key of Object.keys(v as object))
        props[key] = this.value((v as Record<string, unknown>)[key], depth + 1, seen);
      return cls === undefined ? props : { cls, props };
    } finally {
      seen.delete(v);
    }
  }
}

export class UserError extends Error {
  override name = "UserError";
}

/** Loads every module of a build (sorted, so all variants load in the same order). */
export async function loadAll(buildDir: string): Promise<Map<string, Record<string, unknown>>> {
  const files: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else if (e.name.endsWith(".js")) files.push(`${rel}${e.name}`);
    }
  };
  walk(buildDir, "");
  files.sort();
  const out = new Map<string, Record<string, unknown>>();
  for (const f of files) out.set(f, (await import(pathToFileURL(join(buildDir, f)).href)) as Record<string, unknown>);
  return out;
}

/** Names, lengths and member lists of every export: `fn.name` and `fn.length` must survive. */
export function shapeOf(modules: Map<string, Record<string, unknown>>): Record<string, unknown> {
  const describe = (v: unknown): unknown => {
    if (typeof v === "function") {
      const members = (o: object): Record<string, unknown> => {
        const r: Record<string, unknown> = {};
        for (const key of Reflect.ownKeys(o)) {
          const d = Object.getOwnPropertyDescriptor(o, key)!;
          const k = typeof key === "symbol" ? `[${key.description}]` : key;
          if (k === "prototype" || k === "caller" || k === "arguments") continue;
          r[k] = {
            kind: "value" in d ? typeof d.value : `${d.get ? "get" : ""}${d.set ? "set" : ""}`,
            ...(typeof d.value === "function"
              ? { name: (d.value as { name: string }).name, length: (d.value as { length: number }).length }
              : {}),
            ...(d.get ? { getLength: d.get.length, getName: d.get.name } : {}),
            ...(d.set ? { setLength: d.set.length, setName: d.set.name } : {}),
            enumerable: d.enumerable,
            writable: d.writable,
          };
        }
        return r;
      };
      const proto = (v as { prototype?: unknown }).prototype;
      return {
        function: v.name,
        length: v.length,
        statics: members(v),
        proto: typeof proto === "object" && proto !== null ? members(proto) : null,
      };
    }
    if (typeof v === "object" && v !== null) return { object: Object.keys(v).sort() };
    return typeof v;
  };
  const shape: Record<string, unknown> = {};
  for (const [file, ns] of modules) {
    const exp: Record<string, unknown> = {};
    for (const key of Object.keys(ns).sort()) exp[key] = describe(ns[key]);
    shape[file] = exp;
  }
  return shape;
}

interface ManifestFile {
  modules: { module: string; functions: { name: string; sites: { kind: string; line: number }[] }[] }[];
}

/** Switches on what the variant asks for, before the build loads. */
async function setUp(
  variant: Variant,
  manifestPath: string,
  stats: HookStats,
  sampleEvery: number,
): Promise<() => void> {
  if (variant === "plain" || variant === "dormant") return () => {};
  // A build with deferred copies (build-corpus.ts): the registry reads a module's copy text when a
  // probe first needs it, as the loader's runtime reads its cache directory.
  const copies = join(dirname(manifestPath), COPIES_FOLDER);
  if (existsSync(copies)) {
    const { addCopySource } = await import("../../runtime/registry/index.js");
    addCopySource((hash) => {
      stats.copiesRead++;
      return readFileSync(join(copies, `${hash}.txt`), "utf8");
    });
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as ManifestFile;
  const functions = manifest.modules.flatMap((m) => m.functions);
  if (variant === "off") {
    await import("../../runtime/registry/index.js");
    return () => {};
  }
  if (variant === "on") {
    const { watch } = await import("../../runtime/registry/index.js");
    const watcher = {
      onEntry(): void {
        stats.entry++;
      },
      onLine(): void {
        stats.line++;
      },
      onReturn(): void {
        stats.return++;
      },
      onThrow(): void {
        stats.throw++;
      },
      onError(error: unknown, where: string): void {
        stats.watcherErrors.push(`${where}: ${String(error)}`);
      },
    };
    const watches = functions.map((fn) => watch(fn.name, watcher, { lines: "all", exits: true }));
    return () => {
      for (const w of watches) {
        stats.watches[w.state] = (stats.watches[w.state] ?? 0) + 1;
        if (w.state === "failed" && stats.failed.length < 10) stats.failed.push(`${w.target}: ${String(w.error)}`);
      }
    };
  }
  // "probes": the high-level API with a custom instrument that does nothing.
  const { probes, Instrument } = await import("../../runtime/index.js");
  class NoopInstrument extends Instrument {
    fire(): void {
      stats.probeFires++;
    }
  }
  const started: { status: string; target: string; error: unknown }[] = [];
  for (let i = 0; i < functions.length; i += sampleEvery) {
    const fn = functions[i]!;
    const p = probes.attachTo(fn.name);
    p.instruments.set("call", new NoopInstrument("noop.call", "1", { event: "call" }));
    p.instruments.set("return", new NoopInstrument("noop.return", "1", { event: "return" }));
    const line = fn.sites.find((s) => s.kind === "line");
    // A line instrument on a pending target is checked when the module loads.
    if (line !== undefined)
      p.instruments.set("line", new NoopInstrument("noop.line", "1", { event: `line:${line.line}` }));
    p.start();
    started.push(p);
  }
  return () => {
    for (const p of started) {
      stats.probes[p.status] = (stats.probes[p.status] ?? 0) + 1;
      if (p.status === "failed" && stats.failed.length < 10) stats.failed.push(`${p.target}: ${String(p.error)}`);
    }
  };
}

/**
 * The driver main: `run` gets the loaded modules (keyed by path relative to the build folder,
 * e.g. "src/index.js") and the inputs, and returns one JSON-able result per case.
 */
export async function driverMain<I>(
  run: (modules: Map<string, Record<string, unknown>>, inputs: I[], ser: Serializer) => Promise<unknown[]> | unknown[],
  options: { sampleEvery?: number } = {},
): Promise<void> {
  const [buildDir, variant, inputsPath, outputPath] = process.argv.slice(2) as [string, Variant, string, string];
  if (!VARIANTS.includes(variant)) throw new Error(`Unknown variant ${variant}`);
  const started = performance.now();
  const stats: HookStats = {
    entry: 0,
    line: 0,
    return: 0,
    throw: 0,
    watcherErrors: [],
    watches: {},
    failed: [],
    probeFires: 0,
    probes: {},
    copiesRead: 0,
  };
  const finish = await setUp(variant, join(buildDir, "diagnose-sites.json"), stats, options.sampleEvery ?? 5);
  const inputs = JSON.parse(readFileSync(inputsPath, "utf8")) as I[];
  const modules = await loadAll(buildDir);
  const ser = new Serializer();
  const cases = await run(modules, inputs, ser);
  finish();
  const slot = (globalThis as Record<symbol, unknown>)[Symbol.for("diagnose.registry")] as
    | { queue?: unknown }
    | undefined;
  const out: DriverOutput = {
    variant,
    cases,
    shape: shapeOf(modules),
    hooks: stats,
    registry: slot === undefined ? "none" : Array.isArray(slot.queue) ? "bootstrap" : "runtime",
    flagGlobals: Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith("$dg_")).length,
    ms: Math.round(performance.now() - started),
  };
  writeFileSync(outputPath, JSON.stringify(out));
}

/** Whether the module with this `import.meta.url` is the process's entry script. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === url;
}
