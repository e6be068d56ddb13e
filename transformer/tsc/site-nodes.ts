/**
 * The synthesized nodes of every site of one file: the code of transformer/site-code.ts (the
 * strings the SWC path inserts), built directly with `ts.factory` in the exact shapes TypeScript's
 * parser gives those strings, so both paths emit the same code. (Parsing the strings cost a second
 * parse of every file's worth of site code; the tests compare the output with the strings'.)
 * The module header, one statement or two per file, is still parsed from transformer/header.ts.
 * Each piece of original code that the site code surrounds (a function's statements, a returned
 * expression, an arrow's expression body) is marked by the placeholder and filled in by the
 * rewriter. An outlined function (transformer/outline.ts) gets its guard from `outlineGuard` /
 * `outlineArrow` and its copy from `outlined`.
 */
import type * as TS from "typescript";
import type { Analysis, AnalyzedFunction, ReturnEdit } from "../analyze.js";
import { definerUrl, headerCode } from "../header.js";
import type { OutlinedFunction } from "../model.js";
import { ERROR_VAR, FRAME_VAR, RESULT_VAR, type OutlineGuardInput } from "../site-code.js";
import {
  COPY_RECEIVER_PARAM,
  HOOKS,
  REGISTRY_KEY,
  binderName,
  binderParam,
  flagName,
  hookName,
  identityName,
  type HookKey,
} from "../../abi/index.js";
import { PLACEHOLDER, synthesizeModule } from "./synthesize.js";
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
  /** An outlined function's block body starts with `if ($g) return $dgO3.call(this, a, ...r);` (outlineGuardCode). */
  outlineGuard(fn: AnalyzedFunction): TS.Statement;
  /** `($g ? $dgO3(a) : ($dgP))` for an outlined arrow's expression body (outlineArrowOpenCode, OUTLINE_ARROW_CLOSE). */
  outlineArrow(fn: AnalyzedFunction): TS.Expression;
  /** `$dgO3 = { "total"(a, ...r) <body> }["total"];`: the copy of an outlined function, with its instrumented body (outlinedCopyOpenCode). */
  outlined(fn: AnalyzedFunction, body: TS.Block): TS.Statement;
  /**
   * `var $dgO1, $dgO3; function $dgB($dg_e, …) { $dgE = $dg_e; …; <copies> }`: the binder of a
   * module with outlined functions (header.ts binderOpenCode), appended to the file.
   */
  binder(copies: readonly { name: string; statement: TS.Statement }[]): TS.Statement[];
}

export function buildSiteNodes(ts: TypeScript, analysis: Analysis): SiteNodes {
  // The names the SWC path uses (edit.ts): `$dg` handle in modules, `$dg_<hash>` in scripts.
  const { hash, handle } = analysis.names;
  const site = (id: number) => analysis.sites[id]!;
  const b = siteBuilder(ts, hash, handle);
  let header: TS.Statement[] | undefined;
  return {
    get header() {
      return (header ??= moduleHeader(ts, analysis, handle));
    },
    block(fn) {
      if (fn.body.kind !== "block") throw new Error("diagnose/transformer: unexpected body site code");
      // bodyOpenCode() entryCode() $dgP; bodyCloseCode(): the `;` after the placeholder is an empty statement.
      const inner: TS.Statement[] = [b.entry(fn), b.statement(b.id(PLACEHOLDER)), b.empty()];
      if (fn.endSite >= 0) inner.push(b.end(fn.endSite, site(fn.endSite).locals));
      return { declaration: b.declaration(), wrapper: b.tryCatch(inner, fn.throwSite) };
    },
    arrow(fn) {
      if (fn.body.kind === "block") throw new Error("diagnose/transformer: unexpected arrow site code");
      const value = b.returnValue(b.id(PLACEHOLDER), fn.returnSite, site(fn.returnSite).locals, fn.body.anonymous);
      const inner = [b.entry(fn), b.s(ts.factory.createReturnStatement(value))];
      return b.s(ts.factory.createBlock([b.declaration(), b.tryCatch(inner, fn.throwSite)], false));
    },
    line(siteId) {
      const s = site(siteId);
      return b.line(siteId, s.locals, analysis.functions[s.fn]!.async);
    },
    returned(edit) {
      const locals = site(edit.site).locals;
      return edit.argument
        ? b.returnValue(b.id(PLACEHOLDER), edit.site, locals, edit.argument.anonymous)
        : b.returnVoid(edit.site, locals);
    },
    outlineGuard(fn) {
      return b.outlineGuard(outlineOf(fn));
    },
    outlineArrow(fn) {
      return b.outlineArrow(b.id(PLACEHOLDER), outlineOf(fn));
    },
    outlined(fn, body) {
      const outline = outlineOf(fn);
      return b.outlined(outline.name, outline.key, outline.params, body);
    },
    binder(copies) {
      return b.binder(
        copies.map((c) => c.name),
        copies.map((c) => c.statement),
      );
    },
  };
}

