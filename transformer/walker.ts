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
 */
import { FnFlags, type SiteKindName } from "../runtime/abi.js";
import {
  isNode,
  type AccessorProperty,
  type AnyNode,
  type ArrowFunctionExpression,
  type AssignmentExpression,
  type Block,
  type CallExpression,
  type ClassLike,
  type ClassMethod,
  type ClassProperty,
  type Constructor,
  type Fn,
  type IfStatement,
  type LoopStatement,
  type MethodProperty,
  type Node,
  type Program,
  type ReturnStatement,
  type SwitchStatement,
  type TryStatement,
  type VariableDeclaration,
} from "./ast.js";
import type { FunctionKind, InstrumentWarning } from "./model.js";
import { ANONYMOUS, PathRegistry, assignmentSegment, calleeName, joinPath, keySegment } from "./naming.js";
import type { Positions } from "./positions.js";
import { Binding, Scope, boundNames, collectVarScoped, declareLexical, localsAt, markInitialised } from "./scopes.js";

export interface RawSite {
  kind: SiteKindName;
  offset: number;
  seq: number;
  locals: string[];
  fn: RawFunction;
  id: number;
}

export interface RawFunction {
  path: string;
  kind: FunctionKind;
  flags: number;
  params: string[];
  args: string[];
  replaceable: (string | null)[];
  thisExpression: string;
  start: number;
  end: number;
  line: number;
  column: number;
  async: boolean;
  generator: boolean;
  body:
    | { kind: "block"; start: number; end: number; open: number; openNeedsSemicolon: boolean; close: number }
    | { kind: "expression"; start: number; end: number };
  entry: RawSite;
  end_: RawSite | null;
  throw_: RawSite;
  return_: RawSite | null;
  sites: RawSite[];
}

export interface RawReturn {
  site: RawSite;
  start: number;
  keywordEnd: number;
  argument: { start: number; end: number; sequence: boolean } | null;
}

export interface RawLine {
  site: RawSite;
  offset: number;
  wrapEnd: number | null;
}

export interface WalkResult {
  functions: RawFunction[];
  sites: RawSite[];
  returns: RawReturn[];
  lines: RawLine[];
  warnings: InstrumentWarning[];
}

/** The name (and flags) an anonymous function/class/object takes from where it stands. */
interface Hint {
  segment: string;
  flags?: number;
  /** Name under this prefix instead of the current one (`this.x = …` in a constructor). */
  prefix?: string;
}

interface FunctionSyntax {
  node: Node;
  kind: FunctionKind;
  segment: string;
  prefix?: string | undefined;
  flags: number;
  params: Node[];
  body: Node | null | undefined;
  /** Where the function's name or key starts (its reported line/column). */
  location: number;
  async: boolean;
  generator: boolean;
  /** Class constructors: the class path (for `this.x = …` naming). */
  classPath?: string;
}

/** The per-call state of the function whose statements are being walked. */
interface FunctionContext {
  fn: RawFunction;
  scopes: Scope[];
  sitedLines: Set<number>;
  /** Number of parameter names (they come first in the function scope). */
  paramCount: number;
}

const LOGICAL = new Set(["||", "&&", "??"]);
const TYPE_KEYS = new Set(["span", "type", "typeAnnotation", "typeParameters", "typeParams", "returnType", "superTypeParams", "typeArguments", "implements", "ctxt"]);
const NOT_SITABLE = new Set([
  "BlockStatement",
  "EmptyStatement",
  "FunctionDeclaration",
  "TsInterfaceDeclaration",
  "TsTypeAliasDeclaration",
  "TsModuleDeclaration",
  "ImportDeclaration",
]);

export class Walker {
  private readonly paths = new PathRegistry();
  private readonly result: WalkResult = { functions: [], sites: [], returns: [], lines: [], warnings: [] };
  private seq = 0;
  private prefix = "";
  private thisPrefix: string | undefined;
  private ctx: FunctionContext | null = null;
  private ignored = false;

  constructor(
    private readonly code: string,
    private readonly filename: string,
    private readonly modulePath: string,
    private readonly pos: Positions,
    /** UTF-16 offsets of nodes preceded by `// diagnose-ignore-next`. */
    private readonly ignoreStarts: ReadonlySet<number>,
  ) {}

