/**
 * Where `instrument()` spends its time on a corpus, and the build-side alternatives measured side
 * by side on the same files in this one process (issue 15, "Build"):
 *
 * - the split of `instrument()` + strip into SWC's parse (the native parse, then JSON.parse of the
 *   AST it hands over as text), the analysis walk, the edits (magic-string), the source map, and
 *   the SWC type strip after it — each phase timed alone on inputs prepared by the phase before;
 * - oxc-parser (JSON transfer; raw transfer where the running Node has it, 22+) against SWC's parse;
 * - a position-preserving strip — amaro's strip-only mode, and Node's `module.stripTypeScriptTypes`
 *   where it exists — against the SWC strip, on the plain and on the instrumented sources;
 * - the Node loader's whole compile (integrations/shared/compile.ts) with the in-place strip against
 *   the same compile with SWC's strip and the source-map composition it needs.
 *
 * Every number is a median over `runs` passes, the candidates of one comparison interleaved pass
 * by pass, so a noisy neighbour slows both sides alike.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Analysis, analyze, isSkipped } from "../transformer/analyze.js";
import { applyPlan, type ModuleOutput, outputText, planInsertions } from "../transformer/edit.js";
import { parseSource } from "../transformer/parse.js";
import { generateMap } from "../transformer/source-map.js";
import { swc } from "../transformer/dependencies.js";
import { type CompiledModule, compileModuleUncached } from "../integrations/shared/compile.js";
import { loadConfig } from "../integrations/shared/config.js";
import { inPlaceRefusal } from "../integrations/shared/strip-in-place.js";
import { compilerOptionsFor } from "../integrations/shared/tsconfig.js";
import { strip } from "./build-workloads.js";
import { packageDir, WORK } from "./paths.js";
import { median } from "./stats.js";

export interface CorpusFile {
  readonly abs: string;
  readonly text: string;
}

export interface PhaseTime {
  readonly phase: string;
  readonly ms: number;
  /** Of the sum of the phases (instrument() with its source map, then the SWC strip). */
  readonly share: number;
}

export interface Comparison {
  readonly what: string;
  /** The candidate's median and the baseline's, measured interleaved. */
  readonly ms: number | null;
  readonly baselineMs: number;
  readonly baseline: string;
  readonly note?: string;
}

export interface BuildProfile {
  readonly node: string;
  readonly phases: PhaseTime[];
  readonly comparisons: Comparison[];
  /** Files the in-place strip leaves to SWC, by reason (instrumented sources, loader settings). */
  readonly inPlaceRefusals: Record<string, number>;
  /** The loader's sites with the in-place strip equal the sites with SWC's (same table, same names). */
  readonly sameSites: boolean;
}

const load = createRequire(import.meta.url);

interface Amaro {
  transformSync(code: string, options: { mode: "strip-only" }): { code: string };
}
interface OxcParser {
  parseSync(filename: string, text: string, options?: { experimentalRawTransfer?: boolean }): unknown;
}
type NodeStrip = (code: string, options: { mode: "strip" }) => string;

function optional<T>(name: string): T | undefined {
  try {
    return load(name) as T;
  } catch {
    return undefined;
  }
}

/** Medians of interleaved passes: `fns[k]` runs once per pass, in turn, after one warm-up pass. */
export function interleaved(runs: number, fns: readonly (() => void)[]): number[] {
  for (const fn of fns) fn();
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    fns.forEach((fn, k) => {
      const t0 = performance.now();
      fn();
      times[k]!.push(performance.now() - t0);
    });
  }
  return times.map(median);
}

/** The first line of an error's message, as a reason. */
function reasonOf(error: unknown): string {
  // amaro's errors are plain objects with a message, not Errors.
  const message = (error as { message?: unknown } | null)?.message;
  return (typeof message === "string" ? message : String(error)).split("\n")[0]!.slice(0, 120);
}

