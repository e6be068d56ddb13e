/**
 * Instrumented TypeScript type-checks wherever the original did (docs/instrument.md,
 * "Type-checking instrumented sources"): real sources are instrumented in memory and checked with
 * the TypeScript compiler API under the strictest settings; every diagnostic of the instrumented
 * program must be one the plain program has too (same file, line and code).
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import type * as TS from "typescript";
import { instrument } from "../../transformer/index.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const ts = createRequire(import.meta.url)("typescript") as typeof TS;

/** The settings the brief names, on top of a project's own. */
function strictest(base: TS.CompilerOptions): TS.CompilerOptions {
  return {
    ...base,
    strict: true,
    noImplicitAny: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noUnusedLocals: true,
    noUnusedParameters: true,
    isolatedModules: true,
    noEmit: true,
    skipLibCheck: true,
  };
}

interface Finding {
  key: string;
  text: string;
}

/** Diagnostics of `sample` (absolute paths) in a program over `files`, each file through `transform`. */
function diagnose(
  files: readonly string[],
  sample: readonly string[],
  options: TS.CompilerOptions,
  transform: (code: string, file: string) => string,
): Finding[] {
  const texts = new Map(files.map((f) => [f, transform(readFileSync(f, "utf8"), f)]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => {
    const text = texts.get(name);
    return text !== undefined ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest);
  };
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => texts.get(name) ?? readFile(name);
  const program = ts.createProgram(files as string[], options, host);
  const found: Finding[] = [...program.getGlobalDiagnostics(), ...program.getOptionsDiagnostics()].map((d) => ({
    key: `global:${d.code}`,
    text: ts.flattenDiagnosticMessageText(d.messageText, " "),
  }));
  for (const file of sample) {
    const source = program.getSourceFile(file);
    assert.ok(source, `${file} is in the program`);
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
      const at = source.text.split("\n")[line] ?? "";
      found.push({
        key: `${relative(REPO, file)}:${line + 1}:TS${d.code}`,
        text: `${ts.flattenDiagnosticMessageText(d.messageText, " ")}\n    ${at.slice(0, 300)}`,
      });
    }
  }
  return found;
}

/** The diagnostics the instrumented program has that the plain one has not. */
function newDiagnostics(
  root: string,
  files: readonly string[],
  sample: readonly string[],
  options: TS.CompilerOptions,
): { plain: Finding[]; added: Finding[]; outputs: Map<string, string> } {
  const outputs = new Map<string, string>();
  const plain = diagnose(files, sample, options, (code) => code);
  const known = new Set(plain.map((d) => d.key));
  const instrumented = diagnose(files, sample, options, (code, file) => {
    const out = instrument(code, file, { root, sourceMap: false, types: true }).code;
    outputs.set(file, out);
    return out;
  });
  return { plain, added: instrumented.filter((d) => !known.has(d.key)), outputs };
}

function report(findings: readonly Finding[]): string {
  return findings.map((d) => `${d.key} ${d.text}`).join("\n");
}

function sources(folder: string, keep: (file: string) => boolean = () => true): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) out.push(...sources(path, keep));
    else if (/\.[cm]?tsx?$/.test(entry.name) && !/\.d\.[cm]?ts$/.test(entry.name) && keep(path)) out.push(path);
  }
  return out.sort();
}

const BUNDLER: TS.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  verbatimModuleSyntax: true,
  lib: ["lib.es2023.d.ts", "lib.decorators.d.ts"],
  types: [],
};

