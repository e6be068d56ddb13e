/**
 * The hook bodies must stay above V8's inlining limit for callees (460 bytes of bytecode), so that
 * TurboFan never copies them into the never-taken branches of a function whose probe was switched
 * off (runtime/registry/dispatch.ts, "inlining barrier"); so must the probe dispatcher's `settle`,
 * so that V8 compiles it on its own whatever the order (runtime/probes/dispatch.ts). This runs a child with
 * `--print-bytecode` for each hook, drives every hook once and reads the bytecode length V8 prints.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fixture, RUNTIME_URL } from "./registry-helpers.js";

/** V8's `--max-inlined-bytecode-size` (the same in Node 20, 22 and 24). */
const V8_INLINE_LIMIT = 460;

const DRIVER = `
const { watch } = await import(${JSON.stringify(RUNTIME_URL.href)});
const basic = await import(${JSON.stringify(fixture("basic.mjs").href)});
const w1 = watch("src/basic.ts:sum", {}, { lines: "all" });
basic.sum(1, 2, 3);
const w2 = watch("src/basic.ts:fail", {});
try { basic.fail("x"); } catch {}
w1.close();
w2.close();
`;

/** Drives the probe dispatcher's return path (Dispatcher.settle) once. */
const PROBE_DRIVER = `
const { probes, Instrument } = await import(${JSON.stringify(new URL("../../runtime/index.js", import.meta.url).href)});
const basic = await import(${JSON.stringify(fixture("basic.mjs").href)});
class Noop extends Instrument { fire() {} }
const p = probes.attachTo("src/basic.ts:sum");
p.instruments.set("r", new Noop("noop", "1", { event: "return" }));
p.start();
basic.sum(1, 2, 3);
p.stop();
`;

function bytecodeLength(name: string, driver = DRIVER): number | undefined {
  const r = spawnSync(
    process.execPath,
    ["--print-bytecode", `--print-bytecode-filter=${name}`, "--input-type=module", "-e", driver],
    {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const at = r.stdout.indexOf(`<SharedFunctionInfo ${name}>`);
  if (at < 0) return undefined;
  const m = /Bytecode length: (\d+)/.exec(r.stdout.slice(at));
  return m ? Number(m[1]) : undefined;
}

for (const name of ["hookEntry", "hookLine", "hookExit", "hookThrow"]) {
  test(`${name} stays above V8's ${V8_INLINE_LIMIT}-byte inlining limit`, () => {
    const length = bytecodeLength(name);
    assert.ok(length !== undefined, `${name} was not compiled: the driver did not reach it`);
    assert.ok(length > V8_INLINE_LIMIT, `${name} is ${length} bytes of bytecode`);
  });
}

// The same for the probe dispatcher's `settle` (runtime/probes/dispatch.ts): always compiled on
// its own, so where it lands does not depend on the order V8 compiles the return path.
test(`the probe dispatcher's settle stays above V8's ${V8_INLINE_LIMIT}-byte inlining limit`, () => {
  const length = bytecodeLength("settle", PROBE_DRIVER);
  assert.ok(length !== undefined, "settle was not compiled: the driver did not reach it");
  assert.ok(length > V8_INLINE_LIMIT, `settle is ${length} bytes of bytecode`);
});
