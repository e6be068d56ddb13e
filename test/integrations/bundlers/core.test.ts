/**
 * The plugin core and the Jest transformer in process: option checking, which modules are
 * transformed, what `transform` returns, the flag-definer module behind the ESM header, and Jest's
 * cache key. The real tools run them in bundlers.test.ts.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { UnpluginBuildContext, UnpluginContext, UnpluginOptions } from "unplugin";
import {
  diagnoseUnplugin,
  fileOfId,
  PluginOptionsError,
  resolvePluginOptions,
} from "../../../integrations/bundlers/core.js";
import { createTransformer } from "../../../integrations/jest/transformer.js";
import { DiagnoseError } from "../../../errors/index.js";
import { tempDir } from "../helpers.js";

const META = { framework: "rollup", versions: {} } as const;
const SOURCE = "export function add(a: number, b: number): number {\n  return a + b;\n}\n";

type Hook = (this: unknown, ...args: unknown[]) => unknown;
const call = (hook: unknown, ...args: unknown[]): unknown => {
  const warnings: string[] = [];
  const context = { warn: (m: string) => warnings.push(m) } as unknown as UnpluginBuildContext & UnpluginContext;
  return (hook as Hook).call(context, ...args);
};

describe("bundler plugin core", () => {
  let project: { dir: string; remove(): void };
  let file: string;

  before(() => {
    project = tempDir("bundler-core");
    writeFileSync(join(project.dir, "package.json"), JSON.stringify({ name: "core-app", type: "module" }));
    mkdirSync(join(project.dir, "src"));
    file = join(project.dir, "src", "add.ts");
    writeFileSync(file, SOURCE);
  });
  after(() => project?.remove());

  it("refuses unknown options and ill-typed values with a DiagnoseError naming the option", () => {
    assert.throws(
      () => resolvePluginOptions({ includ: ["src/**"] }),
      (e: unknown) => {
        assert.ok(e instanceof PluginOptionsError && e instanceof DiagnoseError);
        assert.equal((e as PluginOptionsError).code, "DIAGNOSE_PLUGIN_OPTIONS");
        assert.match((e as Error).message, /"includ".*known: include, exclude/);
        return true;
      },
    );
    assert.throws(() => resolvePluginOptions({ include: [1] }), /"include" must be a glob/);
    assert.throws(() => resolvePluginOptions({ outline: "yes" }), /"outline" must be true or false/);
    assert.throws(() => resolvePluginOptions("src/**"), /must be an object/);
    assert.deepEqual(resolvePluginOptions({ include: "src/**" }).include, ["src/**"]);
  });

  it("takes file ids with queries and skips virtual ids", () => {
    assert.equal(fileOfId("/app/src/a.ts?v=123"), "/app/src/a.ts");
    assert.equal(fileOfId("\0virtual:thing"), undefined);
    assert.equal(fileOfId("relative/a.ts"), undefined);
  });

  it("instruments included files with a source map and leaves excluded ones", () => {
    const plugin = diagnoseUnplugin({ manifest: false }, META) as UnpluginOptions;
    assert.equal(call(plugin.transformInclude, file), true);
    assert.equal(call(plugin.transformInclude, join(project.dir, "node_modules", "x", "a.ts")), false);
    const out = call(plugin.transform, SOURCE, file) as { code: string; map: { sources: string[] } };
    assert.match(out.code, /diagnose:instrumented/);
    assert.ok(out.map.sources.some((s) => s.endsWith("add.ts")));

    // Typed by default (a type checker such as ts-loader may follow), untyped on request.
    assert.match(out.code, /declare var \$dg_\w+_0: boolean/);
    const untyped = diagnoseUnplugin({ manifest: false, types: false }, META) as UnpluginOptions;
    assert.doesNotMatch((call(untyped.transform, SOURCE, file) as { code: string }).code, /declare var/);

    const excluding = diagnoseUnplugin({ exclude: ["src/add.ts"], manifest: false }, META) as UnpluginOptions;
    assert.equal(call(excluding.transformInclude, file), false);
  });

  it("reads include/exclude from the project's package.json, as the loader does; options win", () => {
    const configured = tempDir("bundler-config");
    try {
      writeFileSync(
        join(configured.dir, "package.json"),
        JSON.stringify({ name: "configured", diagnose: { exclude: ["src/skip.ts"] } }),
      );
      mkdirSync(join(configured.dir, "src"));
      const skip = join(configured.dir, "src", "skip.ts");
      const keep = join(configured.dir, "src", "keep.ts");
      const plugin = diagnoseUnplugin({ manifest: false }, META) as UnpluginOptions;
      assert.equal(call(plugin.transformInclude, skip), false);
      assert.equal(call(plugin.transformInclude, keep), true);
      const overriding = diagnoseUnplugin({ exclude: [], manifest: false }, META) as UnpluginOptions;
      assert.equal(call(overriding.transformInclude, skip), true);
    } finally {
      configured.remove();
    }
  });

  it("turns the ESM header's data: import into a module that defines the flags", () => {
    const plugin = diagnoseUnplugin({ manifest: false }, META) as UnpluginOptions;
    const out = call(plugin.transform, SOURCE, file) as { code: string };
    const url = /import "(data:text\/javascript,[^"]*)"/.exec(out.code)?.[1];
    assert.ok(url !== undefined, out.code);
    const id = call(plugin.resolveId, url, file) as string;
    assert.ok(id.startsWith("\0"));
    assert.equal(call(plugin.loadInclude, id), true);
    const loaded = call(plugin.load, id) as { code: string };
    assert.equal(loaded.code, decodeURIComponent(url.slice("data:text/javascript,".length)));
    assert.equal(call(plugin.resolveId, "./other.js", file), null);
  });
});

describe("Jest transformer", () => {
  let project: { dir: string; remove(): void };
  let file: string;

  before(() => {
    project = tempDir("jest-transformer");
    writeFileSync(join(project.dir, "package.json"), JSON.stringify({ name: "jest-app" }));
    file = join(project.dir, "add.ts");
    writeFileSync(file, SOURCE);
  });
  after(() => project?.remove());

  it("emits CommonJS whose header comes first, with an inline source map", () => {
    const out = createTransformer({ manifest: false }).process(SOURCE, file, {});
    assert.doesNotMatch(out.code, /data:text\/javascript/);
    assert.match(out.code, /exports/);
    assert.match(out.code, /sourceMappingURL=data:application\/json/);
    const header = out.code.indexOf("register(");
    const exportsAt = out.code.indexOf("Object.defineProperty(exports");
    assert.ok(header !== -1 && header < exportsAt, out.code);
  });

  it("keys its cache on the source, the format and the include/exclude options", () => {
    const t = createTransformer();
    const key = t.getCacheKey(SOURCE, file, { configString: "{}" });
    assert.equal(t.getCacheKey(SOURCE, file, { configString: "{}" }), key);
    assert.notEqual(t.getCacheKey(SOURCE + "\n", file, { configString: "{}" }), key);
    assert.notEqual(t.getCacheKey(SOURCE, file, { configString: "{}", supportsStaticESM: true }), key);
    assert.notEqual(createTransformer({ exclude: "*.ts" }).getCacheKey(SOURCE, file, { configString: "{}" }), key);
  });

  it("refuses options it does not take", () => {
    assert.throws(() => createTransformer({ outline: false } as never), PluginOptionsError);
    assert.throws(() => createTransformer({ types: true } as never), PluginOptionsError);
    assert.throws(
      () => createTransformer({ transformer: "babel-jest" } as never),
      (e: unknown) => e instanceof PluginOptionsError && /"transformer" must be "swc", "ts-jest"/.test(e.message),
    );
    assert.throws(() => createTransformer({ transformer: ["ts-jest", "yes"] } as never), PluginOptionsError);
  });
});
