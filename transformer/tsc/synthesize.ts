/**
 * Turning site-code strings (transformer/site-code.ts, transformer/header.ts) into TypeScript
 * nodes that can be inserted into the program being compiled.
 *
 * Used for the module header of non-ESM output (site-nodes.ts builds the rest with `ts.factory`).
 * The string is parsed with `ts.createSourceFile`, then every node of the parse
 * is made synthesized: positions -1 (tsc maps nothing to them and prints them from their own text)
 * and the `Synthesized` flag (so `getParseTreeNode` does not lead the checker or the CommonJS
 * transform into the throwaway parse: a synthesized `a` is printed as `a`, never rewritten into an
 * import access). The nodes are fresh, owned by this module, so they are changed in place rather
 * than copied.
 */
import type * as TS from "typescript";
import type { TypeScript } from "./types.js";

/** An identifier no template otherwise contains: marks where an original node goes. */
export const PLACEHOLDER = "$dgP";

/** Parses `code` as an ES module and returns its synthesized top-level statements. */
export function synthesizeModule(ts: TypeScript, code: string): TS.Statement[] {
  const file = ts.createSourceFile("diagnose-snippet.mts", code, ts.ScriptTarget.ESNext, false, ts.ScriptKind.TS);
  assertParsed(file, code);
  for (const statement of file.statements) makeSynthesized(ts, statement);
  return [...file.statements];
}

/** Site code comes from our own generators; a parse error is a bug there, not user input. */
function assertParsed(file: TS.SourceFile, code: string): void {
  const diagnostics = (file as unknown as { parseDiagnostics?: readonly TS.DiagnosticWithLocation[] }).parseDiagnostics;
  if (diagnostics && diagnostics.length > 0) {
    const d = diagnostics[0]!;
    const message = typeof d.messageText === "string" ? d.messageText : d.messageText.messageText;
    throw new Error(
      `diagnose/transformer: generated site code does not parse (${message}) near: ${code.slice(Math.max(0, d.start - 40), d.start + 40)}`,
    );
  }
}

function makeSynthesized(ts: TypeScript, node: TS.Node): void {
  const n = node as { -readonly [K in keyof TS.Node]: TS.Node[K] };
  ts.setTextRange(node, { pos: -1, end: -1 });
  n.flags |= ts.NodeFlags.Synthesized;
  // Site code prints on one line per statement (`if ($g) $m.l(…);`), as compact as the SWC path.
  ts.setEmitFlags(node, ts.EmitFlags.SingleLine);
  (n as { parent: TS.Node | undefined }).parent = undefined;
  ts.forEachChild(
    node,
    (child) => makeSynthesized(ts, child),
    (children) => {
      // Node lists have positions too: the printer reads comments at a list's position from the
      // file being emitted, which is the user's file, not the snippet.
      const list = children as unknown as { pos: number; end: number };
      list.pos = -1;
      list.end = -1;
      for (const child of children) makeSynthesized(ts, child);
    },
  );
}

/**
 * Replaces the placeholder identifier in `template` (a synthesized tree) with `replacement` (an
 * original, visited node). Parents are recreated through the factory, which adds parentheses
 * where the original expression needs them (`$dgr = (a, b)`).
 */
export function fillPlaceholder<T extends TS.Node>(
  ts: TypeScript,
  context: TS.TransformationContext,
  template: T,
  replacement: TS.Expression,
): T {
  let found = false;
  const visit = (node: TS.Node): TS.Node => {
    if (ts.isIdentifier(node) && node.text === PLACEHOLDER) {
      found = true;
      return replacement;
    }
    return ts.visitEachChild(node, visit, context);
  };
  const result = visit(template) as T;
  if (!found) throw new Error("diagnose/transformer: site template without placeholder");
  return result;
}
