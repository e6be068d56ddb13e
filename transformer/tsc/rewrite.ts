/**
 * The rewrite of one source file: the original, type-checked nodes stay; synthesized site code is
 * added around them at the matched positions (match.ts), as the SWC path adds text:
 *
 * - a function body `{ <directives> S… }` becomes
 *   `{ <directives> var $dgf, $dgr; try { <entry> S… <end> } catch ($dge) { <throw> } }`;
 * - an arrow's expression body `e` becomes `{ var …; try { <entry> return ($dgr = e, …); } catch … }`;
 * - a line site's guard goes before its statement (a single-statement body gets braces);
 * - `return e` becomes `return ($dgr = e, $g ? $m.x(…) : $dgr)` around the original `e`;
 * - the module header goes after the file's directive prologue, the marker comment first;
 * - an outlined function (transformer/outline.ts) keeps its original body (without its own
 *   sites; functions defined inside it are instrumented in both bodies) behind the guard `if ($g) return $dgO3.call(this, a);` (an expression body `e`: `($g ? $dgO3(a) : (e))`);
 *   the instrumented body built as above goes into its copy `$dgO3 = { "name"(a) { … } }["name"];`,
 *   a statement of the module's binder `function $dgB(…) { … }`, appended to the file's statements
 *   like the SWC path appends it to the text.
 *
 * Original nodes keep their positions, so tsc's source maps still point into the .ts file;
 * synthesized nodes have none (tsc maps nothing to them).
 */
import type * as TS from "typescript";
import { FnFlags } from "../../abi/index.js";
import type { AnalyzedFunction } from "../analyze.js";
import { holdsEdit, type EditPlan } from "./match.js";
import type { SiteNodes } from "./site-nodes.js";
import { PLACEHOLDER, fillPlaceholder } from "./synthesize.js";
import type { TypeScript } from "./types.js";

/** The text of the marker comment (`/*diagnose:instrumented*\/`, abi/index.ts INSTRUMENTED_MARKER). */
const MARKER_TEXT = "diagnose:instrumented";

/**
 * `addUseStrict`: tsc will prepend a `"use strict"` directive (format.ts `tscAddsUseStrict`); the
 * rewrite writes it first, with the marker, unless the prologue already has one.
 */