/** An outlined function's guard and copy data (what edit.ts passes to site-code.ts). */
function outlineOf(fn: AnalyzedFunction): OutlinedFunction {
  if (!fn.outline) throw new Error(`diagnose/transformer: ${fn.qualifiedName} is not outlined`);
  return fn.outline;
}

/**
 * headerCode(): ESM's `import "data:…";var $dgE, $dgL, $dgX, $dgT; globalThis[Symbol.for('…')]
 * .register({…}, function (e, l, x, t) { $dgE = e; … });` (with outlined functions `$dgB` in
 * place of the function expression) is built here (its data: URL from header.ts definerUrl, as
 * headerCode writes it; the table's values are the literals' texts), without building the header's
 * text; the other formats' header (an inline bootstrap object) is parsed.
 */
function moduleHeader(ts: TypeScript, analysis: Analysis, handle: string): TS.Statement[] {
  if (analysis.format !== "esm") return synthesizeModule(ts, headerCode(analysis.table, analysis.format, handle));
  const f = ts.factory;
  const s = singleLine(ts);
  const id = (name: string) => s(f.createIdentifier(name));
  const str = (text: string) => s(f.createStringLiteral(text));
  const num = (value: number) => s(f.createNumericLiteral(value));
  const access = (e: TS.Expression, name: string) => s(f.createPropertyAccessExpression(e, id(name)));
  // Percent-encoded (header.ts dataUrlBody): no quote or backslash, so the literal's text is the URL.
  const url = definerUrl(analysis.table);
  const table = analysis.table;
  const property = (name: string, value: TS.Expression) => s(f.createPropertyAssignment(id(name), value));
  const properties = [
    property("abi", num(table.abi)),
    property("h", str(table.h)),
    property("m", str(table.m)),
    property("p", str(table.p)),
    property("n", num(table.n)),
    property("f", str(table.f)),
    property("s", str(table.s)),
    property("v", str(table.v)),
  ];
  if (table.r !== undefined) properties.push(property("r", num(table.r)));
  if (table.o !== undefined) properties.push(property("o", num(table.o)));
  if (table.l !== undefined) properties.push(property("l", str(table.l)));
  // hookDeclarationCode() and binderCode()
  const declarations = HOOKS.map((h) =>
    s(f.createVariableDeclaration(id(hookName(handle, h)), undefined, undefined, undefined)),
  );
  const identity = s(
    f.createFunctionDeclaration(
      undefined,
      undefined,
      id(identityName(handle)),
      undefined,
      [s(f.createParameterDeclaration(undefined, undefined, id("v"), undefined, undefined, undefined))],
      undefined,
      s(f.createBlock([s(f.createReturnStatement(id("v")))], false)),
    ),
  );
  const assignments = HOOKS.map((h) =>
    s(
      f.createExpressionStatement(
        s(f.createBinaryExpression(id(hookName(handle, h)), s(f.createToken(ts.SyntaxKind.EqualsToken)), id(h))),
      ),
    ),
  );
  const parameters = HOOKS.map((h) =>
    s(f.createParameterDeclaration(undefined, undefined, id(h), undefined, undefined, undefined)),
  );
  // With outlined functions, the binder is the declaration at the module's end (SiteNodes.binder).
  const binder = table.o
    ? id(binderName(handle))
    : s(
        f.createFunctionExpression(
          undefined,
          undefined,
          undefined,
          undefined,
          parameters,
          undefined,
          s(f.createBlock(assignments, false)),
        ),
      );
  const slot = s(
    f.createElementAccessExpression(
      id("globalThis"),
      s(f.createCallExpression(access(id("Symbol"), "for"), undefined, [str(REGISTRY_KEY)])),
    ),
  );
  const register = s(
    f.createCallExpression(access(slot, "register"), undefined, [
      s(f.createObjectLiteralExpression(properties, false)),
      binder,
    ]),
  );
  return [
    s(f.createImportDeclaration(undefined, undefined, str(url), undefined)),
    s(f.createVariableStatement(undefined, s(f.createVariableDeclarationList(declarations, ts.NodeFlags.None)))),
    identity,
    // headerCode()'s `try { … } catch (e) {}` around the registration.
    s(
      f.createTryStatement(
        s(f.createBlock([s(f.createExpressionStatement(register))], false)),
        s(
          f.createCatchClause(
            s(f.createVariableDeclaration(id("e"), undefined, undefined, undefined)),
            s(f.createBlock([], false)),
          ),
        ),
        undefined,
      ),
    ),
  ];
}