export function measureBuildProfile(
  files: readonly CorpusFile[],
  root: string,
  runs: number,
  log: (line: string) => void,
): BuildProfile {
  const options = { root, module: "esm" as const };
  log("build profile: phases of instrument()…");

  // Inputs of each phase, prepared once so every phase is timed alone.
  const analyses: { file: CorpusFile; analysis: Analysis }[] = [];
  for (const file of files) {
    const analysis = analyze(file.text, file.abs, options);
    if (!isSkipped(analysis)) analyses.push({ file, analysis });
  }
  const outputs: { file: CorpusFile; output: ModuleOutput; text: string }[] = analyses.map(({ file, analysis }) => {
    const output = applyPlan(file.text, planInsertions(analysis), analysis.names, analysis.typed !== null);
    return { file, output, text: outputText(output) };
  });
  const parseOptions = Buffer.from(
    JSON.stringify({ syntax: "typescript", tsx: false, decorators: true, target: "esnext", isModule: "unknown" }),
  );
  // The native binding's parse, which returns the AST as JSON text (what @swc/core then JSON.parses).
  const binding = load("@swc/core/binding.js") as { parseSync(code: string, options: Buffer, file: string): string };
  swc();

  const [nativeParse, parse, analysis, edits, map, swcStripInstrumented] = interleaved(runs, [
    () => {
      for (const f of files) binding.parseSync(f.text, parseOptions, f.abs);
    },
    () => {
      for (const f of files) parseSource(f.text, f.abs, "ts");
    },
    () => {
      for (const f of files) analyze(f.text, f.abs, options);
    },
    () => {
      for (const { file, analysis } of analyses)
        outputText(applyPlan(file.text, planInsertions(analysis), analysis.names, analysis.typed !== null));
    },
    () => {
      for (const { file, output } of outputs) generateMap(output, file.abs, null);
    },
    () => {
      for (const { file, text } of outputs) strip(text, file.abs);
    },
  ]);
  const split: [string, number][] = [
    ["SWC parse: native parse, AST as JSON text", nativeParse!],
    ["SWC parse: JSON.parse of the AST", Math.max(0, parse! - nativeParse!)],
    ["analysis: checks, scopes, the walk, the site table", Math.max(0, analysis! - parse!)],
    ["edits: insertions with magic-string, output text", edits!],
    ["source map", map!],
    ["SWC type strip of the output", swcStripInstrumented!],
  ];
  const total = split.reduce((n, [, ms]) => n + ms, 0);
  const phases = split.map(([phase, ms]) => ({ phase, ms, share: ms / total }));

  log("build profile: parsers and strippers side by side…");
  const comparisons: Comparison[] = [];
  const oxc = optional<OxcParser>("oxc-parser");
  const raw = Number(process.versions.node.split(".")[0]) >= 22;
  if (oxc === undefined) {
    comparisons.push({
      what: "oxc-parser parse",
      ms: null,
      baselineMs: parse!,
      baseline: "SWC parse + JSON.parse",
      note: "oxc-parser is not installed",
    });
  } else {
    const [oxcMs, swcMs] = interleaved(runs, [
      () => {
        for (const f of files) oxc.parseSync(f.abs, f.text, raw ? { experimentalRawTransfer: true } : {});
      },
      () => {
        for (const f of files) parseSource(f.text, f.abs, "ts");
      },
    ]);
    comparisons.push({
      what: `oxc-parser parse (${raw ? "raw transfer" : "JSON transfer: raw transfer needs Node 22+"})`,
      ms: oxcMs!,
      baselineMs: swcMs!,
      baseline: "SWC parse + JSON.parse",
    });
  }

  const amaro = optional<Amaro>("amaro");
  const nodeStrip = (load("node:module") as { stripTypeScriptTypes?: NodeStrip }).stripTypeScriptTypes;
  // A file a stripper refuses costs what the refusal costs; the ratio is over the same files.
  const attempt = (fn: () => unknown) => {
    try {
      fn();
    } catch {
      // counted in the refusals below
    }
  };
  const strippers: [string, (code: string) => unknown][] = [];
  if (amaro !== undefined)
    strippers.push(["amaro 1.2.1 strip-only", (c) => amaro.transformSync(c, { mode: "strip-only" })]);
  if (nodeStrip !== undefined) {
    strippers.push([`Node ${process.version} stripTypeScriptTypes`, (c) => nodeStrip(c, { mode: "strip" })]);
  }
  const instrumented = outputs.map(({ file, text }) => ({ abs: file.abs, text }));
  for (const [corpus, label] of [
    [files, "plain"],
    [instrumented, "instrumented"],
  ] as const) {
    for (const [name, stripper] of strippers) {
      const [ms, swcMs] = interleaved(runs, [
        () => {
          for (const f of corpus) attempt(() => stripper(f.text));
        },
        () => {
          for (const f of corpus) strip(f.text, f.abs);
        },
      ]);
      comparisons.push({ what: `${name}, ${label} sources`, ms: ms!, baselineMs: swcMs!, baseline: "SWC strip" });
    }
  }
  if (amaro === undefined) {
    comparisons.push({
      what: "amaro strip-only",
      ms: null,
      baselineMs: swcStripInstrumented!,
      baseline: "SWC strip",
      note: "amaro is not installed (npm skips it on Node 20: its engines say >=22)",
    });
  }

  // The loader's compile, the same files twice: under a tsconfig.json that allows the in-place
  // strip (verbatimModuleSyntax) and under one that does not. rxjs imports types without `type`,
  // so its own build could not use the in-place strip: this times what a project that can gains.
  log("build profile: the loader's compile, in-place strip vs SWC strip…");
  const trees = ["loader-swc", "loader-in-place"].map((name) => join(root, "..", `corpus-${name}`));
  const sources = join(root, "src");
  trees.forEach((tree, k) => {
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(tree, { recursive: true });
    cpSync(sources, join(tree, "src"), { recursive: true });
    writeFileSync(join(tree, "package.json"), JSON.stringify({ name: "rxjs-corpus", private: true, type: "module" }));
    writeFileSync(
      join(tree, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "es2022", verbatimModuleSyntax: k === 1 } }),
    );
  });
  const compileAll = (tree: string) => compileTree(tree, strippedInPlace(tree));
  const swcSites = compileAll(trees[0]!).map((c) => JSON.stringify(c.sites));
  const inPlaceSites = compileAll(trees[1]!).map((c) => JSON.stringify(c.sites));
  const sameSites = swcSites.length === inPlaceSites.length && swcSites.every((s, i) => s === inPlaceSites[i]);
  const inPlaceRefusals: Record<string, number> = {};
  const tsOptions = compilerOptionsFor(join(trees[1]!, "src"));
  for (const { file, text } of outputs) {
    let reason = inPlaceRefusal(text, file.abs, "module", tsOptions);
    if (reason === null && amaro === undefined) reason = "amaro is not installed";
    if (reason === null) {
      try {
        amaro!.transformSync(text, { mode: "strip-only" });
      } catch (error) {
        reason = reasonOf(error);
      }
    }
    if (reason !== null) inPlaceRefusals[reason] = (inPlaceRefusals[reason] ?? 0) + 1;
  }
  const [inPlaceMs, swcMs] = interleaved(runs, [() => compileAll(trees[1]!), () => compileAll(trees[0]!)]);
  const inPlaceFiles = files.length - Object.values(inPlaceRefusals).reduce((n, c) => n + c, 0);
  comparisons.push({
    what: "loader compile (instrument, strip, inline map), in-place strip, warm",
    ms: amaro === undefined ? null : inPlaceMs!,
    baselineMs: swcMs!,
    baseline: "the same with SWC's strip",
    note: `${inPlaceFiles} of ${files.length} files stripped in place; sites ${sameSites ? "identical" : "DIFFER"}`,
  });
  // Cold: what the loader pays, each file compiled once by a fresh process (amaro's WebAssembly
  // loaded and compiled on the first file, nothing warmed). Processes alternate, one at a time.
  log("build profile: the loader's compile, cold, in fresh processes…");
  const cold = trees.map(() => [] as number[]);
  for (let i = 0; i < Math.max(3, runs); i++) {
    trees.forEach((tree, k) => {
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--cold", tree], { encoding: "utf8" });
      const ms = Number(r.stdout.trim());
      if (r.status === 0 && Number.isFinite(ms)) cold[k]!.push(ms);
    });
  }
  comparisons.push({
    what: "loader compile, in-place strip, cold (fresh process, each file once)",
    ms: amaro === undefined || cold[1]!.length === 0 ? null : median(cold[1]!),
    baselineMs: cold[0]!.length === 0 ? Number.NaN : median(cold[0]!),
    baseline: "the same with SWC's strip",
    note: "includes loading amaro's WebAssembly",
  });
  for (const tree of trees) rmSync(tree, { recursive: true, force: true });
  return { node: process.version, phases, comparisons, inPlaceRefusals, sameSites };
}

