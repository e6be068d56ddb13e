/**
 * Transformer limits: how `instrument()`'s time grows with the number of (outlined) functions in
 * one file, and how deep a recursion can go plain, instrumented with the probe off, and with a
 * probe on. Each recursion build runs in its own process (transformer-limits-child.ts), so the
 * stack starts equally empty.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { instrument } from "../transformer/index.js";
import { strip } from "./build-workloads.js";
import { WORK } from "./paths.js";

export interface InstrumentScaleRow {
  readonly functions: number;
  readonly bytes: number;
  readonly ms: number;
  readonly usPerFunction: number;
}

export interface RecursionDepth {
  readonly plain: number | null;
  /** The function outlined (the default for a small module-level function). */
  readonly off: number | null;
  readonly on: number | null;
  /** The function instrumented in place (`outline: false`, as every larger function is). */
  readonly inPlaceOff: number | null;
  readonly inPlaceOn: number | null;
}

export interface TransformerLimitsResult {
  readonly instrumentScale: readonly InstrumentScaleRow[];
  /** Time per function of each size over the smallest's (1.00 = linear). */
  readonly perFunctionRatios: readonly number[];
  readonly recursion: RecursionDepth;
  readonly errors: string[];
}

const DIR = join(WORK, "transformer-limits");
const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "transformer-limits-child.js");

/** A generated module of `n` small exported functions, each outlined (the shape of generated clients). */
export function generatedModule(n: number): string {
  let src = "";
  for (let k = 0; k < n; k++)
    src += `export function f${k}(a: number, b: number): number {\n  const c = a + b * ${(k % 7) + 1};\n  return c > ${k % 100} ? c - b : c * 2;\n}\n`;
  return src;
}

const RECURSIVE = `export function down(n: number): number {\n  return n === 0 ? 0 : 1 + down(n - 1);\n}\n`;

export function measureTransformerLimits(
  sizes: readonly number[],
  log: (line: string) => void,
): TransformerLimitsResult {
  const errors: string[] = [];
  const instrumentScale: InstrumentScaleRow[] = [];
  // One warm-up so the first size does not pay for the JIT.
  instrument(generatedModule(200), join(DIR, "warm.ts"), { root: DIR, sourceMap: true });
  for (const n of sizes) {
    const src = generatedModule(n);
    const t0 = performance.now();
    instrument(src, join(DIR, `g${n}.ts`), { root: DIR, packageName: "limits", sourceMap: true });
    const ms = performance.now() - t0;
    instrumentScale.push({ functions: n, bytes: src.length, ms, usPerFunction: (ms * 1000) / n });
    log(`instrument(): ${n} functions in ${ms.toFixed(0)} ms (${((ms * 1000) / n).toFixed(0)} µs each)`);
  }
  const first = instrumentScale[0]?.usPerFunction ?? 1;
  const perFunctionRatios = instrumentScale.map((r) => r.usPerFunction / first);

  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, "package.json"), '{ "type": "module" }\n');
  const file = join(DIR, "src", "rec.ts");
  writeFileSync(join(DIR, "plain.js"), strip(RECURSIVE, file).code);
  for (const [name, outline] of [
    ["diagnose.js", true],
    ["diagnose-in-place.js", false],
  ] as const) {
    writeFileSync(
      join(DIR, name),
      strip(
        instrument(RECURSIVE, file, { root: DIR, packageName: "limits", module: "esm", sourceMap: false, outline })
          .code,
        file,
      ).code,
    );
  }
  const depth = (build: "plain" | "off" | "on", inPlace = false): number | null => {
    const r = spawnSync(process.execPath, [CHILD, JSON.stringify({ dir: DIR, build, inPlace })], {
      encoding: "utf8",
      timeout: 60_000,
    });
    const value = Number(r.stdout.trim());
    if (r.status !== 0 || !Number.isFinite(value)) {
      errors.push(`recursion ${build}: exit ${r.status}: ${r.stderr.trim().split("\n").slice(0, 3).join(" | ")}`);
      return null;
    }
    return value;
  };
  const recursion = {
    plain: depth("plain"),
    off: depth("off"),
    on: depth("on"),
    inPlaceOff: depth("off", true),
    inPlaceOn: depth("on", true),
  };
  log(
    `recursion depth: plain ${recursion.plain}; outlined off ${recursion.off}, on ${recursion.on}; in place off ${recursion.inPlaceOff}, on ${recursion.inPlaceOn}`,
  );
  rmSync(DIR, { recursive: true, force: true });
  return { instrumentScale, perFunctionRatios, recursion, errors };
}
