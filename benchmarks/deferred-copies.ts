/**
 * Deferred copies (site ABI 4) against inline copies (ABI 3) and plain, on the third-party
 * workloads (library = rxjs, markdown, lexer = chevrotain), side by side in one run:
 *
 * - size: the workload's JavaScript after the SWC type strip, raw and gzip (the copy text, which is
 *   not in the module, is reported apart);
 * - heap: heap used after a full GC once the workload's module graph is loaded, minus before
 *   (median of `--processes` children); "deferred + texts" also holds every module's copy text in
 *   the copy store, as the Node loader does;
 * - cold start (`--cold`): load + first op of every loadable rxjs module, instructions under
 *   callgrind (`--predictable --predictable-gc-schedule`), plain / inline / deferred;
 * - first enable: the instructions of the first `watch()` of an outlined function (which evaluates
 *   the module's copy text) against a second one, under callgrind (`--enable`).
 *
 *     node dist/benchmarks/deferred-copies.js [--processes 3] [--cold] [--enable]
 *
 * Builds go to .tmp/bench/deferred/<plain|inline|deferred>/ (not cached).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { instrument } from "../transformer/index.js";
import { instrumentDeferred, librarySources, rewriteImports, strip, workloadSource } from "./build-workloads.js";
import { workloadByName } from "./catalog.js";
import { WORK } from "./paths.js";

const OUT = join(WORK, "deferred");
const KINDS = ["plain", "inline", "deferred"] as const;
type Kind = (typeof KINDS)[number];
const WORKLOADS = ["library", "markdown", "lexer"];
const SELF = new URL(import.meta.url).pathname;

interface Sizes {
  raw: number;
  gzip: number;
}

function build(): Record<string, Record<Kind | "copies", Sizes> & { outlined: [number, number] }> {
  rmSync(OUT, { recursive: true, force: true });
  const out: Record<string, Record<Kind | "copies", Sizes> & { outlined: [number, number] }> = {};
  const done = new Set<string>();
  for (const name of WORKLOADS) {
    const spec = workloadByName(name);
    const files = [workloadSource(spec)];
    for (const lib of spec.libraries) {
      const found = librarySources(lib);
      if (typeof found === "string") throw new Error(found);
      files.push(...found);
    }
    const names = new Set(files.map((f) => f.file));
    const zero = () => ({ raw: 0, gzip: 0 });
    const sizes = {
      plain: zero(),
      inline: zero(),
      deferred: zero(),
      copies: zero(),
      outlined: [0, 0] as [number, number],
    };
    const copies: Record<string, string> = {};
    for (const f of files) {
      const filename = f.file.startsWith("bench/") ? join(WORK, "project", f.file) : f.abs;
      const add = (kind: Kind | "copies", code: string) => {
        const bytes = Buffer.from(code);
        sizes[kind].raw += bytes.length;
        sizes[kind].gzip += gzipSync(bytes).length;
      };
      const write = (kind: Kind, code: string) => {
        const target = join(OUT, kind, f.file.replace(/\.ts$/, ".js"));
        if (done.has(target)) return;
        done.add(target);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, code);
      };
      const options = { root: f.root, packageName: f.packageName, module: "esm" as const, sourceMap: false };
      const plain = rewriteImports(strip(f.text, f.abs).code, f.file, names);
      const inlineOut = instrument(f.text, filename, options);
      const inline = rewriteImports(strip(inlineOut.code, f.abs).code, f.file, names);
      const deferredOut = instrumentDeferred(f.text, filename, options);
      if (deferredOut.copies !== undefined) {
        copies[deferredOut.copies.hash] = deferredOut.copies.text;
        add("copies", deferredOut.copies.text);
      }
      const deferred = rewriteImports(strip(deferredOut.code, f.abs).code, f.file, names);
      sizes.outlined[0] += outlinedCount(inlineOut);
      sizes.outlined[1] += outlinedCount(deferredOut);
      add("plain", plain);
      add("inline", inline);
      add("deferred", deferred);
      write("plain", plain);
      write("inline", inline);
      write("deferred", deferred);
    }
    writeFileSync(join(OUT, `copies.${name}.json`), JSON.stringify(copies));
    out[name] = sizes;
  }
  for (const kind of KINDS) writeFileSync(join(OUT, kind, "package.json"), '{ "type": "module" }\n');
  return out;
}

function readSizes(): ReturnType<typeof build> {
  return JSON.parse(readFileSync(join(OUT, "sizes.json"), "utf8")) as ReturnType<typeof build>;
}

/** Number of outlined functions: the table's `o`. */
function outlinedCount(r: { code: string }): number {
  const m = /,o:(\d+)/.exec(r.code);
  return m === null ? 0 : Number(m[1]);
}

// ---- children -------------------------------------------------------------------------------------

interface ChildConfig {
  mode: "heap" | "cold" | "enable" | "ops";
  /** ops: how many ops to run after the warm-up. */
  n?: number;
  module: string;
  /** A JSON file of copy texts to put in the copy store first (as the loader does). */
  copies?: string;
  target?: string;
  /** enable: how many times to watch `target` (each watch closed before the next). */
  watches?: number;
}

