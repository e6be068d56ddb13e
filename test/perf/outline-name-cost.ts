/**
 * What naming an outlined copy costs, in the layout before and after the binder (not a test: run
 * it by hand).
 *
 *   node dist/test/perf/outline-name-cost.js --baseline <old dist/transformer/index.js> [--functions 400] [--n 10000]
 *
 * Old layout (the `--baseline` transformer, e.g. main's build before the binder): each copy is a
 * module-level `function $dgO1(…) {…}` followed by `try { globalThis.Object.defineProperty($dgO1,
 * "name", { value: "f0" }); } catch ($dge) {}`. New layout (this transformer): the copies are
 * method-keyed functions, `$dgO1 = { "f0"(…) {…} }["f0"];`, created by the binder `$dgB` at the
 * module's end (header.ts binderOpenCode), named by the language. One generated module of
 * `--functions` small outlined functions is written four ways (types stripped): plain, old, old
 * without the naming statements (the old layout's floor: its copies keep the name `$dgO1`), and
 * new. Under callgrind (`--predictable --predictable-gc-schedule`, as benchmarks/instructions.ts),
 * a child loads this runtime (the same for every layout: the ABI did not change) and then imports
 * one of them: total instructions per variant (start-up is the same in all). Then, per hit of a
 * "call" no-op probe on `f0`: (I(n calls) − I(0)) / n after 30,000 warm-up calls. Also the output
 * size of each.
 */
import { transformSync } from "@swc/core";
import { callgrind } from "./callgrind.js";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { instrument } from "../../transformer/index.js";

type Instrument = typeof instrument;

const NAME_STATEMENT =
  / try \{ globalThis\.Object\.defineProperty\(\$dgO\d+, "name", \{ value: "[^"]*" \}\); \} catch \(\$dge\) \{\}/g;
const WARM = 30_000;

function source(count: number): string {
  let text = "";
  for (let i = 0; i < count; i++)
    text += `export function f${i}(a: number, b: number): number {\n  const s = a + b;\n  return s * ${i + 1};\n}\n`;
  return text;
}

function strip(code: string, file: string): string {
  return transformSync(code, {
    filename: file,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "es6" },
    sourceMaps: false,
  }).code;
}

async function parent(argv: readonly string[]): Promise<void> {
  let functions = 400;
  let n = 10_000;
  let baseline: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--functions") functions = Number(argv[++i]);
    else if (argv[i] === "--n") n = Number(argv[++i]);
    else if (argv[i] === "--baseline") baseline = argv[++i];
  }
  if (baseline === undefined) throw new Error("--baseline <dist/transformer/index.js of the old layout> is required");
  const old = ((await import(pathToFileURL(baseline).href)) as { instrument: Instrument }).instrument;
  const root = mkdtempSync(join(tmpdir(), "diagnose-name-cost-"));
  try {
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "shop", type: "module" }));
    mkdirSync(join(root, "src"), { recursive: true });
    const file = join(root, "src", "many.ts");
    const text = source(functions);
    writeFileSync(file, text);
    const options = { root, module: "esm", sourceMap: false } as const;
    const before = old(text, file, options).code;
    const after = instrument(text, file, options).code;
    const named = (before.match(NAME_STATEMENT) ?? []).length;
    if (named !== functions) throw new Error(`old layout: expected ${functions} naming statements, found ${named}`);
    const methods = (after.match(/\$dgO\d+ = \{ "f\d+"\(/g) ?? []).length;
    if (methods !== functions || after.includes("defineProperty($dgO"))
      throw new Error(`new layout: expected ${functions} method-keyed copies, found ${methods}`);
    const variants: Record<string, string> = {
      plain: strip(text, file),
      old: strip(before, file),
      "old-unnamed": strip(before.replace(NAME_STATEMENT, ""), file),
      new: strip(after, file),
    };
    const paths: Record<string, string> = {};
    for (const [k, code] of Object.entries(variants)) {
      paths[k] = join(root, `${k}.mjs`);
      writeFileSync(paths[k], code);
    }
    const self = fileURLToPath(import.meta.url);
    const names = Object.keys(variants);
    const load: Record<string, number> = {};
    // Two at a time: the machine has two cores.
    for (let i = 0; i < names.length; i += 2) {
      const pair = names.slice(i, i + 2);
      const counts = await Promise.all(pair.map((k) => callgrind([self, "--child", paths[k]!, "load", "0"])));
      for (const [j, k] of pair.entries()) load[k] = counts[j]!;
    }
    const perHit: Record<string, number> = {};
    for (const k of names.slice(1)) {
      const [withCalls, without] = await Promise.all([
        callgrind([self, "--child", paths[k]!, "hit", String(n)]),
        callgrind([self, "--child", paths[k]!, "hit", "0"]),
      ]);
      perHit[k] = (withCalls - without) / n;
    }
    console.log(`${functions} outlined functions, node ${process.version}, callgrind`);
    console.log('variant\tbytes\tload instructions (runtime loaded first)\tinstructions/hit ("call" no-op on f0)');
    for (const k of names) console.log(`${k}\t${variants[k]!.length}\t${load[k]}\t${perHit[k]?.toFixed(0) ?? ""}`);
    const perCopy = (a: string, b: string) =>
      `${((variants[a]!.length - variants[b]!.length) / functions).toFixed(1)} bytes and ${((load[a]! - load[b]!) / functions).toFixed(0)} instructions per copy at load`;
    const above = (k: string) => (load[k]! - load["plain"]!).toLocaleString("en");
    console.log(`old − new: ${perCopy("old", "new")}; per hit ${(perHit["old"]! - perHit["new"]!).toFixed(0)}`);
    console.log(
      `new − old-unnamed: ${perCopy("new", "old-unnamed")}; per hit ${(perHit["new"]! - perHit["old-unnamed"]!).toFixed(0)}`,
    );
    console.log(`load above plain: old ${above("old")}, old-unnamed ${above("old-unnamed")}, new ${above("new")}`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

let sink = 0;

async function child(path: string, mode: string, n: number): Promise<void> {
  const rt = await import("../../runtime/index.js");
  const mod = (await import(pathToFileURL(path).href)) as Record<string, (a: number, b: number) => number>;
  if (mode === "hit") {
    class Noop extends rt.Instrument {
      override fire(): void {}
    }
    const p = rt.probes.attachTo("src/many.ts:f0");
    p.instruments.set("a", new Noop("noop", "1", { event: "call" }));
    p.start();
    const f0 = mod["f0"]!;
    let acc = 0;
    for (let i = 0; i < WARM; i++) acc += f0(i, 1);
    for (let i = 0; i < n; i++) acc += f0(i, 1);
    sink += acc;
  }
  console.log("OK", sink === 0.5 ? "" : Object.keys(mod).length);
}

const args = process.argv.slice(2);
if (args[0] === "--child") await child(args[1]!, args[2]!, Number(args[3]));
else await parent(args);