/** The trees of the loader comparison: the second one's tsconfig.json allows the in-place strip. */
function strippedInPlace(tree: string): boolean {
  return tree.endsWith("corpus-loader-in-place");
}

/** The loader's compile of every file below `tree`/src, uncached, with `DIAGNOSE_STRIP` set for it. */
function compileTree(tree: string, inPlace: boolean, files = listTs(join(tree, "src"))): CompiledModule[] {
  const before = process.env["DIAGNOSE_STRIP"];
  process.env["DIAGNOSE_STRIP"] = inPlace ? "in-place" : "swc";
  try {
    const config = loadConfig(tree);
    return files.map((filename) =>
      compileModuleUncached(readFileSync(filename, "utf8"), { filename, format: "module", instrument: true, config }),
    );
  } finally {
    if (before === undefined) delete process.env["DIAGNOSE_STRIP"];
    else process.env["DIAGNOSE_STRIP"] = before;
  }
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? listTs(join(dir, e.name))
        : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")
          ? [join(dir, e.name)]
          : [],
    )
    .sort();
}

/** `node dist/benchmarks/build-profile.js [runs]`: the profile of rxjs/src alone, as JSON. */
function main(): void {
  const rxjs = packageDir("rxjs");
  if (rxjs === undefined) throw new Error("rxjs is not installed (npm ci installs it)");
  const root = join(WORK, "corpus-profile");
  rmSync(root, { recursive: true, force: true });
  cpSync(join(rxjs, "src"), join(root, "src"), { recursive: true, filter: (p) => !p.endsWith(".js") });
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "rxjs-corpus", private: true, type: "module" }));
  const files = listTs(join(root, "src")).map((abs) => ({ abs, text: readFileSync(abs, "utf8") }));
  const profile = measureBuildProfile(files, root, Number(process.argv[2] ?? 5), (l) => console.error(l));
  console.log(JSON.stringify(profile, null, 2));
  rmSync(root, { recursive: true, force: true });
}

/** `--cold <tree>`: one cold compile of the tree (read and compile), its time in ms on stdout. */
function cold(tree: string): void {
  const files = listTs(join(tree, "src"));
  const t0 = performance.now();
  compileTree(tree, strippedInPlace(tree), files);
  console.log((performance.now() - t0).toFixed(1));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  if (process.argv[2] === "--cold") cold(process.argv[3]!);
  else main();
}
