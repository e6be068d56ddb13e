/**
 * Fidelity corpora: third-party TypeScript sources (from node_modules) built twice with the SAME
 * SWC settings, once as they are ("plain") and once through `instrument()` first ("instrumented"),
 * under `.tmp/fidelity/<corpus>/{plain,instrumented}/`. The instrumented build also gets its
 * `diagnose-sites.json`. Builds are cached by content (sources, transformer build, SWC version,
 * settings), so the differential tests only pay for a build when something changed.
 *
 * As the Node loader does by default, the instrumented build defers its copies (site ABI 4), under
 * `.tmp/fidelity/<corpus>-deferred/`: each module's copy text, types stripped, is written to
 * `instrumented/diagnose-copies/<sha256>.txt`, where the driver's copy source reads it
 * (driver-common.ts), as the loader's runtime reads its cache directory. With
 * `DIAGNOSE_DEFER_COPIES=0` the copies stay inline, under `.tmp/fidelity/<corpus>/`.
 *
 *   node dist/test/fidelity/build-corpus.js [corpus…] [--force]    # prints line and site counts
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync, type Options as SwcOptions } from "@swc/core";
import { copyTextHash, instrument, type ModuleSites } from "../../transformer/index.js";
import { deferCopiesRequested } from "../../integrations/node/transform.js";
import { writeManifest } from "../../abi/manifest.js";
import { COPIES_FOLDER } from "./driver-common.js";

/** Bump when the build recipe changes in a way the content hash cannot see. */
const RECIPE = "fidelity-build-3";

/** The repository root (this file runs from dist/test/fidelity/). */
export const REPO = resolve(fileURLToPath(new URL("../../../", import.meta.url)));
export const TMP = join(REPO, ".tmp", "fidelity");

export interface CorpusSpec {
  /** Folder name under .tmp/fidelity/. */
  readonly name: string;
  /** The package folder (the instrument root, so qualified names are `src/…:…`). */
  readonly packageDir: string;
  /** Which files (paths relative to packageDir, "/" separators) are part of the build. */
  readonly include: (rel: string) => boolean;
}

const isSource = (rel: string): boolean => rel.endsWith(".ts") && !/\.d\.[cm]?ts$/.test(rel);

export const CORPORA: Record<string, CorpusSpec> = {
  rxjs: {
    name: "rxjs",
    packageDir: join(REPO, "node_modules", "rxjs"),
    include: (rel) => rel.startsWith("src/") && isSource(rel),
  },
  zod: {
    name: "zod",
    packageDir: join(REPO, "node_modules", "zod"),
    include: (rel) =>
      rel.startsWith("src/") &&
      isSource(rel) &&
      !rel.includes("/tests/") &&
      !rel.includes("/benchmarks/") &&
      !/\.test\.ts$/.test(rel),
  },
  immer: {
    name: "immer",
    packageDir: join(REPO, "node_modules", "immer"),
    include: (rel) => rel.startsWith("src/") && isSource(rel),
  },
  shop: {
    name: "shop",
    packageDir: join(REPO, "examples", "shop"),
    include: (rel) => rel.startsWith("src/") && isSource(rel),
  },
};

/**
 * The one SWC configuration of both builds. `useDefineForClassFields: false` matches how these
 * packages are compiled by their authors (tsc, targets before ES2022 semantics for fields).
 */
export function swcOptions(filename: string): SwcOptions {
  return {
    filename,
    swcrc: false,
    configFile: false,
    jsc: {
      parser: { syntax: "typescript", tsx: false },
      target: "es2022",
      transform: { useDefineForClassFields: false },
      keepClassNames: true,
    },
    module: { type: "es6" },
    sourceMaps: false,
    isModule: true,
  };
}

export interface CorpusStats {
  corpus: string;
  package: string;
  version: string;
  files: number;
  /** Physical lines of the .ts sources. */
  lines: number;
  /** Lines that are neither blank nor only comment. */
  codeLines: number;
  functions: number;
  sites: number;
  siteKinds: Record<string, number>;
  /** Functions the transformer left uninstrumented, with its reason. */
  warnings: string[];
  /** Files instrument() returned unchanged, with the reason. */
  skippedFiles: string[];
  /** Bytes of JS output, plain and instrumented. */
  plainBytes: number;
  instrumentedBytes: number;
  key: string;
  buildMs: number;
}

export interface CorpusBuild {
  readonly spec: CorpusSpec;
  readonly dir: string;
  readonly plainDir: string;
  readonly instrumentedDir: string;
  readonly manifestPath: string;
  readonly stats: CorpusStats;
  /** Whether this call built it (false: taken from the cache). */
  readonly fresh: boolean;
}