  walk(program: Program): WalkResult {
    for (const item of program.body) this.visitStatement(item, false, false);
    return this.result;
  }

  // ---- functions ---------------------------------------------------------------------------

  private visitFunction(f: FunctionSyntax): void {
    const start = this.pos.index(f.node.span.start);
    const path = this.paths.unique(joinPath(f.prefix ?? this.prefix, f.segment));
    const arrow = f.kind === "arrow" || (f.kind === "field" && f.node.type === "ArrowFunctionExpression");
    const flags = f.flags | (f.async ? FnFlags.async : 0) | (f.generator ? FnFlags.generator : 0) | (arrow ? FnFlags.arrow : 0);
    const saved = { prefix: this.prefix, thisPrefix: this.thisPrefix, ctx: this.ctx, ignored: this.ignored };
    this.prefix = path;
    if (!arrow) this.thisPrefix = f.kind === "constructor" ? f.classPath : undefined;
    this.ctx = null;

    const body = f.body ?? null;
    let instrument = body !== null && !this.ignored;
    if (instrument && body && "stmts" in body) {
      const reason = this.unsafeReason(f.params, (body as Block).stmts);
      if (reason) {
        instrument = false;
        this.warn(reason.code, f.location, `${this.modulePath}:${path}`, reason.why);
      }
    }

    let ctx: FunctionContext | null = null;
    if (instrument && body) {
      const { line, column } = this.pos.lineColumn(this.pos.index(f.location));
      const params = describeParams(f.params);
      const fn: RawFunction = {
        path,
        kind: f.kind,
        flags,
        params: params.descriptors,
        args: params.args,
        replaceable: params.replaceable,
        thisExpression: arrow || flags & FnFlags.derivedConstructor ? "void 0" : "this",
        start,
        end: this.pos.index(f.node.span.end),
        line,
        column,
        async: f.async,
        generator: f.generator,
        body: { kind: "expression", start: 0, end: 0 },
        entry: undefined as unknown as RawSite,
        end_: null,
        throw_: undefined as unknown as RawSite,
        return_: null,
        sites: [],
      };
      this.result.functions.push(fn);
      const functionScope = new Scope();
      for (const name of params.names) functionScope.set(name, Binding.Local);
      if ("stmts" in body) {
        const vars: string[] = [];
        const nested: string[] = [];
        collectVarScoped((body as Block).stmts, vars, nested);
        for (const name of vars) functionScope.set(name, Binding.Local);
        for (const name of nested) functionScope.set(name, Binding.Hidden);
      }
      ctx = { fn, scopes: [functionScope], sitedLines: new Set(), paramCount: params.names.length };
    }

    for (const param of f.params) this.visitParam(param);

    if (body && "stmts" in body) {
      this.visitFunctionBody(body as Block, ctx);
    } else if (body) {
      if (ctx) {
        const bodyStart = this.pos.index(body.span.start);
        ctx.fn.body = { kind: "expression", start: bodyStart, end: this.pos.index(body.span.end) };
        ctx.fn.entry = this.site("entry", ctx.fn, bodyStart, []);
        ctx.fn.return_ = this.site("return", ctx.fn, bodyStart, localsAt(ctx.scopes, ctx.paramCount));
      }
      this.ctx = null;
      this.visitExpr(body);
      if (ctx) ctx.fn.throw_ = this.site("throw", ctx.fn, this.pos.index(body.span.end), localsAt(ctx.scopes.slice(0, 1), ctx.paramCount));
    }

    this.prefix = saved.prefix;
    this.thisPrefix = saved.thisPrefix;
    this.ctx = saved.ctx;
    this.ignored = saved.ignored;
  }

