/**
 * Where a workload's measured instructions go, per JavaScript function, plain vs instrumented (not
 * a test: run it by hand after `npm run bench -- --only instructions --workload <w>` built the
 * workloads into .tmp/bench/builds/).
 *
 *   node dist/test/perf/jit-attribution.js [--workload library] [--variants plain,untouched]
 *     [--warm 8000] [--n 8000] [--top 40] [--out DIR] [--reuse] [-- <extra node flags>]
 *
 * Per variant, one run of the benchmark's fixed-ops child (benchmarks/child.ts) exactly as the
 * instruction phase runs it (benchmarks/instructions.ts: the same Node flags, marks around the
 * measured ops), plus `--perf-basic-prof` and callgrind's `--dump-instr=yes`. V8 then writes
 * /tmp/perf-<pid>.map (start, size and name of every code object it creates: `JS:*next file:line:col`,
 * `*` TurboFan, `^` Sparkplug, `~` interpreted) and callgrind the exclusive cost of every
 * instruction address of the measured interval. Costs in code no ELF object holds (V8's JIT code)
 * are charged to the perf map entry covering their address (the last one written: V8 reuses the
 * space of code it threw away, e.g. after the child's forced GC, and the line at the end counts
 * the addresses this happened to); everything else — builtins (`Builtins_*` symbols of the node
 * binary), V8's and Node's C++, libc — to callgrind's own symbol. `--perf-basic-prof` implies
 * `--no-compact-code-space`, so JIT code does not move after it was logged.
 *
 * Costs are exclusive: a function inlined into its caller is charged to the caller, so a function
 * inlined in one build and called in the other moves its cost from one row to another. Functions
 * are matched between the builds by name, file and the text they start with (see functionKeys);
 * with `--reuse` that text is read from the builds in .tmp/bench/builds/, which must be the ones
 * the runs used.
 *
 * Prints per function: instructions per op in each variant and the difference (last variant −
 * first), largest first, then the largest in the first variant, and the totals per kind (JIT code
 * by tier, builtins, other native code). `--out` (default .tmp/bench/jit-attribution/) keeps the
 * callgrind dumps and perf maps; `--reuse` analyses those again without running anything. Extra
 * Node flags after `--` go to every run (e.g. `--max-inlined-bytecode-size-cumulative=…`).
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MARK_FUNCTION } from "../../benchmarks/callgrind-marks.js";
import { workloadByName } from "../../benchmarks/catalog.js";
import type { FixedOpsConfig } from "../../benchmarks/child.js";
import { NODE_FLAGS } from "../../benchmarks/instructions.js";
import { BUILDS, DIST, WORK } from "../../benchmarks/paths.js";

interface Options {
  workload: string;
  variants: string[];
  warm: number | undefined;
  n: number | undefined;
  top: number;
  out: string;
  reuse: boolean;
  nodeFlags: string[];
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    workload: "library",
    variants: ["plain", "untouched"],
    warm: undefined,
    n: undefined,
    top: 40,
    out: join(WORK, "jit-attribution"),
    reuse: false,
    nodeFlags: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      o.nodeFlags = argv.slice(i + 1);
      break;
    }
    const v = (): string => argv[++i] ?? "";
    if (a === "--workload") o.workload = v();
    else if (a === "--variants") o.variants = v().split(",");
    else if (a === "--warm") o.warm = Number(v());
    else if (a === "--n") o.n = Number(v());
    else if (a === "--top") o.top = Number(v());
    else if (a === "--out") o.out = v();
    else if (a === "--reuse") o.reuse = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// running

interface Run {
  /** The callgrind dump of the measured interval (the last mark's). */
  readonly dump: string;
  /** V8's perf map of the process. */
  readonly perfMap: string;
  readonly n: number;
}

function runVariant(o: Options, variant: string, dir: string): Promise<Run> {
  const spec = workloadByName(o.workload);
  const manifest = JSON.parse(readFileSync(join(BUILDS, "manifest.json"), "utf8")) as {
    workloads: Record<string, { probeLine: number; entryFile: string; entryLine: number }>;
  };
  const build = manifest.workloads[o.workload];
  if (build === undefined) throw new Error(`no build of ${o.workload}: run the instruction phase once first`);
  const n = o.n ?? spec.instructionOps;
  const cfg: FixedOpsConfig = {
    workload: o.workload,
    variant,
    resultFile: join(dir, "result.json"),
    udpPort: 0,
    probeLine: build.probeLine,
    entryFile: build.entryFile,
    entryLine: build.entryLine,
    fixedOps: { warm: o.warm ?? spec.instructionOps, n },
  };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const args = [
    "--tool=callgrind",
    "--dump-instr=yes",
    `--dump-before=${MARK_FUNCTION}`,
    `--callgrind-out-file=${join(dir, "cg.out")}`,
    process.execPath,
    "--perf-basic-prof",
    // --perf-basic-prof also writes V8's log, by default as isolate-*.log in the working directory.
    `--logfile=${join(dir, "v8.log")}`,
    "--no-logfile-per-isolate",
    ...NODE_FLAGS,
    ...o.nodeFlags,
    join(DIST, "benchmarks", "child.js"),
    JSON.stringify(cfg),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("valgrind", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => {
      // valgrind runs node in its own process: the perf map is named after that pid.
      const map = `/tmp/perf-${child.pid}.map`;
      if (code !== 0 || !existsSync(map)) return reject(new Error(`${variant}: exit ${code}\n${stderr.slice(-2000)}`));
      copyFileSync(map, join(dir, "perf.map"));
      rmSync(map, { force: true });
      writeFileSync(join(dir, "n"), String(n));
      resolve(measuredRun(dir));
    });
  });
}

