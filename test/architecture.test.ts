/**
 * The one-way arrows of docs/architecture.md, checked on the source: every import of every
 * product folder (abi, errors, transformer, runtime, integrations, cli) is parsed with the
 * TypeScript parser and held against the table below. A forbidden arrow fails with the file, the
 * import and the rule it breaks.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PRODUCT_FOLDERS = ["abi", "errors", "transformer", "runtime", "integrations", "cli"];

/** The build side's packages: optional dependencies, never loaded by the runtime. */
const BUILD_PACKAGES = ["@swc/core", "magic-string", "@jridgewell/remapping"];
/** The one module allowed to load them as values (on first use, with a clear error when missing). */
const BUILD_PACKAGE_LOADER = "transformer/dependencies.ts";

/**
 * Which layers each layer may import. A layer is a top-level folder, or `runtime/<folder>` (the
 * files directly in runtime/, such as runtime/index.ts, are the layer "runtime").
 */
const MAY_IMPORT: Record<string, (target: string) => boolean> = {
  errors: () => false,
  abi: (t) => t === "errors",
  transformer: (t) => t === "abi" || t === "errors",
  "runtime/registry": (t) => t === "abi" || t === "errors",
  runtime: (t) => t === "abi" || t === "errors" || isRuntime(t),
  integrations: (t) => t === "abi" || t === "errors" || t === "transformer" || isRuntime(t),
  cli: (t) => t === "abi" || t === "errors" || t === "transformer" || t === "integrations" || isRuntime(t),
};

function isRuntime(layer: string): boolean {
  return layer === "runtime" || layer.startsWith("runtime/");
}

/** Packages (besides `node:` builtins) each layer may import. */
function packageAllowed(
  layer: string,
  name: string,
  typeOnly: boolean,
  file: string,
  declared: Set<string>,
): string | undefined {
  if (!declared.has(name)) return `"${name}" is not declared in package.json`;
  if (layer === "errors") return "errors/ imports nothing";
  if (layer === "abi" || isRuntime(layer))
    return `${layer}/ imports no package (the runtime must load where the build side is not installed)`;
  if (name === "typescript" && !typeOnly)
    return "typescript is an optional peer: the tsc plugin gets it from ts-patch (import type only)";
  if (name === "unplugin" && !typeOnly) {
    return "unplugin is an optional dependency loaded on first use by integrations/bundlers/core.ts (import type only)";
  }
  if (BUILD_PACKAGES.includes(name) && !typeOnly && file !== BUILD_PACKAGE_LOADER) {
    return `${name} is loaded on first use through ${BUILD_PACKAGE_LOADER} (a static import fails before our error can name the package)`;
  }
  return undefined;
}

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function productFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (/\.[cm]?ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")) files.push(path);
    }
  };
  for (const folder of PRODUCT_FOLDERS) walk(folder);
  return files.sort();
}