function walk(dir: string, base: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") walk(full, base, out);
    } else if (entry.isFile()) {
      out.push(relative(base, full).split(sep).join("/"));
    }
  }
}

/** The files of a corpus, sorted. */
export function corpusFiles(spec: CorpusSpec): string[] {
  const all: string[] = [];
  walk(spec.packageDir, spec.packageDir, all);
  return all.filter(spec.include).sort();
}

function hashTree(dir: string, h: ReturnType<typeof createHash>): void {
  const files: string[] = [];
  walk(dir, dir, files);
  for (const f of files.sort()) {
    if (!f.endsWith(".js")) continue;
    h.update(f)
      .update("\0")
      .update(readFileSync(join(dir, f)))
      .update("\0");
  }
}

function cacheKey(spec: CorpusSpec, files: string[], contents: Map<string, string>, deferCopies: boolean): string {
  const h = createHash("sha256");
  h.update(RECIPE).update("\0");
  h.update(deferCopies ? "deferred copies" : "inline copies").update("\0");
  h.update(JSON.parse(readFileSync(join(REPO, "node_modules", "@swc", "core", "package.json"), "utf8")).version).update(
    "\0",
  );
  h.update(JSON.stringify(swcOptions("x.ts"))).update("\0");
  // The instrumenting compiler as built: any change to it rebuilds the corpora.
  hashTree(join(REPO, "dist", "transformer"), h);
  hashTree(join(REPO, "dist", "runtime"), h); // abi.ts constants end up in the output
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const f of files) h.update(f).update("\0").update(contents.get(f)!).update("\0");
  return h.digest("hex").slice(0, 24);
}

/** Counts lines that carry code (not blank, not only a comment). Block comments are tracked roughly. */
function countCodeLines(text: string): number {
  let inBlock = false;
  let n = 0;
  for (const raw of text.split("\n")) {
    let line = raw.trim();
    if (inBlock) {
      const end = line.indexOf("*/");
      if (end === -1) continue;
      inBlock = false;
      line = line.slice(end + 2).trim();
    }
    while (line.startsWith("/*")) {
      const end = line.indexOf("*/", 2);
      if (end === -1) {
        inBlock = true;
        line = "";
        break;
      }
      line = line.slice(end + 2).trim();
    }
    if (line === "" || line.startsWith("//")) continue;
    n++;
  }
  return n;
}

/**
 * Rewrites relative import specifiers of compiled output so Node's ESM resolver finds the files:
 * `./x` → `./x.js` or `./x/index.js`, after checking which .ts source exists. Same function for
 * both builds.
 */