/** The dump of the measured ops: the last one made at a mark (`cg.out.<k>`, highest k). */
function measuredRun(dir: string): Run {
  const ks = readdirSync(dir)
    .map((f) => /^cg\.out\.(\d+)$/.exec(f))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
  if (ks.length < 2) throw new Error(`${dir}: ${ks.length} callgrind dumps, expected the marks'`);
  return {
    dump: join(dir, `cg.out.${Math.max(...ks)}`),
    perfMap: join(dir, "perf.map"),
    n: Number(readFileSync(join(dir, "n"), "utf8")),
  };
}

// ---------------------------------------------------------------------------------------------
// callgrind's per-instruction costs

/** Exclusive Ir per instruction address in code of no ELF object, and per symbol elsewhere. */
interface Costs {
  readonly jit: Map<number, number>;
  readonly native: Map<string, number>;
  total: number;
}

/**
 * Reads a callgrind dump written with `--dump-instr=yes` (positions `instr line`, one event):
 * name compression `(id) name`, subpositions absolute (`0x…`), relative (`+n`, `-n`, decimal) or
 * unchanged (`*`); the cost line after `calls=` is the call's inclusive cost, not counted.
 */
export function readCallgrind(text: string): Costs {
  // One compression table per kind of name: objects (ob, cob), files (fl, fi, fe, cfi, cfl) and
  // functions (fn, cfn) number their names independently.
  const tables = { ob: new Map<string, string>(), fl: new Map<string, string>(), fn: new Map<string, string>() };
  const kindOf: Record<string, keyof typeof tables> = {
    ob: "ob",
    cob: "ob",
    fl: "fl",
    fi: "fl",
    fe: "fl",
    cfi: "fl",
    cfl: "fl",
    fn: "fn",
    cfn: "fn",
  };
  const named = (table: Map<string, string>, v: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(v);
    if (m === null) return v;
    if (m[2] !== undefined) table.set(m[1]!, m[2]);
    return table.get(m[1]!) ?? v;
  };
  const costs: Costs = { jit: new Map(), native: new Map(), total: 0 };
  let ob = "";
  let fn = "";
  let addr = 0;
  let skipNext = false;
  for (const line of text.split("\n")) {
    const c = line.charCodeAt(0);
    const isCost = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42; // digit + - *
    if (!isCost) {
      const eq = line.indexOf("=");
      const spec = eq > 0 ? line.slice(0, eq) : "";
      const kind = kindOf[spec];
      if (kind !== undefined) {
        const name = named(tables[kind], line.slice(eq + 1));
        if (spec === "ob") ob = name;
        else if (spec === "fn") fn = name;
      } else if (spec === "calls") skipNext = true;
      continue;
    }
    const sp = line.indexOf(" ");
    const pos = line.slice(0, sp);
    if (pos === "*") {
      // same address
    } else if (pos.startsWith("0x")) addr = Number.parseInt(pos, 16);
    else addr += Number(pos);
    if (skipNext) {
      skipNext = false;
      continue;
    }
    const parts = line.split(" ");
    const ir = Number(parts[2]);
    costs.total += ir;
    if (ob === "???" || ob === "") costs.jit.set(addr, (costs.jit.get(addr) ?? 0) + ir);
    else {
      const key = `${fn}  [${ob.slice(ob.lastIndexOf("/") + 1)}]`;
      costs.native.set(key, (costs.native.get(key) ?? 0) + ir);
    }
  }
  return costs;
}

// ---------------------------------------------------------------------------------------------
// the perf map

interface CodeEntry {
  readonly start: number;
  readonly end: number;
  /** `JS:*next file:///…/builds/plain/rxjs/src/internal/Subscriber.js:54:11` */
  readonly name: string;
}

