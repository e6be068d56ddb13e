/**
 * The synthesized nodes of every site of one file, built from the same strings the SWC path
 * inserts (transformer/site-code.ts), so both paths emit the same code. Each piece of original
 * code that the site code surrounds (a function's statements, a returned expression, an arrow's
 * expression body) is marked by the placeholder and filled in by the rewriter.
 */
import type * as TS from "typescript";
import type { Analysis, AnalyzedFunction, ReturnEdit } from "../analyze.js";
import { headerCode } from "../header.js";
import {
  arrowCloseCode,
  arrowOpenCode,
  bodyCloseCode,
  bodyOpenCode,
  entryCode,
  lineCode,
  returnCloseCode,
  returnOpenCode,
  returnVoidCode,
  type EntryCodeInput,
} from "../site-code.js";
import { PLACEHOLDER, synthesizeBodies, synthesizeModule } from "./synthesize.js";
import type { TypeScript } from "./types.js";

export interface BlockBodyNodes {
  /** `var $dgf, $dgr;` */
  declaration: TS.Statement;
  /** `try { <entry> $dgP; <end> } catch ($dge) { <throw> }`: `$dgP;` stands for the body's statements. */
  wrapper: TS.TryStatement;
}

export interface SiteNodes {
  /** Header statements (ESM: the data: import, then the registration). */
  readonly header: TS.Statement[];
  block(fn: AnalyzedFunction): BlockBodyNodes;
  /** `{ var …; try { <entry> return ($dgr = $dgP, …); } catch … }` for an arrow's expression body. */
  arrow(fn: AnalyzedFunction): TS.Block;
  /** The guard statement of a line site. */
  line(siteId: number): TS.Statement;
  /** The returned expression: with `$dgP` for `return expr;`, complete for `return;`. */
  returned(edit: ReturnEdit): TS.Expression;
}

export function buildSiteNodes(ts: TypeScript, analysis: Analysis): SiteNodes {
  // The names the SWC path uses (edit.ts): `$dg` handle in modules, `$dg_<hash>` in scripts.
  const names = analysis.names;
  const site = (id: number) => analysis.sites[id]!;
  const entry = (fn: AnalyzedFunction): EntryCodeInput => ({
    siteId: fn.entrySite,
    thisExpression: fn.thisExpression,
    args: fn.args,
    replaceable: fn.replaceable,
    async: fn.async,
  });
  const throwOf = (fn: AnalyzedFunction) => ({ siteId: fn.throwSite, locals: site(fn.throwSite).locals });

  // One snippet per edit, parsed together; `index` remembers which is which.
  const snippets: string[] = [];
  const bodyIndex = new Map<AnalyzedFunction, number>();
  for (const fn of analysis.functions) {
    bodyIndex.set(fn, snippets.length);
    if (fn.body.kind === "block") {
      const end = fn.endSite >= 0 ? { siteId: fn.endSite, locals: site(fn.endSite).locals } : null;
      snippets.push(`${bodyOpenCode()}${entryCode(names, entry(fn))} ${PLACEHOLDER};${bodyCloseCode(names, end, throwOf(fn))}`);
    } else {
      const returnSite = { siteId: fn.returnSite, locals: site(fn.returnSite).locals };
      const anonymous = fn.body.anonymous;
      snippets.push(`${arrowOpenCode(names, entry(fn), anonymous)}${PLACEHOLDER}${arrowCloseCode(names, returnSite, throwOf(fn), anonymous)}`);
    }
  }
  const lineIndex = new Map<number, number>();
  for (const line of analysis.lines) {
    lineIndex.set(line.site, snippets.length);
    const s = site(line.site);
    snippets.push(lineCode(names, line.site, s.locals, analysis.functions[s.fn]!.async));
  }
  const returnIndex = new Map<ReturnEdit, number>();
  for (const r of analysis.returns) {
    returnIndex.set(r, snippets.length);
    const locals = site(r.site).locals;
    snippets.push(
      r.argument
        ? `return ${returnOpenCode(false, r.argument.anonymous)}${PLACEHOLDER}${returnCloseCode(names, r.site, locals, false, r.argument.anonymous)};`
        : `return${returnVoidCode(names, r.site, locals)};`,
    );
  }
  const parsed = synthesizeBodies(ts, snippets);
  const at = (index: number | undefined): TS.Statement[] => {
    const statements = index === undefined ? undefined : parsed[index];
    if (!statements) throw new Error("diagnose/transformer: no site code for an edit");
    return statements;
  };

  return {
    header: synthesizeModule(ts, headerCode(analysis.table, analysis.format, names.handle)),
    block(fn) {
      const [declaration, wrapper] = at(bodyIndex.get(fn));
      if (!declaration || !wrapper || !ts.isTryStatement(wrapper)) throw new Error("diagnose/transformer: unexpected body site code");
      return { declaration, wrapper };
    },
    arrow(fn) {
      const [block] = at(bodyIndex.get(fn));
      if (!block || !ts.isBlock(block)) throw new Error("diagnose/transformer: unexpected arrow site code");
      return block;
    },
    line(siteId) {
      return at(lineIndex.get(siteId))[0]!;
    },
    returned(edit) {
      const [statement] = at(returnIndex.get(edit));
      if (!statement || !ts.isReturnStatement(statement) || !statement.expression) throw new Error("diagnose/transformer: unexpected return site code");
      return statement.expression;
    },
  };
}