export function rewriteSpecifiers(js: string, sourceFile: string): string {
  const dir = dirname(sourceFile);
  const fix = (spec: string): string => {
    if (!spec.startsWith("./") && !spec.startsWith("../")) return spec;
    const target = resolve(dir, spec);
    if (/\.[cm]?js$/.test(spec) && existsSync(target.replace(/\.([cm]?)js$/, ".$1ts"))) return spec;
    if (existsSync(target + ".ts")) return spec + ".js";
    if (existsSync(join(target, "index.ts"))) return spec.replace(/\/$/, "") + "/index.js";
    return spec;
  };
  return js
    .replace(
      /(\b(?:from|import)\s*)(["'])(\.{1,2}\/[^"'\n]*)\2/g,
      (_m, pre: string, q: string, spec: string) => `${pre}${q}${fix(spec)}${q}`,
    )
    .replace(
      /(\bimport\s*\(\s*)(["'])(\.{1,2}\/[^"'\n]*)\2/g,
      (_m, pre: string, q: string, spec: string) => `${pre}${q}${fix(spec)}${q}`,
    );
}

function compile(code: string, sourceFile: string): string {
  return rewriteSpecifiers(transformSync(code, swcOptions(sourceFile)).code, sourceFile);
}

function outRel(rel: string): string {
  return rel.replace(/\.[cm]?ts$/, ".js");
}

const REEXPORT = /(?:^|(?<=\*\/))[ \t]*export\s*\{([^}]*)\}\s*from\s*(["'])([^"']+)\2\s*;?/gm;

function specifiers(list: string): { local: string; exported: string }[] {
  return list
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/[^\n]*/g, "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const m = /^(\S+)(?:\s+as\s+(\S+))?$/.exec(s);
      if (m === null) throw new Error(`Cannot read export specifier ${JSON.stringify(s)}`);
      return { local: m[1]!, exported: m[2] ?? m[1]! };
    });
}

function resolveOut(fromRel: string, spec: string): string {
  return join(dirname(fromRel), spec).split(sep).join("/");
}

/**
 * The names each compiled module really exports. Needed because isolated-module compilers (SWC,
 * like `tsc --isolatedModules`) cannot tell that `export { SomeType } from "./x"` re-exports only
 * a type, and Node's ESM linker rejects the missing name. Read from SWC's regular output.
 */
export function exportTable(modules: ReadonlyMap<string, string>): (rel: string) => Set<string> {
  const memo = new Map<string, Set<string>>();
  const get = (rel: string): Set<string> => {
    const known = memo.get(rel);
    if (known !== undefined) return known;
    const names = new Set<string>();
    memo.set(rel, names); // cycles: what is known so far
    const code = modules.get(rel);
    if (code === undefined) return names;
    for (const m of code.matchAll(
      /(?:^|(?<=\*\/))[ \t]*export\s+(?:async\s+)?(?:function\s*\*?|const|let|var|class)\s*([\w$]+)/gm,
    ))
      names.add(m[1]!);
    if (/(?:^|(?<=\*\/))[ \t]*export\s+default\b/m.test(code)) names.add("default");
    for (const m of code.matchAll(/(?:^|(?<=\*\/))[ \t]*export\s*\{([^}]*)\}\s*;/gm))
      for (const s of specifiers(m[1]!)) names.add(s.exported);
    for (const m of code.matchAll(/(?:^|(?<=\*\/))[ \t]*export\s*\*\s*as\s+([\w$]+)\s+from/gm)) names.add(m[1]!);
    for (const m of code.matchAll(REEXPORT)) {
      const target = get(resolveOut(rel, m[3]!));
      for (const s of specifiers(m[1]!)) if (target.has(s.local)) names.add(s.exported);
    }
    for (const m of code.matchAll(/(?:^|(?<=\*\/))[ \t]*export\s*\*\s*from\s*(["'])([^"']+)\1/gm)) {
      for (const n of get(resolveOut(rel, m[2]!))) if (n !== "default") names.add(n);
    }
    return names;
  };
  for (const rel of modules.keys()) get(rel);
  return get;
}

/** Removes names from `export { … } from` that the target module does not export (types). */
export function dropTypeReexports(code: string, rel: string, exportsOf: (rel: string) => Set<string>): string {
  return code.replace(REEXPORT, (whole, list: string, q: string, spec: string) => {
    if (!spec.startsWith(".")) return whole;
    const target = exportsOf(resolveOut(rel, spec));
    const kept = specifiers(list).filter((s) => target.has(s.local));
    const text = kept.map((s) => (s.local === s.exported ? s.local : `${s.local} as ${s.exported}`)).join(", ");
    return kept.length === 0
      ? `/* type-only re-export removed: ${spec} */`
      : `export { ${text} } from ${q}${spec}${q};`;
  });
}

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Builds (or takes from the cache) one corpus. */
export function buildCorpus(spec: CorpusSpec, options: { force?: boolean; deferCopies?: boolean } = {}): CorpusBuild {
  const deferCopies = options.deferCopies ?? deferCopiesRequested();
  const dir = join(TMP, deferCopies ? `${spec.name}-deferred` : spec.name);
  const plainDir = join(dir, "plain");
  const instrumentedDir = join(dir, "instrumented");
  const manifestPath = join(instrumentedDir, "diagnose-sites.json");
  const statsPath = join(dir, "stats.json");
  const files = corpusFiles(spec);
  if (files.length === 0) throw new Error(`No sources for corpus ${spec.name} under ${spec.packageDir} (npm install?)`);
  const contents = new Map(files.map((f) => [f, readFileSync(join(spec.packageDir, f), "utf8")] as const));
  const key = cacheKey(spec, files, contents, deferCopies);

  if (!options.force && existsSync(statsPath) && existsSync(manifestPath) && existsSync(plainDir)) {
    try {
      const stats = JSON.parse(readFileSync(statsPath, "utf8")) as CorpusStats;
      if (stats.key === key) return { spec, dir, plainDir, instrumentedDir, manifestPath, stats, fresh: false };
    } catch {
      // rebuild
    }
  }

  const started = performance.now();
  const pkg = JSON.parse(readFileSync(join(spec.packageDir, "package.json"), "utf8")) as {
    name?: string;
    version?: string;
  };
  // Build into a scratch folder, then swap it in: concurrent test processes never see half a build.
  const scratch = `${dir}.${process.pid}.${Date.now()}.tmp`;
  const sPlain = join(scratch, "plain");
  const sInst = join(scratch, "instrumented");
  const modules: ModuleSites[] = [];
  const warnings: string[] = [];
  const skippedFiles: string[] = [];
  const siteKinds: Record<string, number> = {};
  let lines = 0;
  let codeLines = 0;
  let functions = 0;
  let sites = 0;
  let plainBytes = 0;
  let instrumentedBytes = 0;

  const plainOut = new Map<string, string>();
  const instOut = new Map<string, string>();
  for (const rel of files) {
    const source = contents.get(rel)!;
    const sourceFile = join(spec.packageDir, rel);
    lines += source.split("\n").length - (source.endsWith("\n") ? 1 : 0);
    codeLines += countCodeLines(source);

    plainOut.set(outRel(rel), compile(source, sourceFile));

    const result = instrument(source, sourceFile, {
      root: spec.packageDir,
      module: "esm",
      sourceMap: false,
      deferCopies,
    });
    let code = result.code;
    if (result.copies !== undefined) {
      // Stripped as a script (the binder evaluates it); the table names the text that runs.
      const copies = transformSync(result.copies.text, { ...swcOptions(sourceFile), isModule: false }).code;
      code = code.replace(`c:"${result.copies.hash}"`, `c:"${copyTextHash(copies)}"`);
      writeFile(join(sInst, COPIES_FOLDER, `${copyTextHash(copies)}.txt`), copies);
    }
    if (result.skipped !== undefined) skippedFiles.push(`${rel}: ${result.skipped}`);
    for (const w of result.warnings) warnings.push(`${rel}: ${JSON.stringify(w)}`);
    if (result.sites !== null) {
      modules.push(result.sites);
      for (const fn of result.sites.functions) {
        functions++;
        for (const site of fn.sites) {
          sites++;
          siteKinds[site.kind] = (siteKinds[site.kind] ?? 0) + 1;
        }
      }
    }
    instOut.set(outRel(rel), compile(code, sourceFile));
  }
  // Export lists are computed from the plain build and applied to both, identically.
  const exportsOf = exportTable(plainOut);
  for (const [out, root] of [
    [plainOut, sPlain],
    [instOut, sInst],
  ] as const) {
    for (const [rel, code] of out) {
      const fixed = dropTypeReexports(code, rel, exportsOf);
      writeFile(join(root, rel), fixed);
      if (root === sPlain) plainBytes += Buffer.byteLength(fixed);
      else instrumentedBytes += Buffer.byteLength(fixed);
    }
  }
  for (const d of [sPlain, sInst]) writeFile(join(d, "package.json"), JSON.stringify({ type: "module" }) + "\n");
  writeManifest(join(sInst, "diagnose-sites.json"), modules);

  const stats: CorpusStats = {
    corpus: spec.name,
    package: pkg.name ?? spec.name,
    version: pkg.version ?? "",
    files: files.length,
    lines,
    codeLines,
    functions,
    sites,
    siteKinds,
    warnings,
    skippedFiles,
    plainBytes,
    instrumentedBytes,
    key,
    buildMs: Math.round(performance.now() - started),
  };
  writeFile(join(scratch, "stats.json"), JSON.stringify(stats, null, 2) + "\n");
  const old = `${dir}.${process.pid}.${Date.now()}.old`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(scratch, dir);
  rmSync(old, { recursive: true, force: true });
  return { spec, dir, plainDir, instrumentedDir, manifestPath, stats, fresh: true };
}

/** Builds a corpus by name. */
export function build(name: string, options: { force?: boolean; deferCopies?: boolean } = {}): CorpusBuild {
  const spec = CORPORA[name];
  if (spec === undefined)
    throw new Error(`Unknown corpus ${JSON.stringify(name)}; known: ${Object.keys(CORPORA).join(", ")}`);
  return buildCorpus(spec, options);
}

/** Total size of a folder's files (for reports). */
export function folderBytes(dir: string): number {
  let n = 0;
  const files: string[] = [];
  walk(dir, dir, files);
  for (const f of files) n += statSync(join(dir, f)).size;
  return n;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const force = args.includes("--force");
  const names = args.filter((a) => !a.startsWith("--"));
  for (const name of names.length > 0 ? names : Object.keys(CORPORA)) {
    const b = build(name, { force });
    const s = b.stats;
    console.log(
      `${s.package}@${s.version}: ${s.files} files, ${s.lines} lines (${s.codeLines} code), ${s.functions} functions, ` +
        `${s.sites} sites ${JSON.stringify(s.siteKinds)}, ${s.warnings.length} warnings, ${s.skippedFiles.length} skipped files, ` +
        `JS ${s.plainBytes} → ${s.instrumentedBytes} bytes, ${b.fresh ? `built in ${s.buildMs} ms` : "cached"}`,
    );
    for (const w of s.warnings) console.log(`  warning ${w}`);
    for (const f of s.skippedFiles) console.log(`  skipped ${f}`);
  }
}