function readPerfMap(text: string): CodeEntry[] {
  const out: CodeEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m === null) continue;
    const start = Number.parseInt(m[1]!, 16);
    out.push({ start, end: start + Number.parseInt(m[2]!, 16), name: m[3]! });
  }
  return out;
}

/** `JS:*next file:///…/builds/diagnose/x/y.js:54:11` → tier `*`, name `next`, file `x/y.js`, line 54, column 11. */
export function parseCodeName(name: string): { tier: string; name: string; file: string; line: number; col: number } {
  const m = /^(\w+):([~^+*]?)(.*?) (\S+?)(?::(\d+):(\d+))?$/.exec(name);
  if (m === null || m[1] !== "JS") return { tier: "", name, file: "", line: 0, col: 0 };
  const file = m[4]!.replace(/^.*\/builds\/[^/]+\//, "").replace(/^file:\/\//, "");
  return { tier: m[2] ?? "", name: m[3] || "(anonymous)", file, line: Number(m[5] ?? 0), col: Number(m[6] ?? 0) };
}

/** The text a function starts with, up to its body (`(source, subscriber)=>`), without spaces. */
function signatureAt(file: string, line: number, col: number, cache: Map<string, string[]>): string {
  if (!cache.has(file)) cache.set(file, existsSync(file) ? readFileSync(file, "utf8").split("\n") : []);
  const lines = cache.get(file)!;
  const text = lines
    .slice(line - 1, line + 3)
    .join("\n")
    .slice(col - 1, col + 199);
  const end = /=>|\{/.exec(text);
  return (end === null ? text.slice(0, 60) : text.slice(0, end.index + end[0].length)).replace(/\s+/g, "");
}

/**
 * Keys that name one function in either build: `name file (signature) #k`, the k-th function of
 * that name and signature in that file among those V8 compiled, in source order. Lines cannot
 * match: the type strip after instrumenting prints the site code on lines of its own, and the
 * instrumented header adds functions of its own (the binder, `$dgI`), which the signature tells
 * apart. (Outlined copies, which keep the original's name, stand after every original in the
 * file, and are not compiled unless a probe ran them.)
 */
function functionKeys(entries: readonly CodeEntry[]): Map<string, { key: string; where: string }> {
  const cache = new Map<string, string[]>();
  const locations = new Map<string, Set<string>>();
  const groups = new Map<string, string>();
  const parsed = new Map<string, ReturnType<typeof parseCodeName>>();
  for (const e of entries) {
    if (parsed.has(e.name)) continue;
    const p = parseCodeName(e.name);
    parsed.set(e.name, p);
    if (p.file === "") continue;
    const url = /(file:\/\/\S+?):\d+:\d+$/.exec(e.name)?.[1];
    const sig = url === undefined ? "" : signatureAt(fileURLToPath(url), p.line, p.col, cache);
    const group = `${p.name} ${p.file} ${sig}`;
    groups.set(e.name, group);
    if (!locations.has(group)) locations.set(group, new Set());
    locations.get(group)!.add(`${p.line}:${p.col}`);
  }
  const ordinal = new Map<string, number>();
  for (const [group, locs] of locations) {
    const sorted = [...locs].sort((a, b) => {
      const [la, ca] = a.split(":").map(Number);
      const [lb, cb] = b.split(":").map(Number);
      return la! - lb! || ca! - cb!;
    });
    for (const [k, loc] of sorted.entries()) ordinal.set(`${group} ${loc}`, k);
  }
  const out = new Map<string, { key: string; where: string }>();
  for (const [name, p] of parsed) {
    const group = groups.get(name);
    if (group === undefined) out.set(name, { key: name, where: "" });
    else {
      const k = ordinal.get(`${group} ${p.line}:${p.col}`)!;
      out.set(name, { key: `JS ${group}${k > 0 ? ` #${k}` : ""}`, where: `${p.line}` });
    }
  }
  return out;
}

interface Attribution {
  /** Ir per function key (all tiers). */
  readonly perFunction: Map<string, number>;
  /** Ir per tier of JIT code, and "builtins", "native", "unmapped". */
  readonly perKind: Map<string, number>;
  /** Tiers seen per function key (`*^`). */
  readonly tiers: Map<string, Set<string>>;
  /** Line of each function key in this build. */
  readonly lines: Map<string, string>;
  /** Addresses covered by more than one differently named entry (V8 reused the space). */
  readonly ambiguous: number;
  readonly total: number;
}

function attribute(run: Run): Attribution {
  const costs = readCallgrind(readFileSync(run.dump, "utf8"));
  const entries = readPerfMap(readFileSync(run.perfMap, "utf8"));
  const addrs = [...costs.jit.keys()].sort((a, b) => a - b);
  const owner = new Array<CodeEntry | undefined>(addrs.length);
  let ambiguous = 0;
  const lowerBound = (x: number): number => {
    let lo = 0;
    let hi = addrs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (addrs[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // Later entries win: V8 logs code when it creates it, so the last entry covering an address is
  // the code that was there at the end of the run.
  for (const e of entries) {
    for (let i = lowerBound(e.start); i < addrs.length && addrs[i]! < e.end; i++) {
      if (owner[i] !== undefined && owner[i]!.name !== e.name) ambiguous++;
      owner[i] = e;
    }
  }
  const keys = functionKeys(entries);
  const lines = new Map<string, string>();
  const perFunction = new Map<string, number>();
  const perKind = new Map<string, number>();
  const tiers = new Map<string, Set<string>>();
  const add = <K>(m: Map<K, number>, k: K, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (const [i, a] of addrs.entries()) {
    const ir = costs.jit.get(a)!;
    const e = owner[i];
    if (e === undefined) {
      add(perKind, "unmapped", ir);
      add(perFunction, "(JIT code not in the perf map)", ir);
      continue;
    }
    const { tier } = parseCodeName(e.name);
    const { key, where } = keys.get(e.name)!;
    lines.set(key, where);
    add(perKind, e.name.startsWith("JS:") ? `JS ${tier || "?"}` : (e.name.split(":")[0] ?? "?"), ir);
    add(perFunction, key, ir);
    if (!tiers.has(key)) tiers.set(key, new Set());
    tiers.get(key)!.add(tier);
  }
  for (const [k, ir] of costs.native) {
    add(perKind, k.startsWith("Builtins_") ? "builtins" : "native (C++, libc)", ir);
    add(perFunction, k, ir);
  }
  return { perFunction, perKind, tiers, lines, ambiguous, total: costs.total };
}

// ---------------------------------------------------------------------------------------------

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  "))
    .join("\n");
}

const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const dirs = o.variants.map((v) => join(o.out, o.workload, v));
  // Both at once (instruction counts do not depend on the neighbours).
  const runs = o.reuse
    ? dirs.map(measuredRun)
    : await Promise.all(o.variants.map((v, i) => runVariant(o, v, dirs[i]!)));
  const atts = runs.map(attribute);
  const [base, other] = [atts[0]!, atts[1] ?? atts[0]!];
  const perOp = (a: Attribution, i: number, k: string, m: "perFunction" | "perKind") => (a[m].get(k) ?? 0) / runs[i]!.n;

  const kinds = [...new Set([...base.perKind.keys(), ...other.perKind.keys()])].sort();
  const rowsOf = (keys: readonly string[], m: "perFunction" | "perKind") =>
    keys.map((k) => {
      const vals = atts.map((a, i) => perOp(a, i, k, m));
      const tiers =
        m === "perFunction"
          ? atts.map((a) => `${[...(a.tiers.get(k) ?? [])].join("")} ${a.lines.get(k) ?? ""}`.trim())
          : [];
      const label = k.length > 110 ? `${k.slice(0, 107)}...` : k;
      return [label, ...vals.map(fmt), fmt(vals[vals.length - 1]! - vals[0]!), ...tiers];
    });
  const head = (first: string, tiers: boolean) => [
    first,
    ...o.variants,
    "diff",
    ...(tiers ? o.variants.map((v) => `tier line ${v}`) : []),
  ];
  console.log(`${o.workload}, instructions per op (measured ops: ${runs.map((r) => r.n).join(", ")})\n`);
  console.log(
    table([
      head("kind", false),
      ...rowsOf(kinds, "perKind"),
      [
        "total",
        ...atts.map((a, i) => fmt(a.total / runs[i]!.n)),
        fmt(other.total / runs.at(-1)!.n - base.total / runs[0]!.n),
      ],
    ]),
  );
  const keys = [...new Set([...base.perFunction.keys(), ...other.perFunction.keys()])];
  const diff = (k: string) => perOp(other, atts.length - 1, k, "perFunction") - perOp(base, 0, k, "perFunction");
  keys.sort((a, b) => Math.abs(diff(b)) - Math.abs(diff(a)));
  console.log(`\nper function, largest difference first (top ${o.top}):\n`);
  console.log(table([head("function", true), ...rowsOf(keys.slice(0, o.top), "perFunction")]));
  keys.sort((a, b) => perOp(base, 0, b, "perFunction") - perOp(base, 0, a, "perFunction"));
  console.log(`\nper function, largest in ${o.variants[0]} first (top ${o.top}):\n`);
  console.log(table([head("function", true), ...rowsOf(keys.slice(0, o.top), "perFunction")]));
  console.log(
    `\naddresses claimed by more than one perf map entry: ${atts.map((a) => a.ambiguous).join(", ")}` +
      ` (node ${process.version}; ${NODE_FLAGS.join(" ")} --perf-basic-prof ${o.nodeFlags.join(" ")})`,
  );
}

await main();
