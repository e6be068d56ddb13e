/**
 * Source maps are a product feature: an error thrown in instrumented code, run with
 * --enable-source-maps, points at the original .ts line and column — whether the type stripper
 * runs after instrument() (composing our map as its input map) or before it (inputSourceMap).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { transformSync } from "@swc/core";
import { instrument } from "../../transformer/index.js";
import { writeTemp } from "./harness.js";

const SOURCE = [
  `type Input = { a: number };`,
  `const label: string = "é中😀"; // non-ASCII before the functions`,
  `export function fail(input: Input): number {`,
  `  const doubled: number = input.a * 2;`,
  `  if (doubled > 1) throw new Error("boom");`,
  `  return doubled;`,
  `}`,
  `export const run = (n: number) => fail({ a: n });`,
  `run(label.length);`,
  ``,
].join("\n");
const THROW_LINE = 5;
const THROW_COLUMN = SOURCE.split("\n")[THROW_LINE - 1]!.indexOf("new Error") + 1;

function runWithSourceMaps(file: string): string {
  const child = spawnSync(process.execPath, ["--enable-source-maps", file], { encoding: "utf8" });
  assert.notEqual(child.status, 0, "the script throws");
  return child.stderr;
}

function inline(map: object): string {
  return `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString("base64")}\n`;
}

test("instrument first, then strip types: the stack points at the original .ts", () => {
  const tsFile = writeTemp("orig.ts", SOURCE);
  const result = instrument(SOURCE, tsFile, { root: dirname(tsFile), packageName: "maps" });
  assert.ok(result.map);
  assert.equal(result.map.sourcesContent?.[0], SOURCE, "the map carries the original text");
  const js = transformSync(result.code, {
    filename: tsFile,
    sourceMaps: true,
    inputSourceMap: JSON.stringify(result.map),
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "es6" },
  });
  const stderr = runWithSourceMaps(writeTemp("out.mjs", js.code + inline(JSON.parse(js.map!) as object)));
  assert.match(stderr, new RegExp(`orig\\.ts:${THROW_LINE}:${THROW_COLUMN}\\b`), stderr);
  assert.match(stderr, /orig\.ts:8:\d+/, "the caller's frame maps too");
});

test("strip types first, then instrument with inputSourceMap: the composed map points at the .ts", () => {
  const tsFile = writeTemp("orig.ts", SOURCE);
  const stripped = transformSync(SOURCE, {
    filename: tsFile,
    sourceMaps: true,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "es6" },
  });
  const jsFile = join(dirname(tsFile), "orig.mjs");
  const result = instrument(stripped.code, jsFile, { root: dirname(tsFile), inputSourceMap: stripped.map! });
  assert.ok(result.map && result.map.sources.some((s) => s?.endsWith("orig.ts")), "sources are the .ts file");
  const stderr = runWithSourceMaps(writeTemp("orig.mjs", result.code + inline(result.map)));
  assert.match(stderr, new RegExp(`orig\\.ts:${THROW_LINE}:${THROW_COLUMN}\\b`), stderr);
});
