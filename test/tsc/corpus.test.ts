/**
 * The adapter in process, over a corpus of real code (this repository's own sources and the
 * transformer's construct fixtures): for every file, TypeScript's tree must match every position of
 * the analysis (no file falls back to uninstrumented), the registered table must equal the SWC
 * path's, every site must have exactly one guard, and the output must parse.
 *
 * Runs through `ts.transpileModule` with a minimal program (the plugin's fallback for the output
 * format), using the TypeScript of DIAGNOSE_TS_DIR like the build tests.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import type * as TS from "typescript";
import { INSTRUMENTED_MARKER } from "../../abi/index.js";
import { instrument } from "../../transformer/index.js";
import diagnoseTransformer from "../../transformer/tsc/index.js";
import { REPO_ROOT, TS_DIR, assertGuards, filesBelow, registeredTable } from "./helpers.js";

const ts = createRequire(join(TS_DIR, "noop.js"))("typescript") as typeof TS;

interface Compiled {
  js: string;
  diagnostics: TS.Diagnostic[];
}

/** Compiles one file with the plugin, as tspc would for a project with these options. */
function compileWithPlugin(
  code: string,
  fileName: string,
  options: TS.CompilerOptions,
  pluginConfig: Record<string, unknown> = {},
): Compiled {
  const diagnostics: TS.Diagnostic[] = [];
  const program = { getCompilerOptions: () => options, getCurrentDirectory: () => REPO_ROOT } as unknown as TS.Program;
  const plugin = diagnoseTransformer(
    program,
    { transform: "diagnose/transformer", warnings: "diagnostics", ...pluginConfig },
    { ts, addDiagnostic: (d) => diagnostics.push(d) },
  );
  const out = ts.transpileModule(code, {
    fileName,
    compilerOptions: options,
    transformers: { before: plugin.before },
    reportDiagnostics: false,
  });
  return { js: out.outputText, diagnostics };
}

/**
 * This repository's sources (most of transformer/ and runtime/ use the reserved `$dg` prefix and
 * are skipped by the core, which is checked too) and, when installed (the fidelity tests install
 * them), the TypeScript sources that zod, rxjs and immer ship.
 */
function corpus(thirdParty: readonly string[]): string[] {
  const files: string[] = [];
  const folders = ["transformer", "runtime", "integrations", "cli", "benchmarks", "test/fixtures/transformer"];
  for (const pkg of thirdParty)
    if (existsSync(join(REPO_ROOT, "node_modules", pkg))) folders.push(`node_modules/${pkg}`);
  for (const folder of folders) {
    for (const f of filesBelow(join(REPO_ROOT, folder))) {
      if (/\.(tsx?|mts|cts)$/.test(f) && !/\.d\.([^.]+\.)?ts$/.test(f) && !f.startsWith("workloads/"))
        files.push(`${folder}/${f}`);
    }
  }
  return files;
}

const ESM: TS.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  jsx: ts.JsxEmit.ReactJSX,
  experimentalDecorators: false,
};
const CJS: TS.CompilerOptions = {
  target: ts.ScriptTarget.ES2020,
  module: ts.ModuleKind.CommonJS,
  jsx: ts.JsxEmit.React,
  experimentalDecorators: true,
  useDefineForClassFields: false,
};

describe(`the ts-patch adapter over a corpus (TypeScript ${ts.version})`, () => {
  // transpileModule costs ~10 ms a file: the large third-party corpus runs once, for ESM output.
  const runs = [
    ["ES module", ESM, corpus(["zod/src", "rxjs/src", "immer/src"])],
    ["CommonJS", CJS, corpus(["immer/src"])],
  ] as const;
  for (const [name, options, files] of runs) {
    test(`${name} output: same tables as instrument(), every site placed, output parses`, () => {
      assert.ok(files.length > 40, `corpus of ${files.length} files`);
      let sites = 0;
      for (const file of files) {
        const path = join(REPO_ROOT, file);
        const code = readFileSync(path, "utf8");
        const expected = instrument(code, path);
        const { js, diagnostics } = compileWithPlugin(code, path, options);
        const messages = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
        if (expected.skipped) {
          // Skipped by the core too (e.g. the transformer's own sources use the $dg prefix).
          assert.ok(!js.startsWith(INSTRUMENTED_MARKER), file);
          assert.ok(
            messages.every((m) => m.endsWith(expected.skipped!)),
            file,
          );
          continue;
        }
        assert.deepEqual(
          diagnostics.filter((d) => d.code !== 99004).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
          [],
          file,
        );
        assert.equal(diagnostics.length, expected.warnings.length, `${file}: the same warnings as instrument()`);
        const table = registeredTable(js);
        assert.deepEqual(table, registeredTable(expected.code), file);
        assertGuards(js, table, file, expected.code);
        assert.ok(
          js.replace(/^#![^\n]*\n/, "").startsWith(INSTRUMENTED_MARKER),
          `${file}: marker first (after a hashbang)`,
        );
        const reparsed = ts.createSourceFile(
          "out.js",
          js,
          ts.ScriptTarget.ESNext,
          false,
          ts.ScriptKind.JS,
        ) as TS.SourceFile & { parseDiagnostics: TS.Diagnostic[] };
        assert.deepEqual(
          reparsed.parseDiagnostics.map((d) => d.messageText),
          [],
          `${file}: output parses`,
        );
        sites += table.n;
      }
      assert.ok(sites > 500, `${sites} sites`);
    });
  }
});