/**
 * `EmitFlags.SingleLine` (as synthesize.ts sets on every parsed node of site code) on the nodes
 * whose flag TypeScript's printer reads: a block's statements (emitBlockStatements, a function's
 * body), the statement under an `if`, a loop, `with` or a label (emitEmbeddedStatement), and what
 * follows `}` in `if`/`else`, `do`/`while`, `try`/`catch`/`finally` (writeLineOrSpace). (And type
 * literals, which site code has none of.) On any other node the flag changes nothing printed but
 * costs an EmitNode object.
 */
function singleLine(ts: TypeScript): <T extends TS.Node>(node: T) => T {
  const K = ts.SyntaxKind;
  const read = new Set<TS.SyntaxKind>([
    K.Block,
    K.IfStatement,
    K.DoStatement,
    K.WhileStatement,
    K.ForStatement,
    K.ForInStatement,
    K.ForOfStatement,
    K.WithStatement,
    K.LabeledStatement,
    K.TryStatement,
  ]);
  return (node) => (read.has(node.kind) ? ts.setEmitFlags(node, ts.EmitFlags.SingleLine) : node);
}

/**
 * Node builders mirroring site-code.ts, node for node as the parser builds them: every node and
 * token synthesized, printed single-line (`singleLine`), parentheses where the code strings have
 * them.
 */