describe("type-checking instrumented TypeScript", () => {
  it("the fixture of every outlined and in-place form checks with zero errors, plain and instrumented", () => {
    const file = join(REPO, "test", "fixtures", "typecheck", "shapes.ts");
    const { plain, added, outputs } = newDiagnostics(
      join(REPO, "test", "fixtures", "typecheck"),
      [file],
      [file],
      strictest(BUNDLER),
    );
    assert.equal(report(plain), "", "the plain fixture is clean");
    assert.equal(report(added), "", "the instrumented fixture is clean");
    const out = outputs.get(file)!;
    // Outlined copies of generic functions and of class members keep their type parameters and `this`
    // (as their own `this`, or, a function whose body never reads it, as the first parameter, `$dg_s`); each is
    // a method named after the original, assigned as `never` to a binding that takes any copy.
    assert.match(out, /\nvar \$dgO\d+: \(this: any, \.\.\.args: any\[\]\) => never, /);
    assert.match(
      out,
      /; function \$dgB\(\$dg_e: typeof \$dgE, \$dg_l: typeof \$dgL, \$dg_x: typeof \$dgX, \$dg_t: typeof \$dgT\): void \| typeof \$dgI \{/,
    );
    assert.match(out, /\$dgO\d+ = \{ "first"<T>\(\$dg_s: any, items: readonly T\[\], fallback: T\) \{/);
    assert.match(out, /\$dgO\d+ = \{ "pick"<T, K extends keyof T>\(\$dg_s: any, value: T, key: K\) \{/);
    assert.match(out, /\$dgO\d+ = \{ "describe"\(this: Point, label: string\) \{/);
    assert.match(out, /\$dgO\d+ = \{ "parse"\(\$dg_s: any, text: string, radix\?: number\) \{/);
    assert.match(
      out,
      /\$dgO\d+ = \{ "logged"<This, Args extends unknown\[\], R>\(\$dg_s: any, target: \(this: This, \.\.\.args: Args\) => R, _context: /,
    );
    assert.match(out, /\$dgO\d+ = \{ "same"<T>\(this: Stack<T>, other: Stack<T>\) \{/);
    assert.match(out, /\$dgO\d+ = \{ "count"\(this: typeof Stack\) \{/);
    assert.match(out, /\$dgO\d+ = \{ "labels"\(this: Counter, prefix: string\) \{/);
    assert.match(out, /\}\["first"\] as never;\n/);
    // Plain functions declare the `this` their entry code passes; overloads are left alone.
    assert.match(out, /export function parse\(text: string\): number;/);
    assert.match(out, /export function parse\(this: any, text: string, radix\?: number\): number \{/);
    // No checking switched off.
    assert.doesNotMatch(out, /@ts-(nocheck|ignore|expect-error)/);
  });

  it("the fixture's instrumented JavaScript (types stripped) runs and matches the plain build", async () => {
    const file = join(REPO, "test", "fixtures", "typecheck", "shapes.ts");
    const source = readFileSync(file, "utf8");
    const out = instrument(source, file, {
      root: join(REPO, "test", "fixtures", "typecheck"),
      sourceMap: false,
      types: true,
    }).code;
    const strip = (code: string) =>
      ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } })
        .outputText;
    const js = strip(out);
    // Type-only syntax leaves nothing behind: no annotation, overload signature or declaration.
    assert.doesNotMatch(js, /declare |: never;|this: any|as never|as unknown as/);
    const load = async (code: string) =>
      (await import(`data:text/javascript,${encodeURIComponent(code)}`)) as Record<string, unknown>;
    const [plain, instrumented] = await Promise.all([load(strip(source)), load(js)]);
    const probe = (m: Record<string, unknown>) => {
      const Stack = m["Stack"] as {
        of(
          label: string,
          ...items: number[]
        ): {
          push(n: number): unknown;
          peek(): number;
          size: number;
          map(f: (n: number) => number): number[];
          name(): string;
        };
      };
      const s = Stack.of("s", 1, 2, 3);
      s.size = 2;
      return JSON.stringify([
        (m["first"] as (a: number[], f: number) => number)([], 7),
        (m["parse"] as (t: string, r?: number) => number)("ff", 16),
        (m["kind"] as (n: number) => string)(-1),
        (m["total"] as (...v: number[]) => number)(1, 2, 3),
        (m["describe"] as (this: object, l: string) => string).call({ x: 1, y: 2 }, "p"),
        s.peek(),
        s.map((n) => n * 10),
        s.name(),
        m["names"],
        m["sorted"],
      ]);
    };
    assert.equal(probe(instrumented), probe(plain));
  });

  it("this repository's own transformer sources check as they did", () => {
    const options = strictest({
      ...BUNDLER,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ["node"],
      typeRoots: [join(REPO, "node_modules", "@types")],
      lib: ["lib.es2023.d.ts"],
    });
    const files = [
      ...sources(join(REPO, "abi")),
      ...sources(join(REPO, "errors")),
      ...sources(join(REPO, "transformer")),
    ];
    // Two files keep residual differences (docs/instrument.md, "Limits").
    const sample = files.filter((f) => !/transformer[\\/](analyze|tsc[\\/]index)\.ts$/.test(f));
    const { plain, added } = newDiagnostics(REPO, files, sample, options);
    assert.equal(report(plain), "", "the plain sources are clean");
    assert.equal(report(added), "");
  });

  it("zod's shipped TypeScript sources: the instrumented sample adds no error", () => {
    const root = join(REPO, "node_modules", "zod");
    const files = [
      ...sources(join(root, "src", "v4", "core"), (f) => !/[\\/]tests[\\/]/.test(f)),
      ...sources(join(root, "src", "v4", "classic"), (f) => !/[\\/]tests[\\/]/.test(f)),
    ];
    // Files with residual differences (docs/instrument.md, "Limits") are checked by the others' imports only.
    const residual = /[\\/](schemas|checks|errors|parse|registries|to-json-schema|util)\.ts$/;
    const sample = files.filter((f) => !residual.test(f));
    assert.ok(sample.length >= 15, `a real sample (${sample.length} files)`);
    const { added } = newDiagnostics(
      root,
      files,
      sample,
      strictest({ ...BUNDLER, lib: ["lib.es2022.d.ts", "lib.dom.d.ts"], verbatimModuleSyntax: false }),
    );
    assert.equal(report(added), "");
  });
});
