/**
 * Matching the analysis (UTF-16 offsets into the source text, from the SWC parse) to nodes of the
 * TypeScript tree of the same text. Both parsers agree on where a construct starts and ends once
 * trivia is skipped, so:
 *
 * - a function body is the `body` of a function-like node whose first token is at the body's
 *   start (the `{`, or the first token of an arrow's expression body) and which ends at its end;
 * - a line site's statement is a statement, in a statement list or a single-statement slot
 *   (`if (c) stmt`, loop bodies), whose first token (`getStart`, JSDoc excluded) is the site offset;
 * - a `return` is the return statement starting at the edit's start.
 *
 * Matching runs over the whole file before anything is rewritten: if any edit finds no node (a
 * construct the parsers see differently), the file is emitted uninstrumented instead of with a
 * half-instrumented function (a rewritten `return` without its `var $dgr` would throw).
 */
import type * as TS from "typescript";
import type { Analysis, AnalyzedFunction, LineEdit, ReturnEdit } from "../analyze.js";
import type { TypeScript } from "./types.js";

export interface EditPlan {
  /** Function body (Block or arrow expression body) → its function's analysis. */
  readonly bodies: Map<TS.Node, AnalyzedFunction>;
  /** Statement → the line site inserted before it. */
  readonly lines: Map<TS.Node, LineEdit>;
  readonly returns: Map<TS.Node, ReturnEdit>;
  /** Every edit's offset, ascending: a node whose range holds none has no edit inside it. */
  readonly offsets: readonly number[];
}

/** True if some offset lies in `node`'s range (`pos` includes leading trivia, so the start of every descendant). */
export function holdsEdit(offsets: readonly number[], node: TS.Node): boolean {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid]! < node.pos) lo = mid + 1;
    else hi = mid;
  }
  return lo < offsets.length && offsets[lo]! <= node.end;
}

export interface Mismatch {
  /** UTF-16 offset in the source of the edit that found no node. */
  readonly offset: number;
  readonly what: string;
}

export function matchEdits(ts: TypeScript, file: TS.SourceFile, analysis: Analysis): EditPlan | Mismatch {
  const bodyByStart = new Map<number, AnalyzedFunction>();
  for (const fn of analysis.functions) bodyByStart.set(fn.body.start, fn);
  const lineByOffset = new Map<number, LineEdit>();
  for (const line of analysis.lines) lineByOffset.set(line.offset, line);
  const returnByStart = new Map<number, ReturnEdit>();
  for (const r of analysis.returns) returnByStart.set(r.start, r);

  const offsets = [...bodyByStart.keys(), ...lineByOffset.keys(), ...returnByStart.keys()].sort((a, b) => a - b);
  const plan: EditPlan = { bodies: new Map(), lines: new Map(), returns: new Map(), offsets };
  const problems: Mismatch[] = [];

  const statement = (node: TS.Node | undefined, single: boolean): void => {
    if (!node || lineByOffset.size === plan.lines.size) return;
    const line = lineByOffset.get(node.getStart(file));
    if (!line || plan.lines.has(node)) return;
    // A single-statement body is wrapped in braces up to its end; in a list it is not wrapped.
    if ((line.wrapEnd !== null) !== single || (single && line.wrapEnd !== node.end)) {
      problems.push({ offset: line.offset, what: `line site ${line.site} (statement wrapping differs)` });
      return;
    }
    plan.lines.set(node, line);
  };

  const visit = (node: TS.Node): void => {
    // Every node matched below starts inside `node`: a subtree without an edit offset has nothing to match.
    if (!holdsEdit(offsets, node)) return;
    if (ts.isFunctionLike(node)) {
      const body = (node as { body?: TS.Node }).body;
      if (body) {
        const fn = bodyByStart.get(body.getStart(file));
        if (fn) {
          const kind = ts.isBlock(body) ? "block" : "expression";
          if (fn.body.kind !== kind || fn.body.end !== body.end) {
            problems.push({ offset: fn.body.start, what: `the body of ${fn.qualifiedName} (it ends elsewhere)` });
          } else {
            plan.bodies.set(body, fn);
          }
        }
      }
    } else if (ts.isReturnStatement(node)) {
      const r = returnByStart.get(node.getStart(file));
      if (r) plan.returns.set(node, r);
    }
    if (ts.isBlock(node) || ts.isCaseClause(node) || ts.isDefaultClause(node) || ts.isModuleBlock(node)) {
      for (const s of node.statements) statement(s, false);
    } else if (ts.isIfStatement(node)) {
      statement(node.thenStatement, true);
      statement(node.elseStatement, true);
    } else if (ts.isIterationStatement(node, false) || ts.isWithStatement(node)) {
      statement(node.statement, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);

  if (problems.length > 0) return problems[0]!;
  const matchedFns = new Set(plan.bodies.values());
  const fn = analysis.functions.find((f) => !matchedFns.has(f));
  if (fn) return { offset: fn.body.start, what: `the body of ${fn.qualifiedName}` };
  const matchedLines = new Set(plan.lines.values());
  const line = analysis.lines.find((l) => !matchedLines.has(l));
  if (line) return { offset: line.offset, what: `the statement of line site ${line.site}` };
  const matchedReturns = new Set(plan.returns.values());
  const ret = analysis.returns.find((r) => !matchedReturns.has(r));
  if (ret) return { offset: ret.start, what: `the return statement of site ${ret.site}` };
  return plan;
}

export function isMismatch(result: EditPlan | Mismatch): result is Mismatch {
  return "offset" in result;
}
