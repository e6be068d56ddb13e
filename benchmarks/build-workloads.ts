/**
 * Builds every workload six ways into `.tmp/bench/builds/<build>/`:
 *
 * - plain:    SWC type-strip only (the baseline every ratio divides by);
 * - diagnose: `instrument()` from transformer/, then the same SWC strip;
 * - deferred: `instrument(…, { deferCopies: true })` (site ABI 4), then the same strip; the copy
 *             text goes to `.tmp/bench/builds/copies/<sha256>.js`, not into the module;
 * - istanbul: the plain JavaScript instrumented by istanbul-lib-instrument;
 * - shim:     plain, plus one line that wraps the probed function (peers/shimmer.ts);
 * - dc:       plain, plus a diagnostics_channel guard at the probed function's entry.
 *
 * Third-party libraries (rxjs) are compiled from the TypeScript sources in their npm package the
 * same way, so the "library" workload runs instrumented library code. Relative import specifiers
 * are given their `.js` / `/index.js` so the output runs as native ESM. The result is cached by a
 * hash of every input (sources, the compiled transformer, tool versions).
 */
import { transformSync } from "@swc/core";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { copyTextHash, instrument, type InstrumentOptions } from "../transformer/index.js";
import { WORKLOADS, type WorkloadSpec } from "./catalog.js";
import { dcGuard, dcHeader } from "./peers/diagnostics-channel.js";
import { istanbulInstrument } from "./peers/istanbul.js";
import { shimLine } from "./peers/shimmer.js";
import {
  BUILD_KINDS,
  BUILDS,
  buildPath,
  DEFERRED_COPIES,
  DIST,
  packageDir,
  WORK,
  WORKLOAD_SOURCES,
  type BuildKind,
} from "./paths.js";
import { generatedLineFor } from "./sourcemap-line.js";

export { BUILD_KINDS, buildPath, type BuildKind };

/** What the children need to know about one workload's builds. */
export interface WorkloadBuild {
  /** Source line of the "line:N" probe. */
  readonly probeLine: number;
  /** Plain build: 1-based line of the probed function's first statement, and the file's URL. */
  readonly entryLine: number;
  readonly entryFile: string;
  /** Instrumented build: sites and functions in the workload's files (library included). */
  readonly sites: number;
  readonly functions: number;
  /** Bytes of JavaScript, plain and instrumented, over the workload's files. */
  readonly plainBytes: number;
  readonly diagnoseBytes: number;
}

export interface BuildManifest {
  readonly hash: string;
  readonly seconds: number;
  readonly workloads: Record<string, WorkloadBuild>;
  /** Libraries not found (their workloads are skipped), with the reason. */
  readonly missing: Record<string, string>;
}

interface SourceFile {
  /** Path inside a build, e.g. "bench/micro.ts", "rxjs/src/internal/Subscriber.ts". */
  readonly file: string;
  readonly abs: string;
  readonly text: string;
  /** `root` and `packageName` for instrument(): decide the qualified names. */
  readonly root: string;
  readonly packageName: string;
}

const VERSION = "bench-build-5";
const PROJECT = join(WORK, "project");

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(p));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

/** The TypeScript sources of a library's npm package (`src/**`), or a reason it is unavailable. */
export function librarySources(name: string): SourceFile[] | string {
  const dir = packageDir(name);
  if (dir === undefined) return `${name} is not installed (npm ci installs it as a devDependency)`;
  const src = join(dir, "src");
  if (!existsSync(src)) return `${name} at ${dir} ships no src/ folder`;
  return listTs(src).map((abs) => ({
    file: `${name}/${relative(dir, abs).split("\\").join("/")}`,
    abs,
    text: readFileSync(abs, "utf8"),
    root: dir,
    packageName: name,
  }));
}

export function workloadSource(spec: WorkloadSpec): SourceFile {
  const abs = join(WORKLOAD_SOURCES, `${spec.name}.ts`);
  return { file: `bench/${spec.name}.ts`, abs, text: readFileSync(abs, "utf8"), root: PROJECT, packageName: "bench" };
}

/** SWC type strip, identical for every build. TypeScript's legacy class-field semantics, as rxjs expects. */
export function strip(code: string, filename: string, sourceMaps = false): { code: string; map: string | undefined } {
  const out = transformSync(code, {
    filename,
    jsc: { parser: { syntax: "typescript" }, target: "es2022", transform: { useDefineForClassFields: false } },
    module: { type: "es6" },
    sourceMaps,
    swcrc: false,
    configFile: false,
  });
  return { code: out.code, map: out.map };
}