async function child(cfg: ChildConfig): Promise<void> {
  const g = globalThis as { gc?: () => void };
  if (cfg.mode === "heap") {
    // The copy store's code is loaded before the measure (the loader loads it with the runtime).
    const { copyStore } = await import("../runtime/registry/copies.js");
    g.gc!();
    const before = process.memoryUsage().heapUsed;
    await import(pathToFileURL(cfg.module).href);
    if (cfg.copies !== undefined) holdLoadedTexts(cfg.copies, copyStore().texts);
    g.gc!();
    process.stdout.write(`${process.memoryUsage().heapUsed - before}\n`);
    return;
  }
  if (cfg.mode === "ops") {
    const mod = (await import(pathToFileURL(cfg.module).href)) as { op: (i: number) => number };
    let sink = 0;
    for (let i = 0; i < 2000; i++) sink += mod.op(i);
    for (let i = 0; i < (cfg.n ?? 0); i++) sink += mod.op(i);
    process.stdout.write(`${sink}\n`);
    return;
  }
  if (cfg.mode === "cold") {
    const mod = (await import(pathToFileURL(cfg.module).href)) as { op: (i: number) => number };
    process.stdout.write(`${mod.op(0)}\n`);
    return;
  }
  // enable: the runtime and the module are loaded; watch once (makes the copies), close, watch again.
  const { addCopies, watch } = await import("../runtime/registry/index.js");
  if (cfg.copies !== undefined)
    for (const text of Object.values(JSON.parse(readFileSync(cfg.copies, "utf8")) as Record<string, string>))
      addCopies(text);
  const mod = (await import(pathToFileURL(cfg.module).href)) as { op: (i: number) => number };
  // Full collections around the watches, in every run alike: a collection that falls into one
  // run and not the other would otherwise move the difference by millions of instructions.
  g.gc!();
  let states = "";
  for (let i = 0; i < (cfg.watches ?? 0); i++) {
    const w = watch(cfg.target!, {});
    states += `${w.state} `;
    w.close();
  }
  g.gc!();
  process.stdout.write(`${states}${mod.op(0)}\n`);
}

/**
 * As the loader's in-memory store does: the text of every module that loaded (its table is queued
 * in the bootstrap: the runtime is not loaded) is held in the store; the rest of the file is
 * garbage once this returns.
 */