  private visitFunctionBody(body: Block, ctx: FunctionContext | null): void {
    const stmts = body.stmts;
    let firstStatement = 0;
    // The directive prologue ("use strict", …) must stay first: code goes after it.
    while (firstStatement < stmts.length && isDirective(stmts[firstStatement]!)) firstStatement++;
    if (ctx) {
      const start = this.pos.index(body.span.start);
      const end = this.pos.index(body.span.end);
      const lastDirective = firstStatement > 0 ? stmts[firstStatement - 1]! : null;
      const open = lastDirective ? this.pos.index(lastDirective.span.end) : start + 1;
      ctx.fn.body = {
        kind: "block",
        start,
        end,
        open,
        openNeedsSemicolon: lastDirective !== null && this.code[open - 1] !== ";",
        close: end - 1,
      };
      ctx.fn.entry = this.site("entry", ctx.fn, start, []);
    }
    const scope = new Scope();
    for (const stmt of stmts) declareLexical(stmt, scope);
    this.ctx = ctx;
    ctx?.scopes.push(scope);
    this.visitStatements(stmts.slice(firstStatement), scope);
    if (ctx) {
      const last = stmts[stmts.length - 1];
      const close = this.pos.index(body.span.end) - 1;
      // A body that always leaves by its last statement never falls off the end.
      if (!last || (last.type !== "ReturnStatement" && last.type !== "ThrowStatement")) {
        ctx.fn.end_ = this.site("end", ctx.fn, close, localsAt(ctx.scopes, ctx.paramCount));
      }
      ctx.scopes.pop();
      ctx.fn.throw_ = this.site("throw", ctx.fn, close, localsAt(ctx.scopes, ctx.paramCount));
    }
  }

  /**
   * The body goes into a `try` block, where function declarations become block-scoped: a
   * declaration sharing its name with a parameter, a `var`, or another declaration would change
   * meaning or stop parsing. Such functions stay uninstrumented.
   */
  private unsafeReason(params: Node[], stmts: Node[]): { code: string; why: string } | undefined {
    const declared = new Set<string>();
    const paramNames = new Set<string>();
    for (const p of params) for (const name of boundNames(p)) paramNames.add(name);
    let vars: Set<string> | undefined;
    for (const stmt of stmts) {
      if (stmt.type !== "FunctionDeclaration") continue;
      const name = String(((stmt as AnyNode)["identifier"] as AnyNode)["value"]);
      if (!(stmt as AnyNode)["body"]) continue;
      if (!vars) {
        const list: string[] = [];
        collectVarScoped(stmts, list, []);
        vars = new Set(list);
      }
      const clash = declared.has(name)
        ? "is declared twice"
        : paramNames.has(name)
          ? "has the name of a parameter"
          : vars.has(name) || name === "arguments"
            ? `has the name of a \`var\``
            : undefined;
      if (clash) {
        return {
          code: "function-declaration-collision",
          why: `the nested function declaration \`${name}\` ${clash}; wrapping the body in try/catch would make it block-scoped and change its meaning`,
        };
      }
      declared.add(name);
    }
    return undefined;
  }

  private visitParam(param: Node): void {
    const p = param as AnyNode;
    this.visitDecorators(p["decorators"]);
    if (p.type === "Parameter") this.visitPattern(p["pat"] as Node);
    else if (p.type === "TsParameterProperty") this.visitPattern(p["param"] as Node);
    else this.visitPattern(p);
  }

  private visitPattern(pattern: Node | null | undefined): void {
    if (!pattern) return;
    const p = pattern as AnyNode;
    switch (p.type) {
      case "Identifier":
        return;
      case "AssignmentPattern": {
        this.visitPattern(p["left"] as Node);
        const left = p["left"] as AnyNode;
        this.visitExpr(p["right"] as Node, left.type === "Identifier" ? { segment: String(left["value"]) } : undefined);
        return;
      }
      case "AssignmentPatternProperty":
        this.visitExpr(p["value"] as Node | null, { segment: String((p["key"] as AnyNode)["value"]) });
        return;
      case "KeyValuePatternProperty":
        this.visitExpr(p["key"] as Node);
        this.visitPattern(p["value"] as Node);
        return;
      case "ObjectPattern":
        for (const property of p["properties"] as Node[]) this.visitPattern(property);
        return;
      case "ArrayPattern":
        for (const element of p["elements"] as (Node | null)[]) this.visitPattern(element);
        return;
      case "RestElement":
        this.visitPattern(p["argument"] as Node);
        return;
      case "Computed":
        this.visitExpr(p["expression"] as Node);
        return;
      default:
        // Assignment targets such as `a.b` in `[a.b] = …`.
        this.visitExpr(p);
    }
  }

