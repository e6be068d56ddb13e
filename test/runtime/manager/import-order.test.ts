/**
 * The manager, the instruments and the probes import each other: whichever module a program (or a
 * benchmark) imports first, every module must load and a spec must apply. Each order runs in a
 * fresh process, since a module loads once per process.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

const FIRST = [
  "runtime/manager/manager.js",
  "runtime/manager/reconcile.js",
  "runtime/manager/validate.js",
  "runtime/manager/status.js",
  "runtime/manager/options.js",
  "runtime/manager/settings.js",
  "runtime/manager/scheduler.js",
  "runtime/manager/class-table.js",
  "runtime/manager/global-namespace.js",
  "runtime/instruments/instrument.js",
  "runtime/instruments/log.js",
  "runtime/instruments/classes.js",
  "runtime/probes/dispatch.js",
  "runtime/probes/probe.js",
  "runtime/probes/probes.js",
  "integrations/node/autostart.js",
];

test("every module can be imported first, and a spec still applies", () => {
  const dist = new URL("../../../", import.meta.url);
  for (const first of FIRST) {
    const script = `
      await import(${JSON.stringify(new URL(first, dist).href)});
      const d = await import(${JSON.stringify(new URL("runtime/index.js", dist).href)});
      const m = new d.InstrumentManager({ processId: "order" });
      m.specs.set("a", { target: "a.ts:f", instrument: { type: "log", name: "n", value: "1" }, lastmodified: new Date() });
      const r = await m.apply();
      if (r.attached[0] !== "a") throw new Error(JSON.stringify(r));
      await m.stop();`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    assert.equal(r.status, 0, `${first} first: ${r.stderr}`);
  }
});
