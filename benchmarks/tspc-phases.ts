/**
 * Where tspc + the diagnose plugin spends its extra time over plain tsc (issue 15, "Build"), in one
 * process, on the corpus build-side.ts writes (.tmp/bench/corpus, its tsconfig.tspc.json):
 *
 * - each round builds a fresh program per emit (so each emit pays the checker's lazy work, as a
 *   CLI run does) and emits it plain, then with the plugin, interleaved;
 * - an emit is split by CPU time (`process.cpuUsage`, not wall time: the machine is shared) into
 *   the transforms (a first `before` and a last `after` transformer mark each file's start and
 *   end), the plugin inside them (its transformer timed around each call), the file writes (the
 *   `writeFile` callback) and the rest (the printer, with the checker work it does lazily);
 * - a replica of the plugin's per-file steps (the same exported functions, in the same order:
 *   analyze(), matchEdits(), buildSiteNodes() + rewriteFile()) splits the plugin's time, and
 *   checks that its output is the plugin's, so the split describes the real thing. (Splitting
 *   the builders from the rewrite that calls them needs a CPU profile: timing each call costs
 *   more than the call. `process.cpuUsage` counts every thread, V8's concurrent GC included, so
 *   the steps' times add up to more than the plugin's; benchmarks/tspc-notes.md uses profile shares.)
 *
 * `node --expose-gc dist/benchmarks/tspc-phases.js [rounds] [corpus]` (after a build-side run, or
 * any folder with a tsconfig.tspc.json).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import type * as TS from "typescript";
import { analyze, isSkipped } from "../transformer/analyze.js";
import { analyzeOptions, readPluginConfig } from "../transformer/tsc/config.js";
import { outputFormat, tscAddsUseStrict } from "../transformer/tsc/format.js";
import diagnoseTransformer from "../transformer/tsc/index.js";
import { isMismatch, matchEdits } from "../transformer/tsc/match.js";
import { rewriteFile } from "../transformer/tsc/rewrite.js";
import { buildSiteNodes } from "../transformer/tsc/site-nodes.js";
import { REPO, WORK } from "./paths.js";
import { median } from "./stats.js";

const ts = createRequire(join(REPO, "package.json"))("typescript") as typeof TS;

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface EmitSplit {
  total: number;
  transforms: number;
  plugin: number;
  write: number;
  bytes: number;
}

const rounds = Number(process.argv[2] ?? 5);
const corpus = process.argv[3] ?? join(WORK, "corpus");
const configPath = join(corpus, "tsconfig.tspc.json");
const parsed = ts.getParsedCommandLineOfConfigFile(
  configPath,
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  },
);
if (!parsed) throw new Error(`cannot read ${configPath}`);
const options = { ...parsed.options, outDir: join(corpus, "out-phases") };
const pluginEntry = { transform: "diagnose/transformer" };
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function emit(withPlugin: boolean, outputs?: Map<string, string>): EmitSplit {
  const program = ts.createProgram(parsed!.fileNames, options);
  gc();
  const split: EmitSplit = { total: 0, transforms: 0, plugin: 0, write: 0, bytes: 0 };
  let fileStart = 0;
  const start: TS.TransformerFactory<TS.SourceFile> = () => (file) => {
    fileStart = cpu();
    return file;
  };
  const end: TS.TransformerFactory<TS.SourceFile> = () => (file) => {
    split.transforms += cpu() - fileStart;
    return file;
  };
  const before = [start];
  if (withPlugin) {
    const plugin = diagnoseTransformer(program, pluginEntry, { ts, addDiagnostic: () => 0 } as never).before[0]!;
    before.push((context) => {
      const inner = plugin(context) as (file: TS.SourceFile) => TS.SourceFile;
      return (file) => {
        const t0 = cpu();
        const out = inner(file);
        split.plugin += cpu() - t0;
        return out;
      };
    });
  }
  const t0 = cpu();
  program.emit(
    undefined,
    (path, text) => {
      const w0 = cpu();
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      outputs?.set(path, text);
      split.bytes += text.length;
      split.write += cpu() - w0;
    },
    undefined,
    false,
    { before, after: [end] },
  );
  split.total = cpu() - t0;
  return split;
}

interface PluginSplit {
  analyze: number;
  match: number;
  /** buildSiteNodes() and rewriteFile(), which calls the builders as it goes. */
  rewrite: number;
}

/** The plugin's steps for one emit, timed one by one (CPU time: one getrusage per step). */
function replica(outputs: Map<string, string>): PluginSplit {
  const program = ts.createProgram(parsed!.fileNames, options);
  gc();
  const { config } = readPluginConfig(pluginEntry, configPath, program.getCurrentDirectory());
  const split: PluginSplit = { analyze: 0, match: 0, rewrite: 0 };
  const step: TS.TransformerFactory<TS.SourceFile> = (context) => (file) => {
    const format = outputFormat(ts, program, file);
    let t = cpu();
    const analysis = analyze(file.text, file.fileName, analyzeOptions(config, format));
    split.analyze += cpu() - t;
    if (isSkipped(analysis)) return file;
    t = cpu();
    const plan = matchEdits(ts, file, analysis);
    split.match += cpu() - t;
    if (isMismatch(plan)) return file;
    t = cpu();
    const nodes = buildSiteNodes(ts, analysis);
    const out = rewriteFile(ts, context, file, plan, nodes, tscAddsUseStrict(ts, options, file, format));
    split.rewrite += cpu() - t;
    return out;
  };
  program.emit(
    undefined,
    (path, text) => {
      if (outputs.get(path) !== text) throw new Error(`replica: ${path} differs from the plugin's output`);
    },
    undefined,
    false,
    { before: [step] },
  );
  return split;
}

const plain: EmitSplit[] = [];
const plugged: EmitSplit[] = [];
const parts: PluginSplit[] = [];
emit(false);
const outputs = new Map<string, string>();
emit(true, outputs);
for (let i = 0; i < rounds; i++) {
  plain.push(emit(false));
  plugged.push(emit(true));
  parts.push(replica(outputs));
}
const m = (xs: number[]) => median(xs).toFixed(0);
const row = (name: string, pick: (s: EmitSplit) => number) =>
  `| ${name} | ${m(plain.map(pick))} | ${m(plugged.map(pick))} |`;
console.log(`${parsed.fileNames.length} files, ${rounds} rounds, Node ${process.version}, TypeScript ${ts.version}`);
console.log("| emit phase (CPU ms, median) | tsc | tspc + plugin |");
console.log("| --- | ---: | ---: |");
console.log(row("emit, total", (s) => s.total));
console.log(row("transforms, total", (s) => s.transforms));
console.log(row("of which the plugin", (s) => s.plugin));
console.log(row("TypeScript's transforms", (s) => s.transforms - s.plugin));
console.log(row("print + rest (lazy checker)", (s) => s.total - s.transforms - s.write));
console.log(row("write files", (s) => s.write));
console.log(row("output kB", (s) => s.bytes / 1000));
console.log("| plugin step (CPU ms, median) | | |");
for (const k of ["analyze", "match", "rewrite"] as const) console.log(`| ${k} | | ${m(parts.map((p) => p[k]))} |`);