/** Static imports and re-exports, `import()` and `import("…")` types, and `require("…")` calls. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(join(REPO_ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const add = (node: ts.Node | undefined, typeOnly: boolean): void => {
    if (node !== undefined && ts.isStringLiteralLike(node)) found.push({ file, specifier: node.text, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, allTypes);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire =
        (ts.isIdentifier(callee) && callee.text === "require") ||
        (ts.isCallExpression(callee) &&
          ts.isIdentifier(callee.expression) &&
          callee.expression.text === "createRequire");
      if (isImport || isRequire) add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function layerOf(path: string): string {
  const parts = path.split("/");
  if (parts[0] === "runtime" && parts.length > 2) return `runtime/${parts[1]}`;
  return parts[0]!;
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

const isBuiltin = (specifier: string): boolean => specifier.startsWith("node:") || builtinModules.includes(specifier);

function declaredPackages(): Set<string> {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as Record<
    string,
    Record<string, string> | undefined
  >;
  return new Set([
    ...Object.keys(manifest["dependencies"] ?? {}),
    ...Object.keys(manifest["optionalDependencies"] ?? {}),
    ...Object.keys(manifest["peerDependencies"] ?? {}),
  ]);
}

/** Every import of the product folders that breaks a rule, as "file → import: why". */
function violations(): string[] {
  const declared = declaredPackages();
  const out: string[] = [];
  for (const file of productFiles()) {
    const from = layerOf(file);
    for (const imp of importsOf(file)) {
      const { specifier } = imp;
      if (specifier.startsWith(".")) {
        const target = relative(REPO_ROOT, join(REPO_ROOT, dirname(file), specifier))
          .split(sep)
          .join("/");
        const to = layerOf(target);
        if (to === from) continue;
        if (!PRODUCT_FOLDERS.includes(target.split("/")[0]!)) {
          out.push(`${file} → ${specifier}: product code never imports ${target.split("/")[0]}/`);
        } else if (to === "runtime/testing" && file !== "runtime/index.ts") {
          out.push(
            `${file} → ${specifier}: runtime/testing is for tests (only runtime/index.ts re-exports it, deprecated)`,
          );
        } else if (!(MAY_IMPORT[from] ?? (from.startsWith("runtime/") ? MAY_IMPORT["runtime"]! : () => false))(to)) {
          out.push(`${file} → ${specifier}: ${from}/ may not import ${to}/`);
        }
      } else if (isBuiltin(specifier)) {
        if (from === "errors") out.push(`${file} → ${specifier}: errors/ imports nothing`);
      } else {
        const why = packageAllowed(from, packageName(specifier), imp.typeOnly, file, declared);
        if (why !== undefined) out.push(`${file} → ${specifier}: ${why}`);
      }
    }
  }
  return out;
}

describe("architecture: the one-way arrows between folders", () => {
  test("the import parser sees every kind of import", () => {
    // The checks below are only as good as this: a kind of import it missed would never fail.
    const imports = importsOf("integrations/node/require-hook.ts").map(
      (i) => `${i.specifier}${i.typeOnly ? " (type)" : ""}`,
    );
    assert.ok(imports.includes("./transform.js (type)"), `typeof import("…") not seen: ${imports.join(", ")}`);
    assert.ok(imports.includes("./transform.js"), `createRequire(…)("…") not seen: ${imports.join(", ")}`);
    assert.ok(imports.includes("node:module"));
    const runtime = importsOf("runtime/index.ts");
    assert.ok(runtime.some((i) => i.specifier === "./registry/index.js" && !i.typeOnly));
    assert.ok(
      runtime.some((i) => i.specifier === "./probes/probe.js" && i.typeOnly),
      "export type { … } from is type-only",
    );
  });

  test("every product folder exists and has files", () => {
    const files = productFiles();
    for (const folder of PRODUCT_FOLDERS)
      assert.ok(
        files.some((f) => f.startsWith(`${folder}/`)),
        folder,
      );
  });

  test("no import crosses a forbidden arrow", () => {
    assert.deepEqual(violations(), []);
  });

  test("the runtime imports nothing of the build side, even transitively", () => {
    // Walk the runtime's value imports from its entry points: none reaches transformer/ or a package.
    const seen = new Set<string>();
    const queue = ["runtime/index.ts", "runtime/testing/index.ts", "runtime/registry/index.ts"];
    const reached: string[] = [];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const imp of importsOf(file)) {
        if (imp.typeOnly) continue;
        if (!imp.specifier.startsWith(".")) {
          if (!isBuiltin(imp.specifier)) reached.push(`${file} → ${imp.specifier}`);
          continue;
        }
        const target = relative(REPO_ROOT, join(REPO_ROOT, dirname(file), imp.specifier))
          .split(sep)
          .join("/")
          .replace(/\.js$/, ".ts");
        if (!["runtime", "abi", "errors"].includes(target.split("/")[0]!)) reached.push(`${file} → ${imp.specifier}`);
        else queue.push(target);
      }
    }
    assert.deepEqual(reached, []);
    assert.ok(seen.size > 10, `walked ${seen.size} modules`);
  });
});
