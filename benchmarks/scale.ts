/**
 * Scale: a generated program with `sites` sites (20,000 small functions for 100,000 sites), built
 * plain and instrumented; each build loaded in its own process (scale-child.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { instrument } from "../transformer/index.js";
import { strip } from "./build-workloads.js";
import { WORK } from "./paths.js";
import type { ScaleChildResult } from "./scale-child.js";

export interface ScaleResult {
  readonly sites: number;
  readonly functions: number;
  readonly modules: number;
  readonly plain: ScaleChildResult | null;
  readonly diagnose: ScaleChildResult | null;
  /** Extra heap per registered site (diagnose − plain) / sites. */
  readonly heapBytesPerSite: number | null;
  readonly errors: string[];
}

const DIR = join(WORK, "scale");
const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "scale-child.js");

/** Five sites each: entry, two lines, return, throw. */
function fn(k: number): string {
  return `export function f${k}(a: number, b: number): number {\n  const c = a + b * ${(k % 7) + 1};\n  return c > ${k % 100} ? c - b : c * 2;\n}\n`;
}

export function measureScale(targetSites: number, probes: number, log: (line: string) => void): ScaleResult {
  const functionsPerModule = 1000;
  const modules = Math.max(1, Math.round(targetSites / 5 / functionsPerModule));
  rmSync(DIR, { recursive: true, force: true });
  let sites = 0;
  let functions = 0;
  for (const build of ["plain", "diagnose"]) mkdirSync(join(DIR, build), { recursive: true });
  for (const build of ["plain", "diagnose"]) writeFileSync(join(DIR, build, "package.json"), '{ "type": "module" }\n');
  for (let m = 0; m < modules; m++) {
    let src = "";
    for (let k = 0; k < functionsPerModule; k++) src += fn(k);
    const file = join(DIR, "scale", `m${m}.ts`);
    const r = instrument(src, file, { root: DIR, packageName: "scale", module: "esm", sourceMap: false });
    for (const f of r.sites?.functions ?? []) {
      functions++;
      sites += f.sites.length;
    }
    writeFileSync(join(DIR, "plain", `m${m}.js`), strip(src, file).code);
    writeFileSync(join(DIR, "diagnose", `m${m}.js`), strip(r.code, file).code);
  }
  log(`scale: ${modules} modules, ${functions} functions, ${sites} sites; ${probes} probes`);
  const errors: string[] = [];
  const run = (build: "plain" | "diagnose"): ScaleChildResult | null => {
    const resultFile = join(DIR, `${build}.json`);
    const cfg = { build, dir: DIR, modules, functionsPerModule, probes, resultFile };
    const r = spawnSync(process.execPath, ["--expose-gc", CHILD, JSON.stringify(cfg)], {
      encoding: "utf8",
      timeout: 300_000,
    });
    if (r.status !== 0) {
      errors.push(`${build}: exit ${r.status}: ${r.stderr.trim().split("\n").slice(0, 4).join(" | ")}`);
      return null;
    }
    return JSON.parse(readFileSync(resultFile, "utf8")) as ScaleChildResult;
  };
  const plain = run("plain");
  const diagnose = run("diagnose");
  return {
    sites,
    functions,
    modules,
    plain,
    diagnose,
    heapBytesPerSite: plain && diagnose ? (diagnose.heapBytes - plain.heapBytes) / sites : null,
    errors,
  };
}
