/** hotspots: per-line timings of a call, through the line sites. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { probes, ProbeTestInstrument, type HotspotsReport } from "../../runtime/index.js";
import { loadInstrumented } from "../helpers/instrumented.js";

const SRC = `export function work(n: number) {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += i;
  const until = Date.now() + 15;
  while (Date.now() < until) acc++;
  return acc;
}`;

test("a return instrument mentioning hotspots gets worst/slowest with line and source text", async () => {
  const m = await loadInstrumented<{ work(n: number): number }>(SRC, "src/hot1/work.ts");
  const p = probes.attachTo(m.qualified("work"));
  const rec = new ProbeTestInstrument("h", "hotspots");
  const plain = new ProbeTestInstrument("p", "result", { custom: { tags: "({ line: hotspots.worst.line })" } });
  p.instruments.set("h", rec).set("p", plain);
  const cwd = process.cwd();
  process.chdir(m.root);
  try {
    p.start();
    m.exports.work(10);
    const h = rec.results[0] as HotspotsReport;
    assert.equal(h.worst!.line, 5);
    assert.ok(h.worst!.time >= 10, `worst time ${h.worst!.time}`);
    assert.equal(h.worst!.source, "while (Date.now() < until) acc++;");
    assert.equal(h.slowest!.line, 5);
    assert.ok(h.lines.get(3)!.count >= 1);
    assert.deepEqual(plain.log[0]![0], { line: 5 });
  } finally {
    process.chdir(cwd);
    probes.remove(p.target);
  }
  // Source text is "" when the file cannot be found from the working directory.
  const p2 = probes.attachTo(m.qualified("work"));
  const rec2 = new ProbeTestInstrument("h", "hotspots.worst");
  p2.instruments.set("h", rec2);
  p2.start();
  m.exports.work(1);
  assert.equal((rec2.results[0] as { source: string }).source, "");
  probes.remove(p2.target);
  assert.deepEqual(m.sitesOn(), []);
});

test("without a hotspots instrument no line site is switched on", async () => {
  const m = await loadInstrumented<{ work(n: number): number }>(SRC, "src/hot2/work.ts");
  const p = probes.attachTo(m.qualified("work"));
  p.instruments.set("r", new ProbeTestInstrument("r", "result"));
  p.start();
  const withoutLines = m.sitesOn().length;
  p.instruments.set("h", new ProbeTestInstrument("h", "hotspots.slowest.line"));
  assert.ok(m.sitesOn().length > withoutLines);
  p.instruments.delete("h");
  assert.equal(m.sitesOn().length, withoutLines);
  probes.remove(p.target);
});
