/**
 * `diagnose/transformer`: the ts-patch plugin. One line in tsconfig, built with ts-patch's `tspc`:
 *
 * ```json
 * { "compilerOptions": { "plugins": [{ "transform": "diagnose/transformer" }] } }
 * ```
 *
 * A thin adapter over the compiler-agnostic core: `analyze()` (the same analysis `instrument()`
 * uses, on the same text) decides the functions, sites, names and site table; this adapter adds
 * the site code from transformer/site-code.ts to TypeScript's own tree, around the original,
 * type-checked nodes, before TypeScript's transforms run. For the same source both paths produce
 * the same site table, names and module hash. See docs/tsc-plugin.md.
 */
import type * as TS from "typescript";
import { analyze, isSkipped, type Analysis } from "../analyze.js";
import { describeError } from "../../errors/index.js";
import { InstrumentSyntaxError, TransformOptionsError } from "../errors.js";
import { moduleSites } from "../index.js";
import { analyzeOptions, readPluginConfig, type ResolvedPluginConfig } from "./config.js";
import {
  DiagnosticCode,
  diagnosticSink,
  printToStderr,
  locateInConfig,
  locateOption,
  type DiagnosticSink,
} from "./diagnostics.js";
import { outputFormat, targetProblem, tscAddsUseStrict } from "./format.js";
import { ManifestCollector, manifestTargetProblem } from "./manifest.js";
import { isMismatch, matchEdits } from "./match.js";
import { rewriteFile } from "./rewrite.js";
import { buildSiteNodes } from "./site-nodes.js";
import type { DiagnosePluginConfig, DiagnoseTransformers, TransformerExtras, TypeScript } from "./types.js";

export type { DiagnosePluginConfig, DiagnoseTransformers, TransformerExtras } from "./types.js";

/** Skip reasons that are the user's choice or routine; anything else is worth a warning. */
const QUIET_SKIPS = new Set([
  "already instrumented",
  "not matched by include",
  "matched by exclude",
  "declaration file",
  "unsupported file extension",
  "diagnose-ignore-file comment",
]);

/** The transformer key ts-patch users write in tsconfig (used to point config diagnostics at it). */
const TRANSFORM_NAME = "diagnose/transformer";

/**
 * ts-patch "program" pattern: called with the program, the plugin's tsconfig entry and ts-patch's
 * extras; returns a transformer that runs before TypeScript's own. Never throws: problems are
 * reported as diagnostics and the affected files (or, for bad options, all files) are emitted
 * uninstrumented.
 */
export default function diagnoseTransformer(
  program: TS.Program,
  pluginConfig: DiagnosePluginConfig | Record<string, unknown> | undefined,
  extras: TransformerExtras,
): DiagnoseTransformers {
  const identity: DiagnoseTransformers = {
    before: [() => (file) => file],
    after: [() => (file) => file],
    afterDeclarations: [() => (file) => file],
  };
  const ts = extras?.ts;
  if (!ts || typeof extras.addDiagnostic !== "function") {
    // Not run by ts-patch's program pattern: there is nobody to report to, and no TypeScript.
    process.stderr.write(
      `${TRANSFORM_NAME}: not instrumenting: expected ts-patch's (program, config, { ts, addDiagnostic }) call; use "type": "program" (the default) in the plugin entry\n`,
    );
    return identity;
  }
  const options = program.getCompilerOptions();
  const internal = options as { configFilePath?: unknown; configFile?: TS.SourceFile };
  const configPath = typeof internal.configFilePath === "string" ? internal.configFilePath : undefined;
  const transformName =
    typeof (pluginConfig as { transform?: unknown } | undefined)?.transform === "string"
      ? String((pluginConfig as { transform: string }).transform)
      : TRANSFORM_NAME;

  const { config, problems } = readPluginConfig(pluginConfig, configPath, program.getCurrentDirectory());
  const warn = config.warnings === "stderr" ? printToStderr(ts, program.getCurrentDirectory()) : undefined;
  const sink = diagnosticSink(ts, (d) => extras.addDiagnostic(d), warn);
  if (config.manifest && problems.length === 0) {
    const problem = manifestTargetProblem(config.manifest);
    if (problem) problems.push({ key: "manifest", message: problem });
  }
  for (const problem of problems) {
    sink.error(
      DiagnosticCode.config,
      `${problem.message}. Nothing is instrumented until this is fixed.`,
      locateInConfig(internal.configFile, transformName, problem.key),
    );
  }
  if (problems.length > 0) return identity;

  const target = targetProblem(ts, options);
  if (target) {
    sink.error(
      DiagnosticCode.target,
      target,
      locateOption(internal.configFile, "target") ?? locateInConfig(internal.configFile, transformName, "transform"),
    );
    return identity;
  }

  const manifest = config.manifest ? new ManifestCollector(config.manifest) : undefined;
  return {
    before: [(context) => (file) => instrumentSourceFile(ts, program, context, file, config, sink, manifest)],
    // ts-patch takes the list named by the entry's "after"/"afterDeclarations" flag, if set: those
    // run on trees TypeScript already rewrote, where the analysis' positions mean nothing.
    after: [misplaced(sink, "after")],
    afterDeclarations: [misplaced(sink, "afterDeclarations")],
  };
}

