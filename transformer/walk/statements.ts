/**
 * Statements: line sites (the first statement of each line, where a statement may stand),
 * `return` sites, and the block scopes that decide which locals each site may read (blocks,
 * loops, `switch` cases, `catch` parameters). Namespaces name their functions; nothing at module
 * level is a site.
 */
import type {
  AnyNode,
  Block,
  ClassLike,
  Fn,
  IfStatement,
  LoopStatement,
  Node,
  Program,
  ReturnStatement,
  SwitchStatement,
  TryStatement,
  VariableDeclaration,
} from "../ast.js";
import { joinPath } from "../naming.js";
import { Binding, Scope, boundNames, declareLexical, localsAt, markInitialised } from "../scopes.js";
import { ExpressionWalker } from "./expressions.js";
import { isAnonymousDefinition, type WalkResult } from "./state.js";

const NOT_SITABLE = new Set([
  "BlockStatement",
  "EmptyStatement",
  "FunctionDeclaration",
  "TsInterfaceDeclaration",
  "TsTypeAliasDeclaration",
  "TsModuleDeclaration",
  "ImportDeclaration",
]);

export class StatementWalker extends ExpressionWalker {
  walk(program: Program): WalkResult {
    // Comments say "with" often; only a script's tree can hold the statement.
    this.mayHaveWith &&= program.type === "Script";
    for (const item of program.body) this.visitStatement(item, false, false);
    return this.result;
  }

  protected override visitStatements(stmts: readonly Node[], scope: Scope): void {
    for (const stmt of stmts) {
      this.visitStatement(stmt, false, true);
      markInitialised(stmt, scope);
    }
  }

  protected visitBlock(block: Block): void {
    const scope = new Scope();
    for (const stmt of block.stmts) declareLexical(stmt, scope);
    this.ctx?.scopes.push(scope);
    this.visitStatements(block.stmts, scope);
    this.ctx?.scopes.pop();
  }

  /** `single`: the statement is the body of an if/else/loop (braces are added if a site goes before it). */
  protected override visitStatement(node: Node, single: boolean, allowSite: boolean): void {
    const s = node as AnyNode;
    const wasIgnored = this.ignored;
    if (this.isIgnored(s)) this.ignored = true;
    if (allowSite && this.ctx && !this.ignored && isSitable(s)) this.lineSite(s, single);
    switch (s.type) {
      case "BlockStatement":
        this.visitBlock(s as unknown as Block);
        break;
      case "ExpressionStatement":
      case "ThrowStatement":
        this.visitExpr((s["expression"] ?? s["argument"]) as Node);
        break;
      case "VariableDeclaration":
      case "UsingDeclaration":
        this.visitDeclarators(s as unknown as VariableDeclaration);
        break;
      case "FunctionDeclaration": {
        const f = s as unknown as Fn & { identifier: AnyNode; declare: boolean };
        this.visitDecorators(f.decorators);
        this.visitFunction({
          node: f,
          kind: "function",
          segment: String(f.identifier["value"]),
          flags: 0,
          params: f.params,
          body: f.declare ? null : f.body,
          location: f.span.start,
          async: f.async,
          generator: f.generator,
        });
        break;
      }
      case "ClassDeclaration":
        if (!s["declare"]) this.visitClass(s as unknown as ClassLike, String((s["identifier"] as AnyNode)["value"]));
        break;
      case "ReturnStatement":
        this.returnSite(s as unknown as ReturnStatement);
        break;
      case "IfStatement": {
        const i = s as unknown as IfStatement;
        this.visitExpr(i.test);
        this.visitStatement(i.consequent, true, true);
        if (i.alternate) this.visitStatement(i.alternate, true, true);
        break;
      }
      case "ForStatement":
      case "ForInStatement":
      case "ForOfStatement":
      case "WhileStatement":
      case "DoWhileStatement":
        this.visitLoop(s as unknown as LoopStatement);
        break;
      case "LabeledStatement":
        // Never a site between a label and its statement: `continue label` needs the loop there.
        this.visitStatement(s["body"] as Node, false, false);
        break;
      case "SwitchStatement":
        this.visitSwitch(s as unknown as SwitchStatement);
        break;
      case "TryStatement":
        this.visitTry(s as unknown as TryStatement);
        break;
      case "WithStatement": {
        this.visitExpr(s["object"] as Node);
        const wasInside = this.insideWith;
        this.insideWith = true;
        this.ignored = true;
        this.visitStatement(s["body"] as Node, true, false);
        this.insideWith = wasInside;
        break;
      }
      case "ExportDeclaration":
        this.visitStatement(s["declaration"] as Node, false, false);
        break;
      case "ExportDefaultDeclaration":
        this.visitExpr(s["decl"] as Node, { segment: "default" });
        break;
      case "ExportDefaultExpression":
        this.visitExpr(s["expression"] as Node, { segment: "default" });
        break;
      case "TsModuleDeclaration":
      case "TsNamespaceDeclaration":
        this.visitNamespace(s);
        break;
      case "TsInterfaceDeclaration":
      case "TsTypeAliasDeclaration":
      case "ImportDeclaration":
      case "EmptyStatement":
      case "DebuggerStatement":
      case "BreakStatement":
      case "ContinueStatement":
        break;
      default:
        this.visitChildren(s);
    }
    this.ignored = wasIgnored;
  }

