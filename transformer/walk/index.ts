/**
 * The single walk over the SWC AST. It finds every function, names it (naming.ts), decides its
 * sites and the locals each may read (scopes.ts), and records where code goes. Nothing is
 * numbered or printed here: analyze.ts numbers sites in source order and builds the table.
 *
 * Invariants kept by the walk:
 * - children are visited in source order, so name suffixes (`~2`) and site order follow the text;
 * - a line site is only placed where a statement may stand (never between a label and its
 *   statement), wrapping single-statement bodies;
 * - a function is only instrumented when the try/catch wrapper cannot change its meaning.
 *
 * The walk is split by syntactic family (transformer/walk/): state.ts (shared state, naming
 * context, site creation), functions.ts, classes.ts, expressions.ts, statements.ts.
 */
export { StatementWalker as Walker } from "./statements.js";
export type { RawFunction, RawLine, RawReturn, RawSite, WalkResult } from "./state.js";

/** Offsets of nodes preceded by a `diagnose-ignore-next` comment (the next token after it). */
export function ignoreNextStarts(code: string, nextToken: (from: number) => number): Set<number> {
  const starts = new Set<number>();
  if (!code.includes("diagnose-ignore-next")) return starts;
  const re = /\/\/[ \t]*diagnose-ignore-next\b[^\n\r]*|\/\*\s*diagnose-ignore-next\b[\s\S]*?\*\//g;
  for (let m = re.exec(code); m; m = re.exec(code)) starts.add(nextToken(m.index + m[0].length));
  return starts;
}
