/**
 * The hook bodies must stay above V8's inlining limit for callees (460 bytes of bytecode), so that
 * TurboFan never copies them into the never-taken branches of a function whose probe was switched
 * off (runtime/registry/dispatch.ts, "inlining barrier"). This runs a child with
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

function bytecodeLength(name: string): number | undefined {
  const r = spawnSync(
    process.execPath,
    ["--print-bytecode", `--print-bytecode-filter=${name}`, "--input-type=module", "-e", DRIVER],
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