/**
 * `instrument()` with deferred copies (site ABI 4), as the Node loader runs it: the copy text's
 * types stripped by SWC as a script (the binder evaluates it, nothing imports it), and the table's
 * `c` renamed to the hash of that stripped text, the one the registry will check. The module's
 * code is returned before its own strip.
 */
export function instrumentDeferred(
  text: string,
  filename: string,
  options: InstrumentOptions,
): { code: string; copies: { hash: string; text: string } | undefined } {
  const out = instrument(text, filename, { ...options, deferCopies: true });
  if (out.copies === undefined) return { code: out.code, copies: undefined };
  const copies = transformSync(out.copies.text, {
    filename,
    isModule: false,
    jsc: { parser: { syntax: "typescript" }, target: "es2022", transform: { useDefineForClassFields: false } },
    swcrc: false,
    configFile: false,
  }).code;
  const hash = copyTextHash(copies);
  const named = `c:"${out.copies.hash}"`;
  // A table still naming the unstripped text would make every probe on the module fail.
  if (!out.code.includes(named)) throw new Error(`${filename}: no ${named} in the instrumented table`);
  return { code: out.code.replace(named, `c:"${hash}"`), copies: { hash, text: copies } };
}

/** Adds `.js` / `/index.js` to relative specifiers and maps bare library names into the build. */
export function rewriteImports(code: string, file: string, files: ReadonlySet<string>): string {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"']+)\2/g,
    (whole, lead: string, q: string, spec: string) => {
      let target: string | undefined;
      if (spec.startsWith("./") || spec.startsWith("../")) {
        const base = posix.normalize(posix.join(posix.dirname(file), spec));
        if (files.has(`${base}.ts`)) target = `${base}.js`;
        else if (files.has(`${base}/index.ts`)) target = `${base}/index.js`;
      } else if (files.has(`${spec}/src/index.ts`)) {
        target = `${spec}/src/index.js`;
      } else {
        // A deep import into a library compiled into the build: "rxjs/internal/observable/from".
        // The package name is two segments when scoped ("@lezer/markdown/markdown").
        const slash = spec.indexOf("/", spec.startsWith("@") ? spec.indexOf("/") + 1 : 0);
        const deep = slash > 0 ? `${spec.slice(0, slash)}/src/${spec.slice(slash + 1)}` : "";
        if (deep && files.has(`${deep}.ts`)) target = `${deep}.js`;
      }
      if (target === undefined) return whole;
      let rel = posix.relative(posix.dirname(file), target);
      if (!rel.startsWith(".")) rel = `./${rel}`;
      return `${lead}${q}${rel}${q}`;
    },
  );
}

/** 1-based line on which `anchor` ends (its last line), checking that it occurs once. */
export function anchorLine(text: string, anchor: string, file: string): { line: number; end: number } {
  const at = text.indexOf(anchor);
  if (at < 0 || text.indexOf(anchor, at + 1) >= 0) {
    throw new Error(`benchmarks/catalog.ts: the anchor ${JSON.stringify(anchor)} must occur exactly once in ${file}`);
  }
  const end = at + anchor.length;
  return { line: text.slice(0, end).split("\n").length, end };
}

function inputsHash(files: readonly SourceFile[]): string {
  const h = createHash("sha256").update(VERSION).update(JSON.stringify(WORKLOADS));
  for (const f of files) h.update(f.file).update("\0").update(f.text).update("\0");
  const transformerDir = join(DIST, "transformer");
  for (const name of readdirSync(transformerDir).sort()) {
    if (name.endsWith(".js")) h.update(readFileSync(join(transformerDir, name)));
  }
  for (const pkg of ["@swc/core", "istanbul-lib-instrument"]) {
    const dir = packageDir(pkg);
    h.update(dir === undefined ? "-" : readFileSync(join(dir, "package.json")));
  }
  return h.digest("hex").slice(0, 16);
}

