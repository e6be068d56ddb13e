/**
 * Build side: how long instrumenting a real TypeScript corpus (rxjs's own sources) takes with
 * each integration, against the uninstrumented build with the same tool, and how much bigger the
 * output gets (raw and gzipped).
 *
 * - SWC path: `instrument()` then the SWC type strip, in this process (median of `runs`, passes
 *   interleaved with the plain strip's);
 * - plain SWC: the strip alone;
 * - tspc + the diagnose plugin (`"transform": "diagnose/transformer"`) and plain tsc, as CLI
 *   processes on the same tsconfig with `noCheck` (emit only: type checking costs the same with
 *   or without the plugin and would drown the difference);
 * - build-profile.ts on the same files: instrument()'s time by phase, and oxc-parser, amaro's and
 *   Node's in-place strips and the loader's in-place strip against what is used today.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { instrument } from "../transformer/index.js";
import { type BuildProfile, interleaved, measureBuildProfile } from "./build-profile.js";
import { strip } from "./build-workloads.js";
import { packageDir, REPO, WORK } from "./paths.js";
import { median } from "./stats.js";

export interface Size {
  readonly raw: number;
  readonly gzip: number;
}

export interface ToolTiming {
  readonly tool: string;
  readonly ms: number | null;
  readonly runs: number;
  readonly output: Size | null;
  readonly note?: string;
}

export interface BuildSideResult {
  readonly corpus: {
    readonly name: string;
    readonly files: number;
    readonly lines: number;
    readonly sites: number;
    readonly functions: number;
  };
  readonly tools: ToolTiming[];
  /**
   * instrument()+SWC ÷ plain SWC, tspc+plugin ÷ tsc, instrument()+SWC ÷ tsc, output sizes, then
   * each of the profile's comparisons (candidate ÷ what is used today).
   */
  readonly ratios: Record<string, number | null>;
  /** Absent in results written before it existed. */
  readonly profile?: BuildProfile;
}

const CORPUS = join(WORK, "corpus");

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

function sizeOf(codes: Iterable<string>): Size {
  let raw = 0;
  let gzip = 0;
  for (const c of codes) {
    raw += Buffer.byteLength(c);
    gzip += gzipSync(c).length;
  }
  return { raw, gzip };
}

function jsBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...jsBelow(p));
    else if (e.name.endsWith(".js")) out.push(readFileSync(p, "utf8"));
  }
  return out;
}

