/**
 * The loader's opt-in in-place type strip (DIAGNOSE_STRIP=in-place, integrations/shared/strip-in-place.ts):
 * it keeps every line where it was, it falls back to SWC where a file needs a transform, and it
 * gives the sites SWC's path gives.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { compileModuleUncached } from "../../integrations/shared/compile.js";
import { loadConfig } from "../../integrations/shared/config.js";
import { DiagnoseConfigError } from "../../integrations/shared/config.js";
import { inPlaceRefusal, inPlaceRequested, mayNeedLowering } from "../../integrations/shared/strip-in-place.js";
import { explain, runWithLoader, tempDir } from "./helpers.js";

/** Types over several lines before the throw: SWC's strip removes those lines, the in-place strip keeps them. */
const SERVICE = `interface Order {
  id: string;
  total: number;
}

type Handler = (order: Order) => number;

export const handle: Handler = (order: Order): number => {
  if (order.total < 0) throw new Error("negative total");
  return order.total;
};

try {
  handle({ id: "a", total: -1 });
} catch (error) {
  const frame = (error as Error).stack!.split("\\n")[1]!;
  console.log("line", /service\\.ts:(\\d+):/.exec(frame)?.[1]);
}
`;

function project(tsconfig: object, files: Record<string, string>): { dir: string; remove(): void } {
  const t = tempDir("strip-in-place");
  writeFileSync(join(t.dir, "package.json"), JSON.stringify({ name: "strip-in-place", type: "module" }));
  writeFileSync(join(t.dir, "tsconfig.json"), JSON.stringify({ compilerOptions: tsconfig }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(t.dir, name), text);
  return t;
}

function withStrip<T>(value: string | undefined, fn: () => T): T {
  const before = process.env["DIAGNOSE_STRIP"];
  if (value === undefined) delete process.env["DIAGNOSE_STRIP"];
  else process.env["DIAGNOSE_STRIP"] = value;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env["DIAGNOSE_STRIP"];
    else process.env["DIAGNOSE_STRIP"] = before;
  }
}

