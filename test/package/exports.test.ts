/**
 * The curated public API: what `diagnose`, `diagnose/testing` and `diagnose/registry` export, the
 * same in the ESM and the CommonJS build, every error class a user can receive among them, and no
 * internal type leaking into the declarations of `diagnose/instrument`.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as diagnose from "../../runtime/index.js";
import * as registry from "../../runtime/registry/index.js";
import * as testing from "../../runtime/testing/index.js";

const DIST = fileURLToPath(new URL("../../", import.meta.url));
const require = createRequire(import.meta.url);

type Module = Record<string, unknown>;
const cjs = (entry: string): Module => require(join(DIST, "cjs", "runtime", entry)) as Module;
const names = (m: Module): string[] =>
  Object.keys(m)
    .filter((k) => k !== "__esModule")
    .sort();

describe("the public entry points", () => {
  test("diagnose: probes, instruments, the manager, errors — and no internals", () => {
    for (const name of [
      "probes",
      "Instrument",
      "LogInstrument",
      "IncrementInstrument",
      "HistogramInstrument",
      "StatsdInstrument",
      "DogStatsD",
      "InstrumentManager",
      "manager",
      "DiagnoseError",
      "describeError",
    ]) {
      assert.ok(name in diagnose, `${name} is exported`);
    }
    // Built-ins of expressions and the log formatter are internals; Probe, InstrumentMap and
    // EventNamespace are made by the runtime, so users get their types only.
    for (const name of ["mag", "defaultGlobalNamespace", "formatLine", "Probe", "InstrumentMap", "EventNamespace"]) {
      assert.ok(!(name in diagnose), `${name} is not a value export`);
    }
  });

  test("diagnose/testing has the test helpers; the old names in diagnose still work (deprecated)", () => {
    for (const name of ["ProbeTestInstrument", "Sensor", "sensor", "Breakpoint", "run", "storeConformance"]) {
      assert.ok(name in testing, `${name} is exported from diagnose/testing`);
    }
    for (const name of ["Breakpoint", "run", "storeConformance"]) {
      assert.ok(!(name in diagnose), `${name} is for tests: not exported from diagnose`);
    }
    assert.equal(diagnose.sensor, testing.sensor);
    assert.equal(diagnose.Sensor, testing.Sensor);
    assert.equal(diagnose.ProbeTestInstrument, testing.ProbeTestInstrument);
    const declarations = readFileSync(join(DIST, "runtime", "index.d.ts"), "utf8");
    for (const name of ["sensor", "Sensor", "ProbeTestInstrument"]) {
      assert.match(declarations, new RegExp(`@deprecated Import \`${name}\` from "diagnose/testing"`));
    }
  });

  test("diagnose/registry: the low-level contract of docs/registry-contract.md", () => {
    for (const name of ["watch", "listFunctions", "SyncGate", "WatcherError", "SyncPauseError"])
      assert.ok(name in registry, name);
    const declarations = readFileSync(join(DIST, "runtime", "registry", "index.d.ts"), "utf8");
    assert.doesNotMatch(declarations, /resetForTests/, "test-only API is stripped from the types");
  });

  test("the CommonJS build exports the same names as the ESM build", () => {
    assert.deepEqual(names(cjs("index.js")), names(diagnose as Module));
    assert.deepEqual(names(cjs("testing/index.js")), names(testing as Module));
    assert.deepEqual(
      names(cjs("registry/index.js")).filter((n) => n !== "resetForTests"),
      names(registry as Module).filter((n) => n !== "resetForTests"),
    );
  });

  test("every error class the runtime defines is exported under its own name (test helpers' from diagnose/testing)", async () => {
    const runtimeDir = join(DIST, "runtime");
    // Test helpers' errors are exported where the helpers are.
    const testingDirs = [join(runtimeDir, "breakpoints"), join(runtimeDir, "testing")];
    const defined = new Map<string, { value: unknown; from: Module }>();
    const walk = async (dir: string): Promise<void> => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        // worker-side.js is a worker thread's entry, not a module to import.
        else if (entry.name.endsWith(".js") && entry.name !== "worker-side.js") {
          const module = (await import(pathToFileURL(path).href)) as Module;
          const from = (testingDirs.some((d) => path.startsWith(d + "/")) ? testing : diagnose) as Module;
          for (const value of Object.values(module)) {
            // The prototype chain, not instanceof: DiagnoseError's instanceof checks a brand on instances.
            if (
              typeof value === "function" &&
              Object.prototype.isPrototypeOf.call(diagnose.DiagnoseError.prototype, value.prototype)
            )
              defined.set(value.name, { value, from });
          }
        }
      }
    };
    await walk(runtimeDir);
    assert.ok(defined.size >= 10, `found ${defined.size} error classes`);
    const missing = [...defined]
      .filter(([name, { value, from }]) => from[name] !== value)
      .map(([name]) => name)
      .sort();
    assert.deepEqual(missing, []);
  });

  test("diagnose/instrument's declarations name only types it exports", () => {
    const declarations = readFileSync(join(DIST, "transformer", "index.d.ts"), "utf8");
    assert.doesNotMatch(declarations, /\bAnalysis\b|moduleSites/);
  });
});
