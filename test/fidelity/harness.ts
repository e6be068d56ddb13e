/**
 * The parent side of the fidelity tests: generate inputs once (fast-check, fixed seed), run the
 * same driver on every variant in its own child process, and compare each case with the plain
 * build's result.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { TMP, type CorpusBuild } from "./build-corpus.js";
import { VARIANTS, type DriverOutput, type Variant } from "./driver-common.js";

/** Seed of every property; override with FIDELITY_SEED=… to explore, FIDELITY_RUNS=… for more runs. */
export const SEED = Number(process.env["FIDELITY_SEED"] ?? 20260426);
export const RUNS_SCALE = Number(process.env["FIDELITY_RUNS_SCALE"] ?? 1);

/** Inputs of one property: `runs` samples of `arb` from the fixed seed (plus the property's index). */
export function generate<T>(arb: fc.Arbitrary<T>, runs: number, salt: number): T[] {
  fc.configureGlobal({ ...fc.readConfigureGlobal(), baseSize: "medium" });
  return fc.sample(arb, { seed: SEED + salt, numRuns: Math.max(1, Math.round(runs * RUNS_SCALE)) });
}

export function driverPath(name: string): string {
  return fileURLToPath(new URL(`./drivers/${name}.js`, import.meta.url));
}

function runChild(
  driver: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [driver, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stderr, stdout });
    });
  });
}

export interface VariantRun {
  readonly outputs: Record<Variant, DriverOutput>;
}

/**
 * Runs `driver` on each variant (plain on the plain build, the others on the instrumented one),
 * two at a time (the CI machine has two cores).
 */
export async function runVariants(
  build: CorpusBuild,
  driver: string,
  label: string,
  inputs: unknown[],
  variants: readonly Variant[] = VARIANTS,
): Promise<Record<Variant, DriverOutput>> {
  const dir = join(TMP, "runs", `${build.spec.name}-${label}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const inputsPath = join(dir, "inputs.json");
  writeFileSync(inputsPath, JSON.stringify(inputs));
  const outputs = {} as Record<Variant, DriverOutput>;
  const queue = [...variants];
  const worker = async (): Promise<void> => {
    for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
      const out = join(dir, `${v}.json`);
      const buildDir = v === "plain" ? build.plainDir : build.instrumentedDir;
      const r = await runChild(driverPath(driver), [buildDir, v, inputsPath, out], 120_000);
      if (r.code !== 0) {
        throw new Error(`${driver} (${v}) exited with ${r.code}; inputs in ${inputsPath}\n${r.stderr.slice(-4000)}`);
      }
      outputs[v] = JSON.parse(readFileSync(out, "utf8")) as DriverOutput;
    }
  };
  await Promise.all([worker(), worker()]);
  return outputs;
}

/**
 * Every variant's per-case results equal the plain build's; on a mismatch the message names the
 * seed, the case index and its input. Also checks the export shapes and the registry state.
 */
export function assertSameBehaviour(outputs: Record<Variant, DriverOutput>, inputs: unknown[], what: string): void {
  const plain = outputs.plain;
  assert.equal(plain.registry, "none", "the plain build must not touch the Diagnose registry");
  assert.equal(plain.flagGlobals, 0, "the plain build defines no flags");
  assert.equal(plain.cases.length, inputs.length);
  for (const v of Object.keys(outputs) as Variant[]) {
    if (v === "plain") continue;
    const o = outputs[v];
    assert.equal(o.cases.length, inputs.length, `${what} (${v}): number of cases`);
    for (let i = 0; i < inputs.length; i++) {
      try {
        assert.deepStrictEqual(o.cases[i], plain.cases[i]);
      } catch (error) {
        throw new Error(
          `${what}: variant "${v}" differs from the plain build at case ${i} (seed ${SEED}).\n` +
            `input: ${JSON.stringify(inputs[i])}\n${(error as Error).message}`,
        );
      }
    }
    assert.deepEqual(
      diffs(o.shape, plain.shape, "", []),
      [],
      `${what} (${v}): exports (names, fn.name, fn.length, members) differ from the plain build`,
    );
    assert.ok(o.flagGlobals > 0, `${what} (${v}): instrumented build defines flags`);
    assert.deepEqual(o.hooks.watcherErrors, [], `${what} (${v}): watcher errors`);
    assert.deepEqual(o.hooks.failed, [], `${what} (${v}): failed watches/probes`);
  }
  if (outputs.dormant !== undefined) assert.equal(outputs.dormant.registry, "bootstrap");
  if (outputs.off !== undefined) {
    assert.equal(outputs.off.registry, "runtime");
    assert.equal(outputs.off.hooks.entry, 0);
  }
  if (outputs.on !== undefined) {
    const h = outputs.on.hooks;
    assert.ok(h.entry > 0 && h.line > 0 && h.return > 0, `${what}: sites fired while on: ${JSON.stringify(h)}`);
    assert.equal(h.watches["failed"] ?? 0, 0);
    assert.equal(h.watches["pending"] ?? 0, 0, `${what}: every function's module loaded and its watch is active`);
  }
  if (outputs.probes !== undefined) {
    assert.ok(outputs.probes.hooks.probeFires > 0, `${what}: no-op instruments fired`);
    assert.equal(outputs.probes.hooks.probes["failed"] ?? 0, 0);
  }
}

/** Paths where `a` and `b` differ (first 10), as "path: a vs b". */
export function diffs(a: unknown, b: unknown, path: string, out: string[], limit = 10): string[] {
  if (out.length >= limit) return out;
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys)
      diffs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`, out, limit);
  } else if (!Object.is(a, b)) {
    out.push(`${path}: ${JSON.stringify(a)} (instrumented) vs ${JSON.stringify(b)} (plain)`);
  }
  return out;
}

/** One line for the test log: how much ran. */
export function summary(outputs: Record<Variant, DriverOutput>, inputs: unknown[]): string {
  const on = outputs.on?.hooks;
  return (
    `${inputs.length} cases × ${Object.keys(outputs).length} variants; ` +
    (on ? `sites on: ${on.entry} entries, ${on.line} lines, ${on.return} returns, ${on.throw} throws; ` : "") +
    (outputs.probes
      ? `no-op probe fires: ${outputs.probes.hooks.probeFires} (${JSON.stringify(outputs.probes.hooks.probes)}); `
      : "") +
    (on !== undefined && on.copiesRead > 0 ? `deferred copy texts read: ${on.copiesRead}; ` : "") +
    `ms: ${Object.entries(outputs)
      .map(([v, o]) => `${v} ${o.ms}`)
      .join(", ")}`
  );
}
