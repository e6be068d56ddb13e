/**
 * The package as a user gets it: `npm pack` of the built repository, installed from the tarball
 * alone into fresh temporary projects, and every way in run from there — the Node loader, the
 * tspc plugin, `instrument()`, the CLI, `require()` from CommonJS, the types of each subpath — plus
 * a service that installed with `--omit=optional` (no compiler, no magic-string, no remapping)
 * running prebuilt code.
 *
 * Needs the build `npm test` makes (`npm run build`: the ESM build and dist/cjs). npm installs from
 * its cache when it can (`--prefer-offline`); the registry is asked only for what is missing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { childEnv } from "../helpers/child-env.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const REPO_PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
  version: string;
  devDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of every child: this Node first on PATH, no npm or Diagnose settings inherited (childEnv). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = childEnv();
  for (const key of Object.keys(env)) if (key.startsWith("npm_") || key === "INIT_CWD") delete env[key];
  env["PATH"] = `${dirname(process.execPath)}${delimiter}${env["PATH"] ?? ""}`;
  return env as NodeJS.ProcessEnv;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(command, args, { cwd, env: { ...cleanEnv(), ...env }, encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

const node = (args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Run =>
  run(process.execPath, args, cwd, env);

/**
 * Node options under which `require()` cannot load an ES module, like Jest's CommonJS sandbox:
 * what runs under them uses the CommonJS build alone, not Node's require(esm).
 */
const NO_REQUIRE_ESM = process.allowedNodeEnvironmentFlags.has("--no-experimental-require-module")
  ? ["--no-experimental-require-module"]
  : [];
