// Attribution of tspc CPU profiles (node --cpu-prof node_modules/ts-patch/bin/tspc.js -p …) to phases, by stack.
// node profile-phases.mjs a1.cpuprofile,a2.cpuprofile b1.cpuprofile,b2.cpuprofile  (medians per group; WEIGHT=count: by sample count)
// Attributes a .cpuprofile of a tspc run to phases (inclusive, by stack contents).
import { readFileSync } from "node:fs";
export function categorize(file) {
  const p = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const byCount = process.env.WEIGHT === "count";
  for (let i = 0; i < p.samples.length; i++)
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (byCount ? 1000 : (p.timeDeltas[i] ?? 0)));
  const out = {};
  let total = 0;
  const add = (k, t) => {
    out[k] = (out[k] ?? 0) + t / 1000;
  };
  for (const [id, t] of self) {
    total += t;
    const st = [];
    let cur = id;
    while (cur !== undefined) {
      st.push(byId.get(cur).callFrame);
      cur = parent.get(cur);
    }
    const has = (fn, url) => st.some((f) => f.functionName === fn && (url === undefined || f.url.includes(url)));
    const leaf = st[0];
    let k;
    if (leaf.functionName === "(garbage collector)") k = "GC";
    else if (has("instrumentSourceFile", "tsc/index.js")) {
      if (has("analyze", "transformer/analyze.js")) {
        if (has("parseProgramJson"))
          k =
            leaf.functionName === "parseProgramJson"
              ? "plugin: analyze: JSON.parse of SWC AST"
              : "plugin: analyze: SWC parse other";
        else if (has("parseSync")) k = "plugin: analyze: SWC native parse";
        else if (has("textNestingProblem")) k = "plugin: analyze: nesting scan";
        else k = "plugin: analyze: walk/analysis";
      } else if (has("matchEdits")) k = "plugin: matchEdits";
      else if (st.some((f) => f.url.includes("tsc/site-nodes.js"))) k = "plugin: site nodes (factory)";
      else if (has("rewriteFile")) k = "plugin: rewriteFile (visit, fill)";
      else k = "plugin: other";
    } else if (st.some((f) => (f.url.includes("/dist/") || f.url.includes("@swc")) && f.url.includes("/")))
      k = "plugin: load/setup";
    else if (has("transformNodes"))
      k = has("checkExpressionCached") || has("getResolvedSymbol") ? "TS transforms: checker" : "TS transforms";
    else if (has("markLinkedReferences")) k = "emit: checker (markLinkedReferences)";
    else if (has("printSourceFileOrBundle")) {
      if (
        st.some(
          (f) =>
            f.url.startsWith("node:fs") ||
            (/^(writeFileWorker|writeFileEnsuringDirectories|ensureDirectoriesExist|writeFile)$/.test(f.functionName) &&
              !has("print")),
        )
      )
        k = "write files";
      else if (has("getConstantValue2") || has("checkExpressionCached")) k = "printer: checker (const enums)";
      else k = "printer";
    } else if (has("createProgram")) k = "createProgram (TS parse, bind, resolve)";
    else if (has("emitFilesAndReportErrors")) k = "emit: other";
    else if (
      has("wrapSafe") ||
      has("Script") ||
      st.some((f) => f.functionName === "Module._compile" && !has("executeCommandLine"))
    )
      k = has("executeCommandLine") ? "other" : "startup (load tsc)";
    else k = "other";
    add(k, t);
  }
  out.total = total / 1000;
  return out;
}
if (process.argv[1].endsWith("profile-phases.mjs")) {
  const groups = process.argv.slice(2).map((g) => g.split(","));
  const res = groups.map((g) => g.map(categorize));
  const med = (a) => {
    a = [...a].sort((x, y) => x - y);
    const m = a.length >> 1;
    return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
  };
  const keys = [...new Set(res.flat().flatMap(Object.keys))].sort();
  console.log("| phase | " + groups.map((_g, i) => `group ${i} ms | %`).join(" | ") + " |");
  for (const k of keys) {
    const row = res.map((r) => {
      const v = med(r.map((x) => x[k] ?? 0));
      const tot = med(r.map((x) => x.total));
      return `${v.toFixed(0)} | ${((100 * v) / tot).toFixed(1)}`;
    });
    console.log(`| ${k} | ${row.join(" | ")} |`);
  }
}