  protected visitDeclarators(declaration: VariableDeclaration): void {
    if (declaration.declare) return;
    for (const d of declaration.declarations ?? declaration.decls ?? []) {
      this.visitPattern(d.id);
      const id = d.id as AnyNode;
      this.visitExpr(d.init, id.type === "Identifier" ? { segment: String(id["value"]) } : undefined);
    }
  }

  protected visitLoop(loop: LoopStatement): void {
    // `for (let i …)`: the loop's bindings are initialised inside its body.
    const head = (loop.init ?? loop.left) as AnyNode | undefined;
    const scope = new Scope();
    if (head?.type === "VariableDeclaration" && head["kind"] !== "var") {
      for (const d of (head as unknown as VariableDeclaration).declarations ?? []) {
        for (const name of boundNames(d.id)) scope.set(name, Binding.Local);
      }
    }
    if (loop.type === "DoWhileStatement") {
      this.visitStatement(loop.body, true, true);
      this.visitExpr(loop.test);
      return;
    }
    if (head?.type === "VariableDeclaration") this.visitDeclarators(head as unknown as VariableDeclaration);
    else if (head) this.visitPattern(head);
    this.visitExpr(loop.right);
    this.visitExpr(loop.test);
    this.visitExpr(loop.update);
    this.ctx?.scopes.push(scope);
    this.visitStatement(loop.body, true, true);
    this.ctx?.scopes.pop();
  }

  protected visitSwitch(s: SwitchStatement): void {
    this.visitExpr(s.discriminant);
    const scope = new Scope();
    for (const c of s.cases) for (const stmt of c.consequent) declareLexical(stmt, scope);
    this.ctx?.scopes.push(scope);
    for (const c of s.cases) {
      // Each case may be entered directly: declarations of other cases are uninitialised.
      for (const [name, state] of scope.names) if (state === Binding.Local) scope.set(name, Binding.Uninitialised);
      this.visitExpr(c.test);
      this.visitStatements(c.consequent, scope);
    }
    this.ctx?.scopes.pop();
  }

  protected visitTry(t: TryStatement): void {
    this.visitBlock(t.block);
    if (t.handler) {
      const scope = new Scope();
      for (const name of boundNames(t.handler.param)) scope.set(name, Binding.Local);
      this.ctx?.scopes.push(scope);
      this.visitPattern(t.handler.param);
      this.visitBlock(t.handler.body);
      this.ctx?.scopes.pop();
    }
    if (t.finalizer) this.visitBlock(t.finalizer);
  }

  protected visitNamespace(s: AnyNode): void {
    if (s["declare"] || !s["body"]) return;
    const id = s["id"] as AnyNode;
    const saved = { prefix: this.prefix, ctx: this.ctx };
    this.prefix = joinPath(this.prefix, String(id["value"]));
    this.ctx = null;
    const body = s["body"] as AnyNode;
    if (body.type === "TsModuleBlock")
      for (const item of body["body"] as Node[]) this.visitStatement(item, false, false);
    else this.visitNamespace(body);
    this.prefix = saved.prefix;
    this.ctx = saved.ctx;
  }

  protected lineSite(s: AnyNode, single: boolean): void {
    const ctx = this.ctx!;
    const offset = this.pos.index(s.span.start);
    const { line } = this.pos.lineColumn(offset);
    if (ctx.sitedLines.has(line)) return;
    ctx.sitedLines.add(line);
    const site = this.site("line", ctx.fn, offset, localsAt(ctx.scopes, ctx.paramCount));
    this.result.lines.push({ site, offset, wrapEnd: single ? this.pos.index(s.span.end) : null });
  }

  protected returnSite(r: ReturnStatement): void {
    const ctx = this.ctx;
    if (ctx && !this.ignored) {
      const start = this.pos.index(r.span.start);
      const site = this.site("return", ctx.fn, start, localsAt(ctx.scopes, ctx.paramCount));
      const arg = r.argument;
      this.result.returns.push({
        site,
        start,
        keywordEnd: start + "return".length,
        argument: arg
          ? {
              start: this.pos.index(arg.span.start),
              end: this.pos.index(arg.span.end),
              sequence: arg.type === "SequenceExpression",
              anonymous: isAnonymousDefinition(arg),
            }
          : null,
      });
    }
    this.visitExpr(r.argument);
  }
}

function isSitable(s: AnyNode): boolean {
  if (NOT_SITABLE.has(s.type)) return false;
  return !s["declare"];
}
