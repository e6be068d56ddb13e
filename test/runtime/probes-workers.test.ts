/**
 * Worker threads: each thread has its own registry, so its own probes. A probe started on the
 * main thread does not see calls made in a worker, and the other way round.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { probes, ProbeTestInstrument } from "../../runtime/index.js";
import { loadInstrumented } from "../helpers/instrumented.js";

const RUNTIME = new URL("../../runtime/index.js", import.meta.url).href;

test("each thread has its own registry and probes", async () => {
  const m = await loadInstrumented<{ add13(a: number): number }>(
    `export function add13(arg: number) { return arg + 13; }`,
    "src/workers1/cart.ts",
  );
  const main = probes.attachTo(m.qualified("add13"));
  const rec = new ProbeTestInstrument("main", "arg", { event: "call" });
  main.instruments.set("r", rec);
  main.start();

  const script = join(m.root, "worker.mjs");
  writeFileSync(
    script,
    `import { parentPort } from "node:worker_threads";
const { probes, ProbeTestInstrument } = await import(${JSON.stringify(RUNTIME)});
const mod = await import(${JSON.stringify(pathToFileURL(m.outputFile).href)});
mod.add13(1); // not probed in this thread yet
const p = probes.attachTo(${JSON.stringify(m.qualified("add13"))});
const rec = new ProbeTestInstrument("worker", "arg", { event: "call" });
p.instruments.set("r", rec);
p.start();
mod.add13(2);
parentPort.postMessage({ results: rec.results, status: p.status });
`,
  );
  const worker = new Worker(script);
  const msg = await new Promise<{ results: number[]; status: string }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  await worker.terminate();
  assert.deepEqual(msg, { results: [2], status: "active" });
  m.exports.add13(3);
  assert.deepEqual(rec.results, [3], "the main thread saw only its own call");
  probes.remove(main.target);
});