  // ---- statements --------------------------------------------------------------------------

  private visitStatements(stmts: readonly Node[], scope: Scope): void {
    for (const stmt of stmts) {
      this.visitStatement(stmt, false, true);
      markInitialised(stmt, scope);
    }
  }

  private visitBlock(block: Block): void {
    const scope = new Scope();
    for (const stmt of block.stmts) declareLexical(stmt, scope);
    this.ctx?.scopes.push(scope);
    this.visitStatements(block.stmts, scope);
    this.ctx?.scopes.pop();
  }

  /** `single`: the statement is the body of an if/else/loop (braces are added if a site goes before it). */
  private visitStatement(node: Node, single: boolean, allowSite: boolean): void {
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
      case "WithStatement":
        this.visitExpr(s["object"] as Node);
        this.visitStatement(s["body"] as Node, true, true);
        break;
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

  private visitDeclarators(declaration: VariableDeclaration): void {
    if (declaration.declare) return;
    for (const d of declaration.declarations ?? declaration.decls ?? []) {
      this.visitPattern(d.id);
      const id = d.id as AnyNode;
      this.visitExpr(d.init, id.type === "Identifier" ? { segment: String(id["value"]) } : undefined);
    }
  }

  private visitLoop(loop: LoopStatement): void {
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

  private visitSwitch(s: SwitchStatement): void {
    this.visitExpr(s.discriminant);
    const scope = new Scope();
    for (const c of s.cases) for (const stmt of c.consequent) declareLexical(stmt, scope);
    this.ctx?.scopes.push(scope);
    for (const c of s.cases) {
      // Each case may be entered directly: declarations of other cases are uninitialised.
      for (const [name, state] of scope.names) if (state === Binding.Local) scope.names.set(name, Binding.Uninitialised);
      this.visitExpr(c.test);
      this.visitStatements(c.consequent, scope);
    }
    this.ctx?.scopes.pop();
  }

  private visitTry(t: TryStatement): void {
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

  private visitNamespace(s: AnyNode): void {
    if (s["declare"] || !s["body"]) return;
    const id = s["id"] as AnyNode;
    const saved = { prefix: this.prefix, ctx: this.ctx };
    this.prefix = joinPath(this.prefix, String(id["value"]));
    this.ctx = null;
    const body = s["body"] as AnyNode;
    if (body.type === "TsModuleBlock") for (const item of body["body"] as Node[]) this.visitStatement(item, false, false);
    else this.visitNamespace(body);
    this.prefix = saved.prefix;
    this.ctx = saved.ctx;
  }

  private lineSite(s: AnyNode, single: boolean): void {
    const ctx = this.ctx!;
    const offset = this.pos.index(s.span.start);
    const { line } = this.pos.lineColumn(offset);
    if (ctx.sitedLines.has(line)) return;
    ctx.sitedLines.add(line);
    const site = this.site("line", ctx.fn, offset, localsAt(ctx.scopes, ctx.paramCount));
    this.result.lines.push({ site, offset, wrapEnd: single ? this.pos.index(s.span.end) : null });
  }

  private returnSite(r: ReturnStatement): void {
    const ctx = this.ctx;
    if (ctx && !this.ignored) {
      const start = this.pos.index(r.span.start);
      const site = this.site("return", ctx.fn, start, localsAt(ctx.scopes, ctx.paramCount));
      const arg = r.argument;
      this.result.returns.push({
        site,
        start,
        keywordEnd: start + "return".length,
        argument: arg ? { start: this.pos.index(arg.span.start), end: this.pos.index(arg.span.end), sequence: arg.type === "SequenceExpression" } : null,
      });
    }
    this.visitExpr(r.argument);
  }

  // ---- classes and objects -----------------------------------------------------------------

  private visitClass(c: ClassLike, segment: string): void {
    this.visitDecorators(c.decorators);
    this.visitExpr(c.superClass);
    const classPath = joinPath(this.prefix, segment);
    const saved = { prefix: this.prefix, thisPrefix: this.thisPrefix, ctx: this.ctx, ignored: this.ignored };
    this.prefix = classPath;
    this.ctx = null;
    const derived = Boolean(c.superClass);
    for (const member of c.body) {
      const m = member as AnyNode;
      this.ignored = saved.ignored || this.isIgnored(m);
      this.thisPrefix = classPath;
      switch (m.type) {
        case "Constructor": {
          const ctor = m as unknown as Constructor;
          this.visitFunction({
            node: ctor,
            kind: "constructor",
            segment: "constructor",
            flags: FnFlags.constructor | (derived ? FnFlags.derivedConstructor : 0),
            params: ctor.params,
            body: ctor.body,
            location: ctor.key.span.start,
            async: false,
            generator: false,
            classPath,
          });
          break;
        }
        case "ClassMethod":
        case "PrivateMethod": {
          const method = m as unknown as ClassMethod;
          this.visitDecorators(method.function.decorators);
          this.visitKey(method.key);
          const accessor = method.kind === "getter" ? "@get" : method.kind === "setter" ? "@set" : "";
          this.visitFunction({
            node: method,
            kind: method.kind === "getter" ? "getter" : method.kind === "setter" ? "setter" : "method",
            segment: keySegment(method.key) + accessor,
            flags:
              (method.kind === "getter" ? FnFlags.getter : method.kind === "setter" ? FnFlags.setter : FnFlags.method) |
              (method.isStatic ? FnFlags.static : 0),
            params: method.function.params,
            body: method.function.body,
            location: method.key.span.start,
            async: method.function.async,
            generator: method.function.generator,
          });
          break;
        }
        case "ClassProperty":
        case "PrivateProperty":
        case "AutoAccessor": {
          const property = m as unknown as ClassProperty;
          this.visitDecorators(property.decorators);
          this.visitKey(property.key);
          if (property.declare) break;
          this.visitExpr(property.value, {
            segment: keySegment(property.key),
            flags: FnFlags.classField | (property.isStatic ? FnFlags.static : 0),
          });
          break;
        }
        case "StaticBlock":
          // Not a function: no sites of its own; functions inside are named under the class.
          this.visitStatement(m["body"] as Node, false, false);
          break;
        case "TsIndexSignature":
        case "EmptyStatement":
          break;
        default:
          this.visitChildren(m);
      }
    }
    this.prefix = saved.prefix;
    this.thisPrefix = saved.thisPrefix;
    this.ctx = saved.ctx;
    this.ignored = saved.ignored;
  }

  private visitObject(o: AnyNode, segment: string | undefined): void {
    const savedPrefix = this.prefix;
    const savedIgnored = this.ignored;
    if (segment) this.prefix = joinPath(this.prefix, segment);
    for (const property of o["properties"] as AnyNode[]) {
      const key = property["key"] as Node | undefined;
      this.ignored = savedIgnored || this.isIgnored(property.span ? property : key);
      switch (property.type) {
        case "MethodProperty": {
          const method = property as unknown as MethodProperty;
          this.visitKey(method.key);
          this.visitFunction({
            node: method,
            kind: "method",
            segment: keySegment(method.key),
            flags: FnFlags.method,
            params: method.params,
            body: method.body,
            location: method.key.span.start,
            async: method.async,
            generator: method.generator,
          });
          break;
        }
        case "GetterProperty":
        case "SetterProperty": {
          const accessor = property as unknown as AccessorProperty;
          const getter = accessor.type === "GetterProperty";
          this.visitKey(accessor.key);
          this.visitFunction({
            node: accessor,
            kind: getter ? "getter" : "setter",
            segment: keySegment(accessor.key) + (getter ? "@get" : "@set"),
            flags: getter ? FnFlags.getter : FnFlags.setter,
            params: accessor.function?.params ?? (property["param"] ? [property["param"] as Node] : []),
            body: accessor.function?.body ?? (property["body"] as Block | undefined),
            location: accessor.key.span.start,
            async: false,
            generator: false,
          });
          break;
        }
        case "KeyValueProperty":
          this.visitKey(key!);
          this.visitExpr(property["value"] as Node, { segment: keySegment(key!) });
          break;
        default:
          this.visitChildren(property);
      }
    }
    this.prefix = savedPrefix;
    this.ignored = savedIgnored;
  }

  private visitKey(key: Node): void {
    if (key.type === "Computed") this.visitExpr((key as AnyNode)["expression"] as Node);
  }

  private visitDecorators(decorators: unknown): void {
    if (!Array.isArray(decorators)) return;
    for (const d of decorators as AnyNode[]) this.visitExpr(d["expression"] as Node);
  }

  // ---- expressions -------------------------------------------------------------------------

  private visitExpr(node: Node | null | undefined, hint?: Hint): void {
    if (!node) return;
    const e = node as AnyNode;
    const wasIgnored = this.ignored;
    if (this.isIgnored(e)) this.ignored = true;
    switch (e.type) {
      case "ParenthesisExpression":
      case "TsAsExpression":
      case "TsSatisfiesExpression":
      case "TsNonNullExpression":
      case "TsTypeAssertion":
      case "TsConstAssertion":
      case "TsInstantiation":
        this.visitExpr(e["expression"] as Node, hint);
        break;
      case "FunctionExpression": {
        const f = e as unknown as Fn & { identifier?: AnyNode | null };
        this.visitDecorators(f.decorators);
        this.visitFunction({
          node: f,
          kind: hint?.flags && hint.flags & FnFlags.classField ? "field" : "function",
          segment: f.identifier ? String(f.identifier["value"]) : hint?.segment ?? ANONYMOUS,
          prefix: hint?.prefix,
          flags: hint?.flags ?? 0,
          params: f.params,
          body: f.body,
          location: f.span.start,
          async: f.async,
          generator: f.generator,
        });
        break;
      }
      case "ArrowFunctionExpression": {
        const a = e as unknown as ArrowFunctionExpression;
        this.visitFunction({
          node: a,
          kind: hint?.flags && hint.flags & FnFlags.classField ? "field" : "arrow",
          segment: hint?.segment ?? ANONYMOUS,
          prefix: hint?.prefix,
          flags: hint?.flags ?? 0,
          params: a.params,
          body: a.body,
          location: a.span.start,
          async: a.async,
          generator: false,
        });
        break;
      }
      case "ClassExpression": {
        const c = e as unknown as ClassLike;
        const saved = this.prefix;
        if (hint?.prefix !== undefined) this.prefix = hint.prefix;
        this.visitClass(c, c.identifier ? String(c.identifier["value"]) : hint?.segment ?? ANONYMOUS);
        this.prefix = saved;
        break;
      }
      case "ObjectExpression":
        this.visitObject(e, hint?.segment);
        break;
      case "CallExpression":
      case "NewExpression": {
        const call = e as unknown as CallExpression;
        this.visitExpr(call.callee);
        const name = calleeName(call.callee);
        for (const arg of call.arguments ?? []) this.visitExpr(arg.expression, name ? { segment: `${name}()` } : undefined);
        break;
      }
      case "AssignmentExpression": {
        const a = e as unknown as AssignmentExpression;
        this.visitPattern(a.left);
        const target = assignmentSegment(a.left);
        const prefix = target?.onThis && this.thisPrefix !== undefined ? this.thisPrefix : undefined;
        this.visitExpr(a.right, target ? (prefix !== undefined ? { segment: target.segment, prefix } : { segment: target.segment }) : undefined);
        break;
      }
      case "ConditionalExpression":
        this.visitExpr(e["test"] as Node);
        this.visitExpr(e["consequent"] as Node, hint);
        this.visitExpr(e["alternate"] as Node, hint);
        break;
      case "BinaryExpression":
        if (LOGICAL.has(String(e["operator"]))) {
          this.visitExpr(e["left"] as Node, hint);
          this.visitExpr(e["right"] as Node, hint);
        } else {
          this.visitChildren(e);
        }
        break;
      case "JSXAttribute": {
        const name = e["name"] as AnyNode;
        const value = e["value"] as AnyNode | null;
        if (value?.type === "JSXExpressionContainer" && name.type === "Identifier") {
          this.visitExpr(value["expression"] as Node, { segment: String(name["value"]) });
        } else if (value) {
          this.visitExpr(value);
        }
        break;
      }
      default:
        this.visitChildren(e);
    }
    this.ignored = wasIgnored;
  }

  /** Visits every child node in field order (SWC emits fields in source order). */
  private visitChildren(node: AnyNode | Record<string, unknown>): void {
    for (const key in node) {
      if (TYPE_KEYS.has(key)) continue;
      const value = (node as Record<string, unknown>)[key];
      if (typeof value !== "object" || value === null) continue;
      if (Array.isArray(value)) {
        for (const item of value) this.visitChild(item);
      } else {
        this.visitChild(value);
      }
    }
  }

  private visitChild(value: unknown): void {
    if (isNode(value)) {
      if (value.type === "BlockStatement") this.visitStatement(value, false, false);
      else this.visitExpr(value);
    } else if (typeof value === "object" && value !== null) {
      this.visitChildren(value as Record<string, unknown>);
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  private isIgnored(node: Node | AnyNode | undefined): boolean {
    if (this.ignoreStarts.size === 0 || !node?.span) return false;
    return this.ignoreStarts.has(this.pos.index(node.span.start));
  }

  private site(kind: SiteKindName, fn: RawFunction, offset: number, locals: string[]): RawSite {
    const site: RawSite = { kind, offset, seq: this.seq++, locals, fn, id: -1 };
    fn.sites.push(site);
    this.result.sites.push(site);
    return site;
  }

  private warn(code: string, swcPos: number, qualifiedName: string, why: string): void {
    const { line, column } = this.pos.lineColumn(this.pos.index(swcPos));
    this.result.warnings.push({
      code,
      message: `${this.filename}:${line}:${column + 1}: ${qualifiedName} left uninstrumented: ${why}`,
      line,
      column,
      function: qualifiedName,
    });
  }
}

function isDirective(stmt: Node): boolean {
  return stmt.type === "ExpressionStatement" && (stmt as AnyNode)["expression"] !== undefined && ((stmt as AnyNode)["expression"] as AnyNode).type === "StringLiteral";
}

function isSitable(s: AnyNode): boolean {
  if (NOT_SITABLE.has(s.type)) return false;
  return !s["declare"];
}

/** Parameter descriptors, entry argument expressions and which parameters can be replaced. */
function describeParams(params: readonly Node[]): { descriptors: string[]; args: string[]; replaceable: (string | null)[]; names: string[] } {
  const descriptors: string[] = [];
  const args: string[] = [];
  const replaceable: (string | null)[] = [];
  const names: string[] = [];
  for (const param of params) {
    let p = param as AnyNode;
    if (p.type === "Parameter") p = p["pat"] as AnyNode;
    else if (p.type === "TsParameterProperty") p = p["param"] as AnyNode;
    const bound = boundNames(p);
    names.push(...bound);
    const inner = p.type === "AssignmentPattern" ? (p["left"] as AnyNode) : p.type === "RestElement" ? (p["argument"] as AnyNode) : p;
    if (inner.type === "Identifier") {
      const name = String(inner["value"]);
      descriptors.push(p.type === "AssignmentPattern" ? `${name}=` : p.type === "RestElement" ? `...${name}` : name);
      args.push(name);
      replaceable.push(name);
    } else {
      const open = inner.type === "ArrayPattern" ? "[" : "{";
      const close = open === "[" ? "]" : "}";
      descriptors.push(`${p.type === "RestElement" ? "..." : ""}${open}${bound.join(",")}${close}`);
      args.push(`{${bound.join(", ")}}`);
      replaceable.push(null);
    }
  }
  return { descriptors, args, replaceable, names };
}

/** Offsets of nodes preceded by a `diagnose-ignore-next` comment (the next token after it). */
export function ignoreNextStarts(code: string, nextToken: (from: number) => number): Set<number> {
  const starts = new Set<number>();
  if (!code.includes("diagnose-ignore-next")) return starts;
  const re = /\/\/[ \t]*diagnose-ignore-next\b[^\n\r]*|\/\*\s*diagnose-ignore-next\b[\s\S]*?\*\//g;
  for (let m = re.exec(code); m; m = re.exec(code)) starts.add(nextToken(m.index + m[0].length));
  return starts;
}