/** `subset`: a folder under rxjs/src to use instead of all of it (quick mode). */
export function measureBuildSide(
  runs: number,
  subset: string | undefined,
  log: (line: string) => void,
): BuildSideResult | string {
  const rxjs = packageDir("rxjs");
  if (rxjs === undefined || !existsSync(join(rxjs, "src"))) return "rxjs (with its src/ folder) is not installed";
  const srcRoot = join(rxjs, "src");
  const pick = subset === undefined ? srcRoot : join(srcRoot, subset);

  // The corpus as a small project: its own package.json (qualified names start at src/), a link
  // node_modules/diagnose → this repository (so "diagnose/transformer" resolves as for users).
  rmSync(CORPUS, { recursive: true, force: true });
  mkdirSync(CORPUS, { recursive: true });
  cpSync(pick, join(CORPUS, "src", relative(srcRoot, pick)), { recursive: true, filter: (p) => !p.endsWith(".js") });
  writeFileSync(join(CORPUS, "package.json"), JSON.stringify({ name: "rxjs-corpus", private: true, type: "module" }));
  mkdirSync(join(CORPUS, "node_modules"));
  symlinkSync(REPO, join(CORPUS, "node_modules", "diagnose"), "dir");

  const files = listTs(join(CORPUS, "src")).map((abs) => ({ abs, text: readFileSync(abs, "utf8") }));
  const lines = files.reduce((n, f) => n + f.text.split("\n").length, 0);
  let sites = 0;
  let functions = 0;
  const plainOut: string[] = [];
  const instrOut: string[] = [];
  for (const f of files) {
    const r = instrument(f.text, f.abs, { root: CORPUS, module: "esm", sourceMap: false });
    for (const fn of r.sites?.functions ?? []) {
      functions++;
      sites += fn.sites.length;
    }
    plainOut.push(strip(f.text, f.abs).code);
    instrOut.push(strip(r.code, f.abs).code);
  }
  log(
    `build side: corpus rxjs/src${subset ? `/${subset}` : ""}: ${files.length} files, ${lines} lines, ${sites} sites`,
  );

  // Interleaved pass by pass (and source maps on, as a real build would have them): a noisy
  // neighbour slows both alike.
  const [swcMs, instrMs] = interleaved(runs, [
    () => {
      for (const f of files) strip(f.text, f.abs);
    },
    () => {
      for (const f of files) {
        const r = instrument(f.text, f.abs, { root: CORPUS, module: "esm" });
        strip(r.code, f.abs);
      }
    },
  ]) as [number, number];

  const base = {
    target: "es2022",
    module: "esnext",
    moduleResolution: "bundler",
    lib: ["es2022", "dom"],
    types: [],
    noCheck: true,
    skipLibCheck: true,
    noEmitOnError: false,
    useDefineForClassFields: false,
    rootDir: "src",
    sourceMap: false,
  };
  const tsconfig = (name: string, extra: Record<string, unknown>) => {
    const file = join(CORPUS, `tsconfig.${name}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        { compilerOptions: { ...base, outDir: `out-${name}`, ...extra }, include: ["src/**/*.ts"] },
        null,
        2,
      ),
    );
    return file;
  };
  const tscConfig = tsconfig("tsc", {});
  const tspcConfig = tsconfig("tspc", { plugins: [{ transform: "diagnose/transformer" }] });
  const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
  const tspc = join(REPO, "node_modules", "ts-patch", "bin", "tspc.js");
  const cli = (bin: string, config: string, outDir: string): { ms: number | null; note?: string } => {
    const t: number[] = [];
    for (let i = 0; i < runs; i++) {
      rmSync(join(CORPUS, outDir), { recursive: true, force: true });
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [bin, "-p", config], { cwd: CORPUS, encoding: "utf8", timeout: 300_000 });
      t.push(performance.now() - t0);
      if (r.status !== 0 && jsBelow(join(CORPUS, outDir)).length === 0) {
        return {
          ms: null,
          note: `failed (exit ${r.status}): ${(r.stdout + r.stderr).trim().split("\n").slice(0, 3).join(" | ")}`,
        };
      }
    }
    return { ms: median(t) };
  };
  log("build side: tsc…");
  const tscRun = cli(tsc, tscConfig, "out-tsc");
  const tscOut = jsBelow(join(CORPUS, "out-tsc"));
  const pluginBuilt = existsSync(join(REPO, "dist", "transformer", "tsc", "index.js"));
  log("build side: tspc + diagnose plugin…");
  const tspcRun = pluginBuilt
    ? cli(tspc, tspcConfig, "out-tspc")
    : { ms: null, note: "dist/transformer/tsc/index.js is not built" };
  const tspcOut = jsBelow(join(CORPUS, "out-tspc"));
  const tspcInstrumented = tspcOut.some(
    (c) => c.includes("/*diagnose:instrumented*/") || c.includes("diagnose.registry"),
  );

  const tools: ToolTiming[] = [
    { tool: "SWC strip (plain)", ms: swcMs, runs, output: sizeOf(plainOut) },
    { tool: "instrument() + SWC strip", ms: instrMs, runs, output: sizeOf(instrOut) },
    {
      tool: "tsc, noCheck (plain)",
      ms: tscRun.ms,
      runs,
      output: tscOut.length ? sizeOf(tscOut) : null,
      ...(tscRun.note ? { note: tscRun.note } : {}),
    },
    {
      tool: "tspc + diagnose plugin, noCheck",
      ms: tspcRun.ms,
      runs,
      output: tspcOut.length ? sizeOf(tspcOut) : null,
      ...(tspcRun.note
        ? { note: tspcRun.note }
        : tspcInstrumented
          ? {}
          : { note: "output carries no sites: the plugin did not instrument" }),
    },
  ];
  const profile = measureBuildProfile(files, CORPUS, Math.max(runs, subset === undefined ? 5 : 2), log);
  const div = (a: number | null, b: number | null) =>
    a === null || b === null || b === 0 || Number.isNaN(b) ? null : a / b;
  const profileRatios = Object.fromEntries(
    profile.comparisons.map((c) => [`${c.what} ÷ ${c.baseline}`, div(c.ms, c.baselineMs)]),
  );
  return {
    corpus: { name: `rxjs/src${subset ? `/${subset}` : ""}`, files: files.length, lines, sites, functions },
    tools,
    ratios: {
      "instrument()+SWC ÷ SWC": div(instrMs, swcMs),
      "tspc+plugin ÷ tsc": div(tspcRun.ms, tscRun.ms),
      "instrument()+SWC ÷ tsc": div(instrMs, tscRun.ms),
      "output raw, SWC instrumented ÷ plain": div(tools[1]!.output!.raw, tools[0]!.output!.raw),
      "output gzip, SWC instrumented ÷ plain": div(tools[1]!.output!.gzip, tools[0]!.output!.gzip),
      "output raw, tspc ÷ tsc": div(tools[3]!.output?.raw ?? null, tools[2]!.output?.raw ?? null),
      "output gzip, tspc ÷ tsc": div(tools[3]!.output?.gzip ?? null, tools[2]!.output?.gzip ?? null),
      ...profileRatios,
    },
    profile,
  };
}
