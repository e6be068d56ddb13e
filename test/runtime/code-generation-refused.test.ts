/**
 * Expressions in a process that refuses code generation from strings (`node
 * --disallow-code-generation-from-strings`, a process-wide V8 flag, so real child processes): safe
 * expressions are interpreted and record what the generated code records in a process without the
 * flag; a JavaScript expression is refused at creation with CodeGenerationRefusedError (a bare name
 * still works); the probed functions run as they would without probes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { CodeGenerationRefusedError } from "../../runtime/index.js";
import { childEnv } from "../helpers/child-env.js";
import { loadInstrumented, type InstrumentedModule } from "../helpers/instrumented.js";
import { SOURCE, type Shop } from "./safe-expression-helpers.js";

const RUNTIME = new URL("../../runtime/index.js", import.meta.url).href;
const FLAG = "--disallow-code-generation-from-strings";

let m: InstrumentedModule<Shop>;
before(async () => {
  // Inline copies: deferred ones are evaluated from text, which the flag refuses too (a probe on
  // them fails with CopiesUnavailableError; see test/integrations/deferred-copies.test.ts).
  m = await loadInstrumented<Shop>(SOURCE, "src/codegen/shop.ts", { deferCopies: false });
});
after(() => rmSync(m.root, { recursive: true, force: true }));

/** Attaches instruments to `order`, calls it twice, prints what was recorded as JSON. */
function driver(): string {
  return `
const { probes, ProbeTestInstrument, InstrumentManager } = await import(${JSON.stringify(RUNTIME)});
const shop = await import(${JSON.stringify(pathToFileURL(m.outputFile).href)});
class Quiet extends InstrumentManager { handleError() {} }
const mgr = new Quiet();
mgr.globalNamespace.limit = 5;
const out = {};
try { new Function(""); out.codeGeneration = "allowed"; } catch (e) { out.codeGeneration = e.name; }
const safe = (value, options = {}) => new ProbeTestInstrument("s", value, { expressions: "safe", mgr, ...options });
const instruments = {
  value: safe("[args[0].id, cart.items.length, user.name, region, len(rest), \`\${region}-\${cart.id}\`, cart.id > limit]", {
    custom: { condition: "cart.id > 1 && startsWith(region, 'e')", tags: "({ region, big: cart.id >= 7 })" },
  }),
  line: safe("total + cart.id", { event: "line:3" }),
  failing: safe("cart.missing.x"),
  bare: new ProbeTestInstrument("b", "result", { mgr }),
};
const p = probes.attachTo(${JSON.stringify(m.qualified("order"))});
for (const [name, inst] of Object.entries(instruments)) p.instruments.set(name, inst);
p.start();
const cart = (id) => ({ id, items: [{ sku: "a" }, { sku: "b" }] });
out.returned = [shop.order(cart(1), { user: { name: "ann" }, region: "eu" }).id,
  shop.order(cart(7), { user: { name: "bob" }, region: "eu" }, 1, 2).id];
p.stop();
out.recorded = Object.fromEntries(Object.entries(instruments).map(([name, inst]) => [name, {
  log: inst.log.map(([tags, value]) => [tags, name === "bare" ? value.id : value]),
  error: inst.lastError === undefined ? null : inst.lastError.name + ": " + inst.lastError.message,
}]));
try {
  new ProbeTestInstrument("j", "args[0].id + 1", { mgr });
  out.javascript = "created";
} catch (e) {
  out.javascript = { name: e.name, code: e.code, message: e.message };
}
console.log(JSON.stringify(out));
`;
}

function run(flags: readonly string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", driver()], {
    encoding: "utf8",
    env: childEnv(),
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test("under the flag, safe expressions record what the generated code records without it", () => {
  const refused = run([FLAG]);
  const allowed = run([]);
  assert.equal(refused["codeGeneration"], "EvalError");
  assert.equal(allowed["codeGeneration"], "allowed");
  // The probed function ran as it does unprobed, in both.
  assert.deepEqual(refused["returned"], [1, 7]);
  assert.deepEqual(allowed["returned"], [1, 7]);
  assert.deepEqual(refused["recorded"], {
    value: {
      // The condition held for the second call only.
      log: [[{ region: "eu", big: true }, [7, 2, "bob", "eu", 2, "eu-7", true]]],
      error: null,
    },
    line: {
      log: [
        [{}, 2],
        [{}, 8],
      ],
      error: null,
    },
    failing: {
      log: [],
      error: 'ExpressionEvaluationError: Spec expression "cart.missing.x" failed: it read .x of undefined.',
    },
    // A bare name needs no code generation, even as JavaScript.
    bare: {
      log: [
        [{}, 1],
        [{}, 7],
      ],
      error: null,
    },
  });
  assert.deepEqual(refused["recorded"], allowed["recorded"]);
});

test("under the flag, a JavaScript expression is refused at creation with CodeGenerationRefusedError", () => {
  const js = run([FLAG])["javascript"] as { name: string; code: string; message: string };
  assert.equal(js.name, "CodeGenerationRefusedError");
  assert.equal(js.code, CodeGenerationRefusedError.CODE);
  assert.match(js.message, /"args\[0\]\.id \+ 1" is JavaScript/);
  assert.match(js.message, /need code generation from strings, which this process refuses/);
  assert.match(js.message, /--disallow-code-generation-from-strings/);
  assert.match(js.message, /expressions: "safe"/);
  // Without the flag the same expression is fine.
  assert.equal(run([])["javascript"], "created");
});