const npm = (args: readonly string[], cwd: string): Run =>
  run("npm", [...args, "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], cwd);

function explain(r: Run): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** The app both builds run: a probe on `total` logs its result. */
const APP_FILES: Record<string, string> = {
  "package.json": JSON.stringify({ name: "packed-app", private: true, type: "module" }),
  "src/cart.ts": `export function total(prices: number[]): number {
  let sum = 0;
  for (const p of prices) sum += p;
  return sum;
}
`,
  "src/main.ts": `import { LogInstrument, probes } from "diagnose";
import { total } from "./cart.js";

const probe = probes.attachTo("src/cart.ts:total");
probe.instruments.set("t", new LogInstrument("cart.total", "result"));
probe.start();
total([1, 2, 3]);
probe.stop();
total([4]);
`,
  // A CommonJS module of the same project: its imports resolve through the "require" conditions.
  "src/legacy.cts": `import { probes, DiagnoseError } from "diagnose";
import { sensor } from "diagnose/testing";
import { watch } from "diagnose/registry";
export const api = [typeof probes.attachTo, typeof sensor, typeof watch, DiagnoseError.name];
`,
  "src/types.ts": `import { probes, WatcherError, type Probe } from "diagnose";
import { sensor, type Sensor } from "diagnose/testing";
import { watch, type Watch } from "diagnose/registry";
import { instrument, type InstrumentResult } from "diagnose/instrument";
export const surface: [typeof probes, typeof WatcherError, Probe | undefined, typeof sensor, Sensor | undefined, typeof watch, Watch | undefined, typeof instrument, InstrumentResult | undefined] = [probes, WatcherError, undefined, sensor, undefined, watch, undefined, instrument, undefined];
`,
  "tsconfig.json": JSON.stringify({
    compilerOptions: {
      target: "ES2022",
      module: "NodeNext",
      moduleResolution: "NodeNext",
      strict: true,
      types: [],
      skipLibCheck: true,
      rootDir: "src",
      outDir: "out",
      plugins: [{ transform: "diagnose/transformer" }],
    },
    include: ["src"],
  }),
  "instrument.mjs": `import { instrument } from "diagnose/instrument";
const result = instrument("export function add(a, b) { return a + b; }\\n", process.cwd() + "/src/add.js", { root: process.cwd() });
console.log("sites of", result.sites.functions.map((f) => f.name).join(","), result.code.includes("diagnose:instrumented"));
`,
  // Every bundler subpath resolves and makes a plugin without its tool installed (the tool hands
  // itself to the plugin); diagnose/jest makes a transformer.
  "plugins.mjs": `const names = [];
for (const tool of ["vite", "esbuild", "webpack", "rollup", "rolldown"]) {
  const plugin = (await import("diagnose/" + tool)).default({ include: ["src/**"] });
  names.push(tool + ":" + (plugin.name ?? typeof plugin.apply));
}
const jest = (await import("diagnose/jest")).default.createTransformer();
names.push("jest:" + typeof jest.process + "," + typeof jest.getCacheKey);
console.log(names.join(" "));
`,
  "require.cjs": `const diagnose = require("diagnose");
const testing = require("diagnose/testing");
const registry = require("diagnose/registry");
console.log("cjs", require.resolve("diagnose").includes("/dist/cjs/"), typeof diagnose.probes.attachTo, typeof testing.sensor, typeof registry.watch);
`,
  // The sink subpaths whose tool is a type-only dependency load without their (optional) peer.
  "sinks.mjs": `const names = [];
for (const sub of ["pino", "winston", "prometheus", "hot-shots"]) names.push(...Object.keys(await import("diagnose/" + sub)));
const { scope, attachAll, ChannelInstrument, StructuredLogInstrument } = await import("diagnose");
console.log(names.sort().join(" "), typeof scope.run, typeof attachAll, typeof ChannelInstrument, typeof StructuredLogInstrument);
`,
  // One process, both copies: the ESM copy loads first and creates the registry, the tspc-built
  // module registers with it, and a probe switched on through the CommonJS copy sees its calls.
  "shared.mjs": `import { createRequire } from "node:module";
import { probes as esmProbes } from "diagnose";
import { total } from "./out/cart.js";
const require = createRequire(import.meta.url);
const cjs = require("diagnose");
const { ProbeTestInstrument } = require("diagnose/testing");
const probe = cjs.probes.attachTo("src/cart.ts:total");
const seen = new ProbeTestInstrument("seen", "result");
probe.instruments.set("seen", seen);
probe.start();
total([2, 3]);
probe.stop();
console.log("two copies", cjs.probes !== esmProbes, "results", JSON.stringify(seen.results));
`,
};

describe("the packed package, installed from its tarball", { timeout: 240_000 }, () => {
  let work: string;
  let tarball: string;
  let packed: { files: { path: string }[]; unpackedSize: number; entryCount: number };

  before(() => {
    assert.ok(
      existsSync(join(REPO_ROOT, "dist", "cjs", "runtime", "index.js")),
      "build first: npm run build (makes dist/ and dist/cjs/)",
    );
    work = mkdtempSync(join(tmpdir(), "diagnose-pack-"));
    const r = npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], REPO_ROOT);
    assert.equal(r.status, 0, explain(r));
    packed = (JSON.parse(r.stdout) as (typeof packed & { filename: string })[])[0]!;
    tarball = join(work, (JSON.parse(r.stdout) as { filename: string }[])[0]!.filename);
  });

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  test("the tarball holds what users run, and no tests, benchmarks or sources", () => {
    const paths = packed.files.map((f) => f.path);
    for (const required of [
      "package.json",
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
      "dist/runtime/index.js",
      "dist/runtime/index.d.ts",
      "dist/runtime/testing/index.js",
      "dist/cjs/package.json",
      "dist/cjs/runtime/index.js",
      "dist/cjs/runtime/index.d.ts",
      "dist/transformer/index.js",
      "dist/transformer/tsc/index.js",
      "dist/integrations/node/register.js",
      "dist/integrations/bundlers/core.js",
      "dist/integrations/bundlers/vite.js",
      "dist/integrations/bundlers/vite.d.ts",
      "dist/integrations/jest/transformer.js",
      "dist/cli/diagnose.js",
    ]) {
      assert.ok(paths.includes(required), `${required} missing from the tarball`);
    }
    const unwanted = paths.filter(
      (p) => /^(dist\/)?(test|benchmarks|examples|\.ci)\//.test(p) || /(^|\/)[^/]+(?<!\.d)\.ts$/.test(p),
    );
    assert.deepEqual(unwanted, []);
  });

  describe("a project with the whole package (build side included)", () => {
    let app: string;

    before(() => {
      app = join(work, "app");
      write(app, APP_FILES);
      const r = npm(
        [
          "install",
          tarball,
          `typescript@${REPO_PACKAGE.devDependencies["typescript"]}`,
          `ts-patch@${REPO_PACKAGE.devDependencies["ts-patch"]}`,
        ],
        app,
      );
      assert.equal(r.status, 0, explain(r));
    });

    test("the Node loader instruments .ts on the fly: node --import diagnose/register", () => {
      const r = node(["--import", "diagnose/register", "src/main.ts"], app);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /cart\.total.*6/);
      assert.doesNotMatch(r.stdout, /cart\.total.*4/, "the probe was stopped before the second call");
    });

    test("the tspc plugin builds the project (types of every subpath, ESM and CJS), and the output runs", () => {
      const build = node([join(app, "node_modules", "ts-patch", "bin", "tspc.js"), "-p", "."], app);
      assert.equal(build.status, 0, explain(build));
      assert.match(readFileSync(join(app, "out", "cart.js"), "utf8"), /diagnose:instrumented/);
      const r = node(["out/main.js"], app);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /cart\.total.*6/);
      const legacy = node([...NO_REQUIRE_ESM, "-e", "console.log(require('./out/legacy.cjs').api.join(' '))"], app);
      assert.equal(legacy.stdout.trim(), "function function function DiagnoseError", explain(legacy));
    });

    test("the sink subpaths load from the package without their optional peers", () => {
      const r = node(["sinks.mjs"], app);
      assert.equal(r.status, 0, explain(r));
      assert.equal(
        r.stdout.trim(),
        "hotShotsClient pinoSink promName prometheusInstruments winstonSink function function function function",
      );
    });

    test("instrument() from diagnose/instrument", () => {
      const r = node(["instrument.mjs"], app);
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout.trim(), "sites of src/add.js:add true");
    });

    test("the bundler plugins and the Jest transformer load from their subpaths", () => {
      const r = node(["plugins.mjs"], app);
      assert.equal(r.status, 0, explain(r));
      assert.equal(
        r.stdout.trim(),
        "vite:diagnose esbuild:diagnose webpack:function rollup:diagnose rolldown:diagnose jest:function,function",
      );
    });

    test("the CLI: npx diagnose sites", () => {
      const r = run("npx", ["--no", "diagnose", "sites", "total"], app);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /src\/cart\.ts:total/);
    });

    test('require("diagnose") loads the CommonJS build of each runtime subpath, without require(esm)', () => {
      const r = node([...NO_REQUIRE_ESM, "require.cjs"], app);
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout.trim(), "cjs true function function function");
    });

    test("the ESM and CommonJS copies share one registry", (t) => {
      if (!existsSync(join(app, "out", "cart.js"))) return t.skip("needs the tspc build of the test above");
      const r = node(["shared.mjs"], app);
      assert.equal(r.status, 0, explain(r));
      assert.equal(r.stdout.trim(), "two copies true results [5]");
    });
  });

  describe("a service installed with --omit=optional, running prebuilt code", () => {
    let service: string;

    before(() => {
      service = join(work, "service");
      write(service, {
        "package.json": APP_FILES["package.json"]!,
        "src/main.ts": APP_FILES["src/main.ts"]!,
        "src/cart.ts": APP_FILES["src/cart.ts"]!,
      });
      const r = npm(["install", tarball, "--omit=optional"], service);
      assert.equal(r.status, 0, explain(r));
      // The published manifest has no script npm runs (or flags) on install: it builds on prepack.
      assert.doesNotMatch(r.stderr, /install.scripts/i, explain(r));
    });

    test("has none of the build side's packages, and the runtime (ESM and CJS) works without them", (t) => {
      for (const name of Object.keys(REPO_PACKAGE.optionalDependencies)) {
        assert.equal(existsSync(join(service, "node_modules", name)), false, `${name} was installed`);
      }
      const prebuilt = join(work, "app", "out");
      if (!existsSync(join(prebuilt, "main.js"))) return t.skip("needs the tspc build of the project above");
      cpSync(prebuilt, join(service, "out"), { recursive: true });
      const r = node(["out/main.js"], service);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /cart\.total.*6/);
      const cjs = node(
        [...NO_REQUIRE_ESM, "-e", "const d = require('diagnose'); console.log(typeof d.probes.attachTo)"],
        service,
      );
      assert.equal(cjs.stdout.trim(), "function", explain(cjs));
    });

    test("instrument() and the loader name the package to install", () => {
      const script = `import("diagnose/instrument").then((m) => {
  try { m.instrument("export const a = 1;\\n", process.cwd() + "/src/a.ts"); console.log("no error"); }
  catch (e) { console.log(e.code, e.packageName, e.message); }
});`;
      const r = node(["--input-type=module", "-e", script], service);
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /^DIAGNOSE_MISSING_DEPENDENCY @swc\/core /);
      assert.match(
        r.stdout,
        new RegExp(`npm install @swc/core@${REPO_PACKAGE.optionalDependencies["@swc/core"]!.replace(/\./g, "\\.")}`),
      );

      const plugin = node(
        [
          "--input-type=module",
          "-e",
          `import("diagnose/vite").then((m) => m.default(), (e) => console.log("import failed", e.message)).catch((e) => console.log(e.code, e.packageName))`,
        ],
        service,
      );
      assert.equal(plugin.stdout.trim(), "DIAGNOSE_MISSING_DEPENDENCY unplugin", explain(plugin));

      const loader = node(["--import", "diagnose/register", "src/main.ts"], service);
      assert.notEqual(loader.status, 0);
      assert.match(loader.stderr, /npm install @swc\/core@/, explain(loader));

      // The in-place strip asked for, on a file that is only stripped (nothing instrumented): its
      // stripper is the package named.
      writeFileSync(
        join(service, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { verbatimModuleSyntax: true } }),
      );
      const strip = node(["--import", "diagnose/register", "src/cart.ts"], service, {
        DIAGNOSE_STRIP: "in-place",
        DIAGNOSE_EXCLUDE: "**",
      });
      rmSync(join(service, "tsconfig.json"));
      assert.notEqual(strip.status, 0);
      assert.match(
        strip.stderr,
        new RegExp(`npm install amaro@${REPO_PACKAGE.optionalDependencies["amaro"]!.replace(/\./g, "\\.")}`),
        explain(strip),
      );
    });
  });
});
