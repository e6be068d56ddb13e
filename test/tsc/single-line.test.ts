/**
 * site-nodes.ts sets `EmitFlags.SingleLine` only on the node kinds whose flag TypeScript's printer
 * reads (blocks, `if`, `try`, loops…), not on every node of site code: each flag costs an EmitNode.
 * Printed with the flag on every node, as before, each piece of site code of a file with every
 * kind of site (sync and async functions, outlined ones, an arrow's expression body, `return e`,
 * `return;`, argument replacement, the ESM header and the binder) must print the same text.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { join } from "node:path";
import { test } from "node:test";
import type * as TS from "typescript";
import { analyze, isSkipped, type Analysis } from "../../transformer/analyze.js";
import { buildSiteNodes } from "../../transformer/tsc/site-nodes.js";
import { TS_DIR } from "./helpers.js";

const ts = createRequire(join(TS_DIR, "noop.js"))("typescript") as typeof TS;

const SOURCE = `
export function add(a: number, b = 2, ...rest: number[]): number {
  if (a > b) return a;
  for (const r of rest) b += r;
  return a + b;
}
export async function load({ id, name }: { id: number; name: string }): Promise<string> {
  await Promise.resolve(id);
  if (!name) return;
  return name + id;
}
export const double = (x: number) => x * 2;
export class Cart {
  items: number[] = [];
  total(): number {
    let sum = 0;
    for (const i of this.items) {
      sum += i;
    }
    try {
      return sum;
    } catch (e) {
      throw e;
    }
  }
}
`;

function analysisOf(options: { outline: boolean; replaceArguments: boolean }): Analysis {
  const result = analyze(SOURCE, "/project/src/cart.ts", { root: "/project", module: "esm", ...options });
  assert.ok(!isSkipped(result), "the fixture is instrumented");
  return result;
}

/** Every piece of site code buildSiteNodes makes for `analysis`. */
function pieces(analysis: Analysis): TS.Node[] {
  const nodes = buildSiteNodes(ts, analysis);
  const out: TS.Node[] = [...nodes.header];
  const copies: { name: string; statement: TS.Statement }[] = [];
  for (const fn of analysis.functions) {
    if (fn.body.kind === "block") {
      const { declaration, wrapper } = nodes.block(fn);
      out.push(declaration, wrapper);
    } else {
      out.push(nodes.arrow(fn));
    }
    if (fn.outline) {
      out.push(fn.body.kind === "block" ? nodes.outlineGuard(fn) : nodes.outlineArrow(fn));
      const body = ts.factory.createBlock([ts.factory.createReturnStatement()], true);
      copies.push({ name: fn.outline.name, statement: nodes.outlined(fn, body) });
    }
  }
  for (const line of analysis.lines) out.push(nodes.line(line.site));
  for (const r of analysis.returns) out.push(nodes.returned(r));
  if (copies.length > 0) out.push(...nodes.binder(copies));
  return out;
}

/** The node's emit flags (TypeScript's getEmitFlags is internal). */
function flagsOf(node: TS.Node): number {
  return (node as { emitNode?: { flags?: number } }).emitNode?.flags ?? 0;
}

function everyNodeSingleLine(node: TS.Node): void {
  // Multi-line blocks are so on purpose (the binder's, whose copies go on lines of their own, and
  // a copy's body); site-nodes.ts never flags them.
  if (!(ts.isBlock(node) && (node as { multiLine?: boolean }).multiLine))
    ts.setEmitFlags(node, flagsOf(node) | ts.EmitFlags.SingleLine);
  ts.forEachChild(node, everyNodeSingleLine);
}

test("site code prints the same with SingleLine on every node", () => {
  const printer = ts.createPrinter({ removeComments: false });
  const file = ts.createSourceFile("out.ts", "", ts.ScriptTarget.ESNext, false, ts.ScriptKind.TS);
  let count = 0;
  let flagged = 0;
  for (const options of [
    { outline: true, replaceArguments: false },
    { outline: false, replaceArguments: true },
  ]) {
    const analysis = analysisOf(options);
    assert.ok(analysis.functions.some((fn) => fn.outline) === options.outline);
    for (const piece of pieces(analysis)) {
      const selective = printer.printNode(ts.EmitHint.Unspecified, piece, file);
      const countFlags = (node: TS.Node): void => {
        count++;
        if (flagsOf(node) & ts.EmitFlags.SingleLine) flagged++;
        ts.forEachChild(node, countFlags);
      };
      countFlags(piece);
      everyNodeSingleLine(piece);
      assert.equal(selective, printer.printNode(ts.EmitHint.Unspecified, piece, file));
    }
  }
  // The point of the selection: most nodes carry no EmitNode.
  assert.ok(flagged * 4 < count, `${flagged} of ${count} nodes flagged`);
});