function holdLoadedTexts(file: string, store: Map<string, string>): void {
  const texts = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  const slot = (globalThis as Record<symbol, { queue?: [{ c?: string }, unknown][] }>)[Symbol.for("diagnose.registry")];
  for (const [table] of slot?.queue ?? []) {
    const text = table.c === undefined ? undefined : texts[table.c];
    if (text !== undefined) store.set(table.c!, text);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function run(args: string[]): string {
  const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return r.stdout;
}

function callgrind(args: string[]): number {
  const outFile = join(OUT, `callgrind.${process.pid}.${Math.random().toString(36).slice(2)}.out`);
  const r = spawnSync(
    "valgrind",
    [
      "--tool=callgrind",
      `--callgrind-out-file=${outFile}`,
      process.execPath,
      "--predictable",
      "--predictable-gc-schedule",
      ...args,
    ],
    { encoding: "utf8", maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`callgrind failed: ${r.stderr.slice(-2000)}`);
  const m = /Collected : (\d+)/.exec(r.stderr);
  rmSync(outFile, { force: true });
  return Number(m![1]);
}

function ratio(a: number, b: number): string {
  return `${(b / a).toFixed(2)}×`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "child") return child(JSON.parse(argv[1]!) as ChildConfig);
  let processes = Number(argv[argv.indexOf("--processes") + 1] ?? 3) || 3;
  const sizes = argv.includes("--no-build") ? readSizes() : build();
  writeFileSync(join(OUT, "sizes.json"), JSON.stringify(sizes));
  console.log("size after type strip (bytes; ratio vs plain), outlined functions inline / deferred");
  console.log(
    "| workload | plain raw | inline raw | deferred raw | copy text raw | plain gzip | inline gzip | deferred gzip | outlined |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const [name, s] of Object.entries(sizes)) {
    console.log(
      `| ${name} | ${s.plain.raw} | ${s.inline.raw} (${ratio(s.plain.raw, s.inline.raw)}) | ${s.deferred.raw} (${ratio(s.plain.raw, s.deferred.raw)}) | ${s.copies.raw} | ${s.plain.gzip} | ${s.inline.gzip} (${ratio(s.plain.gzip, s.inline.gzip)}) | ${s.deferred.gzip} (${ratio(s.plain.gzip, s.deferred.gzip)}) | ${s.outlined[0]} / ${s.outlined[1]} |`,
    );
  }
  if (argv.includes("--no-heap")) processes = 0;
  console.log("\nheap after load (bytes, median of %d processes; ratio vs plain)", processes);
  console.log("| workload | plain | inline | deferred | deferred + texts in store |");
  console.log("|---|---|---|---|---|");
  for (const name of processes === 0 ? [] : WORKLOADS) {
    const grown: Record<string, number[]> = { plain: [], inline: [], deferred: [], texts: [] };
    for (let i = 0; i < processes; i++) {
      for (const kind of ["plain", "inline", "deferred", "texts"]) {
        const dir = kind === "texts" ? "deferred" : kind;
        const cfg: ChildConfig = {
          mode: "heap",
          module: join(OUT, dir, "bench", `${name}.js`),
          ...(kind === "texts" ? { copies: join(OUT, `copies.${name}.json`) } : {}),
        };
        grown[kind]!.push(Number(run(["--expose-gc", SELF, "child", JSON.stringify(cfg)]).trim()));
      }
    }
    const p = median(grown["plain"]!);
    const [i, d, t] = [median(grown["inline"]!), median(grown["deferred"]!), median(grown["texts"]!)];
    console.log(`| ${name} | ${p} | ${i} (${ratio(p, i)}) | ${d} (${ratio(p, d)}) | ${t} (${ratio(p, t)}) |`);
  }
  if (argv.includes("--cold")) {
    // Every rxjs/src/internal module of the plain build that loads on its own, and the workload.
    const internal = join(OUT, "plain", "rxjs", "src", "internal");
    const modules: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".js")) modules.push(p.slice(join(OUT, "plain").length + 1));
      }
    };
    if (existsSync(internal)) walk(internal);
    const probe = join(OUT, "plain", "probe.mjs");
    writeFileSync(
      probe,
      `const ok = []; for (const f of ${JSON.stringify(modules)}) { try { await import("./" + f); ok.push(f); } catch {} } console.log(JSON.stringify(ok));`,
    );
    const loadable = JSON.parse(run([probe])) as string[];
    const entries: Record<string, string> = {};
    for (const kind of KINDS) {
      entries[kind] = join(OUT, kind, "cold-entry.mjs");
      writeFileSync(
        entries[kind]!,
        `${loadable.map((m) => `import "./${m}";`).join("\n")}\nexport { op } from "./bench/library.js";\n`,
      );
    }
    const empty = join(OUT, "empty.mjs");
    writeFileSync(empty, "export const op = () => 0;\n");
    const base = callgrind([SELF, "child", JSON.stringify({ mode: "cold", module: empty })]);
    const counts: Record<string, number> = {};
    for (const kind of KINDS)
      counts[kind] = callgrind([SELF, "child", JSON.stringify({ mode: "cold", module: entries[kind] })]) - base;
    console.log(`\ncold start: ${loadable.length + 1} modules, load + first op, instructions (start-up subtracted)`);
    console.log("| plain | inline | deferred |");
    console.log("|---|---|---|");
    console.log(
      `| ${counts["plain"]} | ${counts["inline"]} (${ratio(counts["plain"]!, counts["inline"]!)}) | ${counts["deferred"]} (${ratio(counts["plain"]!, counts["deferred"]!)}) |`,
    );
  }
  if (argv.includes("--ops")) {
    // The off state: instructions per op in steady state, nothing watched, after 2,000 warm-up ops:
    // (C(warm-up + n) - C(warm-up)) / n.
    const n = 1000;
    console.log(`\nsteady state, never watched: instructions per op (${n} ops after 2,000, callgrind)`);
    console.log("| workload | plain | inline | deferred |");
    console.log("|---|---|---|---|");
    for (const name of WORKLOADS) {
      const per: Record<string, number> = {};
      for (const kind of KINDS) {
        const module = join(OUT, kind, "bench", `${name}.js`);
        const [a, b] = [0, n].map((ops) => callgrind([SELF, "child", JSON.stringify({ mode: "ops", module, n: ops })]));
        per[kind] = (b! - a!) / n;
      }
      const p = per["plain"]!;
      console.log(
        `| ${name} | ${p.toFixed(0)} | ${per["inline"]!.toFixed(0)} (${ratio(p, per["inline"]!)}) | ${per["deferred"]!.toFixed(0)} (${ratio(p, per["deferred"]!)}) |`,
      );
    }
  }
  if (argv.includes("--enable")) {
    // First enable of a probe on an outlined function (the eval of its module's copy text) vs a
    // later one, and the same two with inline copies: C(1) - C(0) and C(2) - C(1) per build.
    console.log("\nenable a probe on an outlined function (instructions under callgrind)");
    console.log("| target | build | first watch | second watch |");
    console.log("|---|---|---|---|");
    const targets = [
      ["library", "src/internal/Subscriber.ts:Subscriber.next"],
      ["lexer", "src/scan/lexer_public.ts:Lexer.tokenize"],
    ] as const;
    for (const [name, target] of targets) {
      for (const kind of ["inline", "deferred"] as const) {
        const c = [0, 1, 2].map((watches) =>
          callgrind([
            "--expose-gc",
            SELF,
            "child",
            JSON.stringify({
              mode: "enable",
              module: join(OUT, kind, "bench", `${name}.js`),
              target,
              watches,
              ...(kind === "deferred" ? { copies: join(OUT, `copies.${name}.json`) } : {}),
            }),
          ]),
        );
        console.log(`| ${target} | ${kind} | ${c[1]! - c[0]!} | ${c[2]! - c[1]!} |`);
      }
    }
  }
}

await main();
