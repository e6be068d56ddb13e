// The plugin's own CPU time (analyze + match + site nodes + rewrite; no printing) over a corpus,
// two builds of diagnose in one process, passes interleaved.
// node --expose-gc ab-plugin.mjs <repo> <before-dist> <after-dist> <corpus> <passes>
import { createRequire } from "node:module";
import { join } from "node:path";
const [repo, beforeDist, afterDist, corpus, passes = "8"] = process.argv.slice(2);
const ts = createRequire(join(repo, "package.json"))("typescript");
const load = async (dist) => (await import(join(dist, "transformer/tsc/index.js"))).default;
const builds = { before: await load(beforeDist), after: await load(afterDist) };
const parsed = ts.getParsedCommandLineOfConfigFile(
  join(corpus, "tsconfig.tspc.json"),
  {},
  { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} },
);
const program = ts.createProgram(parsed.fileNames, parsed.options);
const files = program.getSourceFiles().filter((f) => !f.isDeclarationFile && parsed.fileNames.includes(f.fileName));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const run = (plugin) => {
  const factory = plugin(program, { transform: "diagnose/transformer" }, { ts, addDiagnostic: () => 0 }).before[0];
  globalThis.gc?.();
  const t0 = cpu();
  const r = ts.transform(files, [factory], parsed.options);
  const t = cpu() - t0;
  const n = r.transformed.filter((f, i) => f !== files[i]).length;
  r.dispose();
  return { t, n };
};
const times = { before: [], after: [] };
for (const k of ["before", "after"]) console.log(k, "warm-up", run(builds[k]));
for (let i = 0; i < Number(passes); i++)
  for (const k of i % 2 ? ["after", "before"] : ["before", "after"]) times[k].push(run(builds[k]).t);
const med = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
for (const k of ["before", "after"])
  console.log(k, "median CPU ms", med(times[k]).toFixed(0), times[k].map((x) => x.toFixed(0)).join(" "));
console.log("after / before", (med(times.after) / med(times.before)).toFixed(3));