function siteBuilder(ts: TypeScript, hash: string, handle: string) {
  const f = ts.factory;
  const K = ts.SyntaxKind;
  const s = singleLine(ts);
  const id = (name: string) => s(f.createIdentifier(name));
  const num = (value: number) => s(f.createNumericLiteral(value));
  const voidZero = () => s(f.createVoidExpression(num(0)));
  const binary = (left: TS.Expression, operator: TS.BinaryOperator, right: TS.Expression) =>
    s(
      f.createBinaryExpression(
        left,
        s(f.createToken(operator as TS.SyntaxKind.CommaToken)) as TS.BinaryOperatorToken,
        right,
      ),
    );
  const assign = (left: TS.Expression, right: TS.Expression) => binary(left, K.EqualsToken, right);
  const paren = (e: TS.Expression) => s(f.createParenthesizedExpression(e));
  const access = (e: TS.Expression, name: string) => s(f.createPropertyAccessExpression(e, id(name)));
  const statement = (e: TS.Expression) => s(f.createExpressionStatement(e));
  const ifThen = (condition: TS.Expression, then: TS.Statement) => s(f.createIfStatement(condition, then, undefined));
  const flag = (siteId: number) => id(flagName(hash, siteId));
  /** `<hook binding>(siteId, …first, …names)`, e.g. `$dgE(0, this, a)` */
  const call = (hook: HookKey, siteId: number, first: TS.Expression[], names: readonly string[]) => {
    const args: TS.Expression[] = [num(siteId), ...first];
    for (const name of names) args.push(id(name));
    return s(f.createCallExpression(id(hookName(handle, hook)), undefined, args));
  };
  const argument = (text: string): TS.Expression => {
    if (text.startsWith("{")) {
      // `{a, b}`: a destructured parameter's bound names (walk/functions.ts describeParams).
      const names = text
        .slice(1, -1)
        .split(",")
        .map((n) => n.trim())
        .filter((n) => n !== "");
      return s(
        f.createObjectLiteralExpression(
          names.map((n) => s(f.createShorthandPropertyAssignment(id(n), undefined))),
          false,
        ),
      );
    }
    return id(text);
  };
  const thisOf = (text: string): TS.Expression => {
    if (text === "this") return s(f.createThis());
    if (text === "void 0") return voidZero();
    if (text === COPY_RECEIVER_PARAM) return id(text);
    throw new Error(`diagnose/transformer: unexpected this expression ${text}`);
  };
  const tryCatch = (inner: TS.Statement[], throwSite: number) => {
    // throwCode(): `throw g ? $dgT(id, $dgf, $dge) : $dge;`
    const rethrown = s(
      f.createConditionalExpression(
        flag(throwSite),
        s(f.createToken(K.QuestionToken)),
        call("t", throwSite, [id(FRAME_VAR), id(ERROR_VAR)], []),
        s(f.createToken(K.ColonToken)),
        id(ERROR_VAR),
      ),
    );
    const handler = s(f.createBlock([s(f.createThrowStatement(rethrown))], false));
    const clause = s(
      f.createCatchClause(s(f.createVariableDeclaration(id(ERROR_VAR), undefined, undefined, undefined)), handler),
    );
    return s(f.createTryStatement(s(f.createBlock(inner, false)), clause, undefined));
  };
  /** outlinedCall(): `$dgO3.call(this, a, ...r)`, `$dgO3(this, a, ...r)` or `$dgO3(a, ...r)` (`receiver`). */
  const outlinedCall = (input: OutlineGuardInput) => {
    const args = input.forward.map(
      (text): TS.Expression => (text.startsWith("...") ? s(f.createSpreadElement(id(text.slice(3)))) : id(text)),
    );
    if (input.receiver === "none") return s(f.createCallExpression(id(input.name), undefined, args));
    const callee = input.receiver === "call" ? access(id(input.name), "call") : id(input.name);
    return s(f.createCallExpression(callee, undefined, [s(f.createThis()), ...args]));
  };
  /** A parameter of an outlined copy: `a`, or `...a` for a rest parameter. */
  const parameter = (text: string) => {
    const rest = text.startsWith("...");
    return s(
      f.createParameterDeclaration(
        undefined,
        rest ? s(f.createToken(K.DotDotDotToken)) : undefined,
        id(rest ? text.slice(3) : text),
        undefined,
        undefined,
        undefined,
      ),
    );
  };
  return {
    s,
    id,
    statement,
    empty: () => s(f.createEmptyStatement()),
    tryCatch,
    /** `var $dgf, $dgr;` */
    declaration: () =>
      s(
        f.createVariableStatement(
          undefined,
          s(
            f.createVariableDeclarationList(
              [FRAME_VAR, RESULT_VAR].map((n) =>
                s(f.createVariableDeclaration(id(n), undefined, undefined, undefined)),
              ),
              ts.NodeFlags.None,
            ),
          ),
        ),
      ),
    /** entryCode() */
    entry(fn: AnalyzedFunction): TS.Statement {
      const g = flag(fn.entrySite);
      // `$dgf = handle.e(id, this, …args)`
      const entryCall = () =>
        assign(id(FRAME_VAR), call("e", fn.entrySite, [thisOf(fn.thisExpression), ...fn.args.map(argument)], []));
      let assignments: TS.Expression | undefined;
      fn.replaceable.forEach((name, i) => {
        if (name === null) return;
        const a = assign(id(name), s(f.createElementAccessExpression(access(id(FRAME_VAR), "a"), num(i))));
        assignments = assignments ? binary(assignments, K.CommaToken, a) : a;
      });
      const replaced = () => access(paren(entryCall()), "a");
      if (!fn.async) {
        if (!assignments) return ifThen(g, statement(entryCall()));
        return ifThen(binary(g, K.AmpersandAmpersandToken, replaced()), statement(assignments));
      }
      const replace = assignments ? ifThen(replaced(), statement(assignments)) : statement(entryCall());
      const wait = ifThen(
        binary(id(FRAME_VAR), K.AmpersandAmpersandToken, access(id(FRAME_VAR), "w")),
        statement(s(f.createAwaitExpression(access(id(FRAME_VAR), "w")))),
      );
      return ifThen(g, s(f.createBlock([replace, wait], false)));
    },
    /** lineCode() */
    line(siteId: number, locals: readonly string[], async: boolean): TS.Statement {
      const c = call("l", siteId, [id(FRAME_VAR)], locals);
      if (!async) return ifThen(flag(siteId), statement(c));
      return ifThen(
        binary(flag(siteId), K.AmpersandAmpersandToken, paren(assign(id(RESULT_VAR), c))),
        statement(s(f.createAwaitExpression(id(RESULT_VAR)))),
      );
    },
    /** endCode() */
    end(siteId: number, locals: readonly string[]): TS.Statement {
      return ifThen(flag(siteId), s(f.createReturnStatement(call("x", siteId, [id(FRAME_VAR), voidZero()], locals))));
    },
    /** returnOpenCode(…, false, anonymous) value returnCloseCode(…, false, anonymous) */
    returnValue(value: TS.Expression, siteId: number, locals: readonly string[], anonymous: boolean): TS.Expression {
      const assigned = assign(
        id(RESULT_VAR),
        anonymous ? s(f.createCallExpression(id(identityName(handle)), undefined, [value])) : value,
      );
      const result = s(
        f.createConditionalExpression(
          flag(siteId),
          s(f.createToken(K.QuestionToken)),
          call("x", siteId, [id(FRAME_VAR), id(RESULT_VAR)], locals),
          s(f.createToken(K.ColonToken)),
          id(RESULT_VAR),
        ),
      );
      return paren(binary(assigned, K.CommaToken, result));
    },
    /** returnVoidCode() */
    returnVoid(siteId: number, locals: readonly string[]): TS.Expression {
      return s(
        f.createConditionalExpression(
          flag(siteId),
          s(f.createToken(K.QuestionToken)),
          call("x", siteId, [id(FRAME_VAR), voidZero()], locals),
          s(f.createToken(K.ColonToken)),
          voidZero(),
        ),
      );
    },
    /** outlineGuardCode() */
    outlineGuard(input: OutlineGuardInput): TS.Statement {
      return ifThen(flag(input.flag), s(f.createReturnStatement(outlinedCall(input))));
    },
    /** outlineArrowOpenCode() value OUTLINE_ARROW_CLOSE */
    outlineArrow(value: TS.Expression, input: OutlineGuardInput): TS.Expression {
      return paren(
        s(
          f.createConditionalExpression(
            flag(input.flag),
            s(f.createToken(K.QuestionToken)),
            outlinedCall(input),
            s(f.createToken(K.ColonToken)),
            paren(value),
          ),
        ),
      );
    },
    /**
     * outlinedCopyOpenCode() body outlinedCopyCloseCode(): the copy's parameters are plain names (the
     * original evaluated the defaults).
     */
    outlined(name: string, key: string, params: readonly string[], body: TS.Block): TS.Statement {
      const method = s(
        f.createMethodDeclaration(
          undefined,
          undefined,
          s(f.createStringLiteral(key)),
          undefined,
          undefined,
          params.map(parameter),
          undefined,
          body,
        ),
      );
      const object = s(f.createObjectLiteralExpression([method], false));
      return statement(assign(id(name), s(f.createElementAccessExpression(object, s(f.createStringLiteral(key))))));
    },
    /** binderOpenCode() copies BINDER_CLOSE */
    binder(names: readonly string[], copies: readonly TS.Statement[]): TS.Statement[] {
      const declarations = names.map((n) => s(f.createVariableDeclaration(id(n), undefined, undefined, undefined)));
      const parameters = HOOKS.map((h) =>
        s(f.createParameterDeclaration(undefined, undefined, id(binderParam(h)), undefined, undefined, undefined)),
      );
      const assignments = HOOKS.map((h) => statement(assign(id(hookName(handle, h)), id(binderParam(h)))));
      return [
        s(f.createVariableStatement(undefined, s(f.createVariableDeclarationList(declarations, ts.NodeFlags.None)))),
        s(
          f.createFunctionDeclaration(
            undefined,
            undefined,
            id(binderName(handle)),
            undefined,
            parameters,
            undefined,
            // On lines of their own, like the SWC path's copies.
            f.createBlock([...assignments, ...copies], true),
          ),
        ),
      ];
    },
  };
}