export function rewriteFile(
  ts: TypeScript,
  context: TS.TransformationContext,
  file: TS.SourceFile,
  plan: EditPlan,
  nodes: SiteNodes,
  addUseStrict: boolean,
): TS.SourceFile {
  const f = context.factory;
  // The outlined copies by function id: appended in function order, as edit.ts appends them.
  const copies = new Map<number, { fn: AnalyzedFunction; copy: TS.Statement }>();

  /**
   * The visitor that applies the plan. `skip`: the site ids whose edits it leaves out — an outlined
   * function's own sites while its plain body is visited (the functions defined inside it are
   * instrumented in both bodies).
   */
  const visitor = (skip: ReadonlySet<number> | null) => {
    const visit = (node: TS.Node): TS.VisitResult<TS.Node> => {
      // No edit in this subtree: it stays as it is (what visiting it would return).
      if (!holdsEdit(plan.offsets, node)) return node;
      let result: TS.Node;
      const returnEdit = plan.returns.get(node);
      if (returnEdit && !skip?.has(returnEdit.site)) {
        const statement = node as TS.ReturnStatement;
        let value = nodes.returned(returnEdit);
        if (statement.expression)
          value = fillPlaceholder(ts, context, value, ts.visitNode(statement.expression, visit, ts.isExpression)!);
        result = f.updateReturnStatement(statement, value);
      } else {
        result = ts.visitEachChild(node, visit, context);
      }

      const fn = plan.bodies.get(node);
      if (fn) result = fn.outline ? outline(node, result, fn) : instrumentBody(result, fn);

      const line = plan.lines.get(node);
      if (!line || skip?.has(line.site)) return result;
      const guard = nodes.line(line.site);
      return line.wrapEnd !== null ? f.createBlock([guard, result as TS.Statement], true) : [guard, result];
    };
    return visit;
  };
  const visit = visitor(null);

  /** `body` (visited: its returns and line sites rewritten) with the function's site code around it. */
  const instrumentBody = (body: TS.Node, fn: AnalyzedFunction): TS.Node =>
    fn.body.kind === "block"
      ? instrumentBlock(body as TS.Block, fn)
      : fillPlaceholder(ts, context, nodes.arrow(fn), body as TS.Expression);

  /**
   * An outlined function: the instrumented body goes into its copy; the function keeps `original`
   * behind the guard, visited without its own sites (the functions defined inside it are
   * instrumented in both bodies, outline.ts).
   */
  const outline = (original: TS.Node, visited: TS.Node, fn: AnalyzedFunction): TS.Node => {
    copies.set(fn.id, { fn, copy: nodes.outlined(fn, instrumentBody(visited, fn) as TS.Block) });
    // Its children, not the body node itself (which would come back here).
    const plain = ts.visitEachChild(original, visitor(new Set(fn.sites)), context);
    if (fn.body.kind === "expression")
      return fillPlaceholder(ts, context, nodes.outlineArrow(fn), plain as TS.Expression);
    // `{ <directives> if ($g) return $dgO3.call(this, a); S… }`
    const body = plain as TS.Block;
    const prologue = directiveCount(ts, body.statements);
    return f.updateBlock(body, [
      ...body.statements.slice(0, prologue),
      nodes.outlineGuard(fn),
      ...body.statements.slice(prologue),
    ]);
  };

  const instrumentBlock = (body: TS.Block, fn: AnalyzedFunction): TS.Block => {
    const statements = body.statements;
    // A derived constructor's leading `super(…)` stays before the site code, as in instrument()
    // (walk/functions.ts `visitFunctionBody`: TurboFan never inlines a `super()` inside a `try`).
    const directives = directiveCount(ts, statements);
    const prologue =
      directives +
      ((fn.flags & FnFlags.derivedConstructor) !== 0 && isSuperCallStatement(ts, statements[directives]) ? 1 : 0);
    const { declaration, wrapper } = nodes.block(fn);
    const inner: TS.Statement[] = [];
    for (const s of wrapper.tryBlock.statements) {
      if (isPlaceholderStatement(ts, s)) inner.push(...statements.slice(prologue));
      else if (!ts.isEmptyStatement(s)) inner.push(s);
    }
    const wrapped = f.updateTryStatement(wrapper, f.createBlock(inner, true), wrapper.catchClause, undefined);
    // The body keeps its own position (its braces map to the source) and prints on several lines.
    const block = f.createBlock([...statements.slice(0, prologue), declaration, wrapped], true);
    return ts.setOriginalNode(ts.setTextRange(block, body), body);
  };

  const visited = ts.visitEachChild(file, visit, context);
  const prologue = directiveCount(ts, visited.statements);
  const directives = visited.statements.slice(0, prologue);
  if (
    addUseStrict &&
    !directives.some((d) => ((d as TS.ExpressionStatement).expression as TS.StringLiteral).text === "use strict")
  ) {
    directives.unshift(f.createExpressionStatement(f.createStringLiteral("use strict")));
  }
  const outlined =
    copies.size === 0
      ? []
      : nodes.binder(
          [...copies]
            .sort((a, b) => a[0] - b[0])
            .map(([, { fn, copy }]) => ({ name: fn.outline!.name, statement: copy })),
        );
  const statements = [...directives, ...nodes.header, ...visited.statements.slice(prologue), ...outlined];
  const output = f.updateSourceFile(visited, statements);
  // The marker leads the output, so that a second pass leaves the file alone. tsc prints the
  // directive prologue first, then emit helpers (`__decorate`…), then statements: the marker goes
  // on the first directive if there is one, else it is printed as the first helper.
  if (directives.length > 0)
    ts.addSyntheticLeadingComment(directives[0]!, ts.SyntaxKind.MultiLineCommentTrivia, MARKER_TEXT, true);
  else ts.addEmitHelper(output, MARKER_HELPER);
  return output;
}

/** Scoped (never imported from tslib, printed even under noEmitHelpers), and before every other helper. */
const MARKER_HELPER: TS.EmitHelper = {
  name: "diagnose:marker",
  scoped: true,
  priority: -1,
  text: `/*${MARKER_TEXT}*/`,
};

/** Leading `"…";` statements: the directive prologue, which must stay first. */
function directiveCount(ts: TypeScript, statements: readonly TS.Statement[]): number {
  let n = 0;
  while (n < statements.length) {
    const s = statements[n]!;
    if (!ts.isExpressionStatement(s) || !ts.isStringLiteral(s.expression)) break;
    n++;
  }
  return n;
}

function isSuperCallStatement(ts: TypeScript, s: TS.Statement | undefined): boolean {
  return (
    s !== undefined &&
    ts.isExpressionStatement(s) &&
    ts.isCallExpression(s.expression) &&
    s.expression.expression.kind === ts.SyntaxKind.SuperKeyword
  );
}

function isPlaceholderStatement(ts: TypeScript, s: TS.Statement): boolean {
  return ts.isExpressionStatement(s) && ts.isIdentifier(s.expression) && s.expression.text === PLACEHOLDER;
}
