/**
 * The manager benchmark (issue 11): apply() with many specs, none changed vs all new, and churn
 * (add/remove cycles of one spec: heap growth, and the target's per-call cost after the churn next
 * to its cost after one on→off cycle). Runs in a child process with `--expose-gc`.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { instrument } from "../transformer/index.js";
import { strip } from "./build-workloads.js";
import type { ByHandChildResult, ManagerChildResult } from "./manager-child.js";
import { DIST, WORK } from "./paths.js";

export interface ManagerBenchResult extends ManagerChildResult {
  readonly goals: { readonly applyNoneChangedMs: 5; readonly applyAllNewMs: 50; readonly heapGrowthBytes: 1_048_576 };
}

const DIR = join(WORK, "manager");
const CHILD = join(fileURLToPath(new URL(".", import.meta.url)), "manager-child.js");

export function measureManager(quick: boolean, log: (line: string) => void): ManagerBenchResult | string {
  const specs = 1_000;
  const cycles = quick ? 1_000 : 10_000;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, "package.json"), '{ "type": "module" }\n');
  let src = "";
  for (let k = 0; k < specs + 2; k++)
    src += `export function f${k}(a: number, b: number): number {\n  const c = a + b * ${(k % 7) + 1};\n  return c > 50 ? c - b : c * 2;\n}\n`;
  const file = join(DIR, "bench", "fns.ts");
  const r = instrument(src, file, { root: DIR, packageName: "bench", module: "esm", sourceMap: false });
  writeFileSync(join(DIR, "fns.js"), strip(r.code, file).code);
  log(`manager: apply() with ${specs} specs; churn ${cycles} add/remove cycles`);
  const resultFile = join(DIR, "result.json");
  const cfg = { dir: DIR, specs, cycles, resultFile, runtime: pathToFileURL(join(DIST, "runtime", "index.js")).href };
  const failed = runChild(cfg);
  if (failed !== undefined) return failed;
  const res = JSON.parse(readFileSync(resultFile, "utf8")) as ManagerChildResult;
  // The cold floor needs a process of its own: after the manager's rounds the probes' code is warm.
  const failedByHand = runChild({ ...cfg, byHandOnly: true });
  if (failedByHand !== undefined) return failedByHand;
  const { byHandFirstMs } = JSON.parse(readFileSync(resultFile, "utf8")) as ByHandChildResult;
  return { ...res, byHandFirstMs, goals: { applyNoneChangedMs: 5, applyAllNewMs: 50, heapGrowthBytes: 1_048_576 } };
}

/** Runs the child with `cfg`; the reason when it failed. */
function runChild(cfg: object): string | undefined {
  const run = spawnSync(process.execPath, ["--expose-gc", CHILD, JSON.stringify(cfg)], {
    encoding: "utf8",
    timeout: 300_000,
  });
  if (run.status === 0) return undefined;
  return `manager child failed (exit ${run.status}): ${run.stderr.trim().split("\n").slice(0, 4).join(" | ")}`;
}

/** The Markdown section of docs/benchmarks.md. */
export function managerText(m: ManagerBenchResult | { skipped: string } | undefined): string {
  if (m === undefined) return "Not measured in this run.";
  if ("skipped" in m) return `Skipped: ${m.skipped}.`;
  const met = (ok: boolean) => (ok ? "met" : "not met");
  return [
    "| measure | result | goal |",
    "| --- | ---: | --- |",
    `| apply(), ${m.specs} specs, none changed | ${m.applyNoneChangedMs.toFixed(2)} ms | ≤ 5 ms (${met(m.applyNoneChangedMs <= 5)}) |`,
    `| of which the memory store's list() | ${m.storeListMs.toFixed(2)} ms | |`,
    `| apply(), ${m.specs} specs, all new: the process's first (cold) | ${m.applyAllNewFirstMs.toFixed(1)} ms | |`,
    ...(m.byHandFirstMs === undefined
      ? []
      : [
          `| the same ${m.specs} instruments attached by hand (probes API): a process's first (cold) | ${m.byHandFirstMs.toFixed(1)} ms | |`,
        ]),
    `| apply(), ${m.specs} specs, all new: warmed (median after 4 rounds) | ${m.applyAllNewMs.toFixed(1)} ms | ≤ 50 ms (${met(m.applyAllNewMs <= 50)}) |`,
    `| the same ${m.specs} instruments attached by hand (probes API), warmed | ${m.byHandMs.toFixed(1)} ms | |`,
    ...(m.applyOneTargetMs === undefined
      ? []
      : [
          `| apply(), ${m.specs} specs on one target, all new | ${m.applyOneTargetMs.toFixed(1)} ms | |`,
          `| apply() removing those ${m.specs} | ${(m.removeOneTargetMs ?? 0).toFixed(1)} ms | |`,
        ]),
    `| churn, ${m.cycles} add/remove cycles (each applied) | ${m.churnMs.toFixed(0)} ms | |`,
    `| heap growth after the churn | ${(m.heapGrowthBytes / 1024).toFixed(0)} KiB | ≤ 1 MiB (${met(m.heapGrowthBytes <= 1_048_576)}) |`,
    `| target ÷ control per call: never touched | ${m.ratioNeverTouched.toFixed(2)} | |`,
    `| target ÷ control per call: after one on→off | ${m.ratioAfterOnOff.toFixed(2)} | |`,
    `| target ÷ control per call: after the churn | ${m.ratioAfterChurn.toFixed(2)} | = after on→off |`,
  ].join("\n");
}