function misplaced(sink: DiagnosticSink, key: string): () => <T extends TS.Node>(node: T) => T {
  let reported = false;
  return () => (node) => {
    if (!reported) {
      reported = true;
      sink.error(
        DiagnosticCode.config,
        `the plugin must run before TypeScript's own transforms: remove "${key}": true from its tsconfig entry. Nothing is instrumented until this is fixed.`,
      );
    }
    return node;
  };
}

function instrumentSourceFile(
  ts: TypeScript,
  program: TS.Program,
  context: TS.TransformationContext,
  file: TS.SourceFile,
  config: ResolvedPluginConfig,
  sink: DiagnosticSink,
  manifest: ManifestCollector | undefined,
): TS.SourceFile {
  if (file.isDeclarationFile || /\.json$/i.test(file.fileName)) return file;
  if (ts.getParseTreeNode(file) !== file) {
    // Run as an "after" transformer: the tree is no longer the one the text describes.
    sink.error(
      DiagnosticCode.config,
      `the plugin must run before TypeScript's own transforms: remove "after"/"afterDeclarations" from its tsconfig entry. This file is emitted uninstrumented.`,
      { file, start: 0 },
    );
    return file;
  }
  let analysis: Analysis;
  const format = outputFormat(ts, program, file);
  try {
    const result = analyze(file.text, file.fileName, analyzeOptions(config, format));
    if (isSkipped(result)) {
      if (!QUIET_SKIPS.has(result.skipped)) {
        const start = result.warning ? position(ts, file, result.warning.line, result.warning.column) : 0;
        sink.warning(DiagnosticCode.analysis, `this file is emitted uninstrumented: ${result.skipped}`, {
          file,
          start,
        });
      }
      return file;
    }
    analysis = result;
  } catch (error) {
    sink.warning(
      DiagnosticCode.analysis,
      `this file is emitted uninstrumented: ${describe(error)}`,
      at(ts, file, error),
    );
    return file;
  }

  for (const warning of analysis.warnings) {
    sink.warning(DiagnosticCode.function, warning.message.replace(/^.*?:\d+:\d+: /, ""), {
      file,
      start: position(ts, file, warning.line, warning.column),
    });
  }

  let plan: ReturnType<typeof matchEdits>;
  try {
    plan = matchEdits(ts, file, analysis);
  } catch (error) {
    plan = { offset: 0, what: `any position (${describe(error)})` };
  }
  if (isMismatch(plan)) {
    sink.warning(
      DiagnosticCode.mismatch,
      `this file is emitted uninstrumented: TypeScript's syntax tree has no node for ${plan.what} here. Please report this with the code around it.`,
      { file, start: plan.offset },
    );
    return file;
  }

  let output: TS.SourceFile;
  try {
    output = rewriteFile(
      ts,
      context,
      file,
      plan,
      buildSiteNodes(ts, analysis),
      tscAddsUseStrict(ts, program.getCompilerOptions(), file, format),
    );
  } catch (error) {
    sink.warning(
      DiagnosticCode.mismatch,
      `this file is emitted uninstrumented: ${describe(error)}. Please report this.`,
      { file, start: 0 },
    );
    return file;
  }
  manifest?.add(moduleSites(analysis));
  return output;
}

function describe(error: unknown): string {
  if (error instanceof InstrumentSyntaxError) return `the instrumenter's parser rejects it: ${error.reason}`;
  if (error instanceof TransformOptionsError) return error.message;
  return error instanceof Error ? error.message : describeError(error);
}

function at(ts: TypeScript, file: TS.SourceFile, error: unknown): { file: TS.SourceFile; start: number } {
  if (error instanceof InstrumentSyntaxError) return { file, start: position(ts, file, error.line, error.column - 1) };
  return { file, start: 0 };
}

/** Offset of a 1-based line and 0-based UTF-16 column (clamped: TS also splits lines at \r and U+2028). */
function position(ts: TypeScript, file: TS.SourceFile, line: number, column: number): number {
  const starts = file.getLineStarts();
  const lineIndex = Math.min(Math.max(line - 1, 0), starts.length - 1);
  return Math.min(ts.getPositionOfLineAndCharacter(file, lineIndex, 0) + column, file.text.length);
}