/** Builds (or reuses) every workload. `only` restricts to some workloads. */
export function buildWorkloads(only: readonly WorkloadSpec[], log: (line: string) => void): BuildManifest {
  const started = performance.now();
  const missing: Record<string, string> = {};
  const libs = new Map<string, SourceFile[]>();
  for (const spec of only) {
    for (const lib of spec.libraries) {
      if (libs.has(lib) || missing[lib] !== undefined) continue;
      const found = librarySources(lib);
      if (typeof found === "string") missing[lib] = found;
      else libs.set(lib, found);
    }
  }
  const specs = only.filter((s) => s.libraries.every((l) => libs.has(l)));
  const files: SourceFile[] = [...specs.map(workloadSource), ...[...libs.values()].flat()];
  const hash = inputsHash(files);
  const manifestPath = join(BUILDS, "manifest.json");
  if (existsSync(manifestPath)) {
    const old = JSON.parse(readFileSync(manifestPath, "utf8")) as BuildManifest;
    if (old.hash === hash) {
      log(`builds: up to date (${hash})`);
      return { ...old, missing };
    }
  }
  log(`builds: compiling ${files.length} files × ${BUILD_KINDS.length} builds…`);
  rmSync(BUILDS, { recursive: true, force: true });
  const names = new Set(files.map((f) => f.file));
  const probed = new Map(specs.map((s) => [s.call.file, s]));
  const sizes = new Map<string, { plain: number; diagnose: number; sites: number; functions: number }>();
  const entryLines = new Map<string, number>();

  const write = (build: BuildKind, file: string, code: string): void => {
    const out = join(BUILDS, build, file.replace(/\.ts$/, ".js"));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, code);
  };
  for (const build of BUILD_KINDS)
    writeFileSync(join(mkdirp(join(BUILDS, build)), "package.json"), '{ "type": "module" }\n');

  for (const f of files) {
    const spec = probed.get(f.file);
    const plain = strip(f.text, f.abs, spec !== undefined);
    const plainJs = rewriteImports(plain.code, f.file, names);
    write("plain", f.file, plainJs);

    const filename = f.file.startsWith("bench/") ? join(PROJECT, f.file) : f.abs;
    const options = { root: f.root, packageName: f.packageName, module: "esm", sourceMap: false } as const;
    const result = instrument(f.text, filename, options);
    const diagnoseJs = rewriteImports(strip(result.code, f.abs).code, f.file, names);
    write("diagnose", f.file, diagnoseJs);

    const deferred = instrumentDeferred(f.text, filename, options);
    write("deferred", f.file, rewriteImports(strip(deferred.code, f.abs).code, f.file, names));
    if (deferred.copies !== undefined)
      writeFileSync(join(mkdirp(DEFERRED_COPIES), `${deferred.copies.hash}.js`), deferred.copies.text);
    const fns = result.sites?.functions ?? [];
    sizes.set(f.file, {
      plain: Buffer.byteLength(plainJs),
      diagnose: Buffer.byteLength(diagnoseJs),
      sites: fns.reduce((n, fn) => n + fn.sites.length, 0),
      functions: fns.length,
    });

    write("istanbul", f.file, istanbulInstrument(plainJs, join(BUILDS, "istanbul", f.file.replace(/\.ts$/, ".js"))));

    if (spec === undefined) {
      write("shim", f.file, plainJs);
      write("dc", f.file, plainJs);
      continue;
    }
    write("shim", f.file, plainJs + shimLine(spec.call.shim));
    const { end } = anchorLine(f.text, spec.call.bodyAnchor, f.file);
    const bodyOpen = end - spec.call.bodyAnchor.length + spec.call.bodyAnchor.indexOf("{");
    const dcText = dcHeader() + f.text.slice(0, bodyOpen + 1) + dcGuard(spec.call.params) + f.text.slice(bodyOpen + 1);
    write("dc", f.file, rewriteImports(strip(dcText, f.abs).code, f.file, names));
    // The first statement of the body is on the line after the `{` of the anchor.
    const firstStatement = f.text.slice(0, bodyOpen).split("\n").length + 1;
    const generated =
      plain.map === undefined
        ? undefined
        : generatedLineFor((JSON.parse(plain.map) as { mappings: string }).mappings, firstStatement);
    if (generated === undefined) throw new Error(`No generated line for ${f.file}:${firstStatement}`);
    entryLines.set(f.file, generated);
  }

  const workloads: Record<string, WorkloadBuild> = {};
  for (const spec of specs) {
    const own = [
      `bench/${spec.name}.ts`,
      ...files.filter((f) => spec.libraries.some((l) => f.file.startsWith(`${l}/`))).map((f) => f.file),
    ];
    const total = { plain: 0, diagnose: 0, sites: 0, functions: 0 };
    for (const file of own) {
      const s = sizes.get(file)!;
      total.plain += s.plain;
      total.diagnose += s.diagnose;
      total.sites += s.sites;
      total.functions += s.functions;
    }
    const lineFile = files.find((f) => f.file === spec.line.file)!;
    workloads[spec.name] = {
      probeLine: anchorLine(lineFile.text, spec.line.lineAnchor, lineFile.file).line,
      entryLine: entryLines.get(spec.call.file)!,
      entryFile: join(BUILDS, "plain", spec.call.file.replace(/\.ts$/, ".js")),
      sites: total.sites,
      functions: total.functions,
      plainBytes: total.plain,
      diagnoseBytes: total.diagnose,
    };
  }
  const manifest: BuildManifest = { hash, seconds: (performance.now() - started) / 1000, workloads, missing };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  log(`builds: done in ${manifest.seconds.toFixed(1)} s`);
  return manifest;
}

function mkdirp(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