describe("in-place type strip (DIAGNOSE_STRIP=in-place)", () => {
  it("keeps line numbers: a stack read without source maps names the .ts file's own line", () => {
    const t = project({ verbatimModuleSyntax: true }, { "service.ts": SERVICE });
    try {
      const noMaps = { DIAGNOSE_SOURCE_MAPS: "off" };
      const inPlace = runWithLoader(["service.ts"], t.dir, { ...noMaps, DIAGNOSE_STRIP: "in-place" });
      assert.equal(inPlace.status, 0, explain(inPlace));
      assert.match(inPlace.stdout, /^line 9$/m, explain(inPlace));
      // SWC's strip moves the line: without source maps the stack names another line.
      const swc = runWithLoader(["service.ts"], t.dir, noMaps);
      assert.equal(swc.status, 0, explain(swc));
      assert.doesNotMatch(swc.stdout, /^line 9$/m, explain(swc));
      // With source maps (the default) both name line 9.
      const mapped = runWithLoader(["service.ts"], t.dir, { DIAGNOSE_STRIP: "in-place" });
      assert.match(mapped.stdout, /^line 9$/m, explain(mapped));
    } finally {
      t.remove();
    }
  });

  it("falls back to SWC for what needs a transform: enums, parameter properties, type-only imports without verbatimModuleSyntax", () => {
    const files = {
      "main.ts": `import { Color, Point } from "./shapes.ts";
import { Shape } from "./types.ts";
const shape: Shape = { color: Color.Red };
console.log("color", shape.color, new Point(2).x);
`,
      "shapes.ts": `export enum Color { Red = 7 }
export class Point { constructor(public x: number) {} }
`,
      "types.ts": `import type { Color } from "./shapes.ts";
export interface Shape { color: Color }
`,
    };
    // Without verbatimModuleSyntax the import of the interface Shape must go: SWC drops it.
    const t = project({ allowImportingTsExtensions: true }, files);
    try {
      const r = runWithLoader(["main.ts"], t.dir, { DIAGNOSE_STRIP: "in-place" });
      assert.equal(r.status, 0, explain(r));
      assert.match(r.stdout, /^color 7 2$/m, explain(r));
    } finally {
      t.remove();
    }
  });

  it("strips in place only what it can, and the sites are those of SWC's path", () => {
    const sources: Record<string, string> = {
      "plain.ts": SERVICE,
      "enum.ts": "export enum E { A }\nexport const f = (e: E): number => e;\n",
      "decorated.ts": "const dec = (c: unknown) => c;\n@dec\nexport class C {}\n",
    };
    const t = project({ verbatimModuleSyntax: true }, sources);
    try {
      const config = loadConfig(t.dir, {});
      const compile = (name: string) =>
        compileModuleUncached(sources[name]!, {
          filename: join(t.dir, name),
          format: "module",
          instrument: true,
          config,
        });
      for (const name of Object.keys(sources)) {
        const inPlace = withStrip("in-place", () => compile(name));
        const swc = withStrip(undefined, () => compile(name));
        assert.deepEqual(inPlace.sites, swc.sites, name);
        const body = (code: string) => code.replace(/\n\/\/# sourceMappingURL=.*\n$/, "");
        if (name === "plain.ts") {
          // Line 9 stays line 9: the interface's lines are blanked, not removed.
          const line9 = '  if (order.total < 0) throw new Error("negative total");';
          assert.equal(body(inPlace.code).split("\n")[8], line9);
          assert.notEqual(body(swc.code).split("\n")[8], line9);
        } else {
          // Refused (an enum), or left to SWC (a decorator): SWC's output, byte for byte.
          assert.equal(inPlace.code, swc.code, name);
        }
      }
    } finally {
      t.remove();
    }
  });

  it("leaves to SWC what needs its transform, by format, extension and tsconfig", () => {
    const code = "export const a: number = 1;\n";
    const verbatim = { verbatimModuleSyntax: true };
    assert.equal(inPlaceRefusal(code, "/p/a.ts", "module", verbatim), null);
    assert.equal(inPlaceRefusal(code, "/p/a.mts", "module", verbatim), null);
    assert.match(inPlaceRefusal(code, "/p/a.cts", "commonjs", verbatim)!, /CommonJS/);
    assert.match(inPlaceRefusal(code, "/p/a.ts", "commonjs", verbatim)!, /CommonJS/);
    assert.match(inPlaceRefusal(code, "/p/a.tsx", "module", verbatim)!, /JSX/);
    assert.match(inPlaceRefusal(code, "/p/a.ts", "module", {})!, /verbatimModuleSyntax/);
    assert.match(
      inPlaceRefusal(code, "/p/a.ts", "module", { ...verbatim, useDefineForClassFields: false })!,
      /useDefineForClassFields/,
    );
    assert.match(
      inPlaceRefusal(code, "/p/a.ts", "module", { ...verbatim, experimentalDecorators: true })!,
      /experimentalDecorators/,
    );
    assert.match(inPlaceRefusal("@d class C {}", "/p/a.ts", "module", verbatim)!, /decorators/);
  });

  it("is off unless asked for, and refuses an unknown DIAGNOSE_STRIP value", () => {
    assert.equal(inPlaceRequested({}), false);
    assert.equal(inPlaceRequested({ DIAGNOSE_STRIP: "swc" }), false);
    assert.equal(inPlaceRequested({ DIAGNOSE_STRIP: "in-place" }), true);
    assert.throws(() => inPlaceRequested({ DIAGNOSE_STRIP: "inplace" }), DiagnoseConfigError);
  });
});

describe("mayNeedLowering: syntax SWC lowers to ES2022", () => {
  const cases: [string, boolean][] = [
    ["@dec class C {}", true],
    ["class A {@d m() {}}", true],
    ["export default @d class {}", true],
    ["/** {@link X} @param a */ let a = 1; // @ts-ignore", false],
    ["const s = '@x' + \"@y\"; const t = `a${'@'}b`;", false],
    ["const r = /@/;", false],
    ["x = a / b; const y = c / d", false],
    // `/*` inside a regular expression literal opens no comment: the decorator after it counts.
    ["const r = /\\/*/g; @d class C {}", true],
    ["const t = `${`@x`}`; @d class C {}", true],
    ["{ using x = f(); }", true],
    ["for (await using x of xs) {}", true],
    ["class A { accessor x = 1 }", true],
    ["class A { static accessor #x = 1 }", true],
    ["// using x\nlet using = 1; using = 2;", false],
    ["let accessor = 1; accessor = 2;", false],
  ];
  for (const [code, expected] of cases) {
    it(`${expected ? "yes" : "no"}: ${code.replace(/\n/g, "\\n")}`, () => {
      assert.equal(mayNeedLowering(code), expected);
    });
  }
});
