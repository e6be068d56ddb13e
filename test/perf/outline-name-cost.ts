/**
 * What the statement that names an outlined copy costs (not a test: run it by hand).
 *
 *   node dist/test/perf/outline-name-cost.js [--functions 400] [--n 10000]
 *
 * Each copy is followed by `try { globalThis.Object.defineProperty($dgO1, "name", { value: "f0" }); }
 * catch ($dge) {}` (transformer/site-code.ts outlinedNameCode). One generated module of
 * `--functions` small outlined functions is written three ways: plain (types stripped), as
 * instrumented, and as instrumented without the naming statements. Under callgrind
 * (`--predictable --predictable-gc-schedule`, as benchmarks/instructions.ts), a child loads the
 * runtime and then imports one of them: total instructions per variant (start-up is the same
 * in all three). Then, per hit of a "call" no-op probe on `f0`, with and without the naming
 * statements: (I(n calls) − I(0)) / n after 30,000 warm-up calls. Also the output size of each.
 */
import { transformSync } from "@swc/core";
import { callgrind } from "./callgrind.js";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { instrument } from "../../transformer/index.js";

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
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--functions") functions = Number(argv[++i]);
    else if (argv[i] === "--n") n = Number(argv[++i]);
  }
  const root = mkdtempSync(join(tmpdir(), "diagnose-name-cost-"));
  try {
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "shop", type: "module" }));
    mkdirSync(join(root, "src"), { recursive: true });
    const file = join(root, "src", "many.ts");
    const text = source(functions);
    writeFileSync(file, text);
    const result = instrument(text, file, { root, module: "esm", sourceMap: false });
    const named = strip(result.code, file);
    const unnamed = strip(result.code.replace(NAME_STATEMENT, ""), file);
    const copies = (result.code.match(NAME_STATEMENT) ?? []).length;
    if (copies !== functions) throw new Error(`expected ${functions} naming statements, found ${copies}`);
    const variants = { plain: strip(text, file), named, unnamed };
    const paths: Record<string, string> = {};
    for (const [k, code] of Object.entries(variants)) {
      paths[k] = join(root, `${k}.mjs`);
      writeFileSync(paths[k], code);
    }
    const self = fileURLToPath(import.meta.url);
    const load: Record<string, number> = {};
    const [p, a, b] = await Promise.all(
      ["plain", "named", "unnamed"].map((k) => callgrind([self, "--child", paths[k]!, "load", "0"])),
    );
    load["plain"] = p!;
    load["named"] = a!;
    load["unnamed"] = b!;
    const perHit: Record<string, number> = {};
    for (const k of ["named", "unnamed"]) {
      const [withCalls, without] = await Promise.all([
        callgrind([self, "--child", paths[k]!, "hit", String(n)]),
        callgrind([self, "--child", paths[k]!, "hit", "0"]),
      ]);
      perHit[k] = (withCalls - without) / n;
    }
    console.log(`${functions} outlined functions, node ${process.version}, callgrind`);
    console.log('variant\tbytes\tload instructions (runtime loaded first)\tinstructions/hit ("call" no-op on f0)');
    for (const k of ["plain", "named", "unnamed"])
      console.log(`${k}\t${variants[k as keyof typeof variants].length}\t${load[k]}\t${perHit[k]?.toFixed(0) ?? ""}`);
    const perCopy = (load["named"]! - load["unnamed"]!) / functions;
    console.log(
      `naming statements: ${(named.length - unnamed.length) / functions} bytes and ${perCopy.toFixed(0)} instructions per copy at load; ` +
        `load above plain: named ${(load["named"]! - load["plain"]!).toLocaleString("en")}, unnamed ${(load["unnamed"]! - load["plain"]!).toLocaleString("en")}`,
    );
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
