/**
 * Functions: where a function's sites go (entry, end, throw; an arrow's expression body gets one
 * return site), the scope its statements start with (parameters and `var`s), its parameter
 * descriptors, and whether wrapping its body in try/catch is safe at all.
 */
import { FnFlags } from "../../abi/index.js";
import { forEachChild, type AnyNode, type Block, type Node } from "../ast.js";
import { joinPath } from "../naming.js";
import { outlineParams } from "../outline.js";
import { functionTypes } from "../typed.js";
import { Binding, Scope, boundNames, collectVarScoped, declareLexical, localsAt } from "../scopes.js";
import {
  WalkerBase,
  isAnonymousDefinition,
  type FunctionContext,
  type FunctionSyntax,
  type RawFunction,
  type RawSite,
} from "./state.js";

/** Node types that start a function of their own: a `with` inside one is that function's. */
const FUNCTION_TYPES = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
  "ClassMethod",
  "PrivateMethod",
  "Constructor",
  "MethodProperty",
  "GetterProperty",
  "SetterProperty",
  "ClassProperty",
  "PrivateProperty",
  "StaticBlock",
]);

/** The function's own statements (not those of nested functions) contain a `with` statement. */
function containsWith(body: Block): boolean {
  // Iterative: the depth of a body is the user's, not bounded by our stack.
  const stack: AnyNode[] = [body as unknown as AnyNode];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.type === "WithStatement") return true;
    forEachChild(node, (child) => {
      if (!FUNCTION_TYPES.has(child.type)) stack.push(child);
    });
  }
  return false;
}

export abstract class FunctionWalker extends WalkerBase {
  protected visitFunction(f: FunctionSyntax): void {
    const start = this.pos.index(f.node.span.start);
    const path = this.paths.unique(joinPath(f.prefix ?? this.prefix, f.segment));
    const arrow = f.kind === "arrow" || (f.kind === "field" && f.node.type === "ArrowFunctionExpression");
    const flags =
      f.flags | (f.async ? FnFlags.async : 0) | (f.generator ? FnFlags.generator : 0) | (arrow ? FnFlags.arrow : 0);
    const saved = { prefix: this.prefix, thisPrefix: this.thisPrefix, ctx: this.ctx, ignored: this.ignored };
    this.prefix = path;
    if (!arrow) this.thisPrefix = f.kind === "constructor" ? f.classPath : undefined;
    this.ctx = null;

    const body = f.body ?? null;
    let instrument = body !== null && !this.ignored;
    if (body !== null && (this.insideWith || (this.mayHaveWith && "stmts" in body && containsWith(body as Block)))) {
      instrument = false;
      const why = this.insideWith ? "it is defined inside a `with` statement" : "its body has a `with` statement";
      this.warn(
        "with-statement",
        f.location,
        `${this.modulePath}:${path}`,
        `${why}, whose object could see and change the site code's names`,
      );
    }
    // The function-level names of a block body, collected once (both checks below need them).
    let scoped: { vars: string[]; nested: string[] } | undefined;
    const varScoped = (stmts: Node[]) => {
      if (scoped === undefined) {
        scoped = { vars: [], nested: [] };
        collectVarScoped(stmts, scoped.vars, scoped.nested);
      }
      return scoped;
    };
    if (instrument && body && "stmts" in body) {
      const reason = this.unsafeReason(f.params, (body as Block).stmts, () => varScoped((body as Block).stmts).vars);
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
        body: { kind: "expression", start: 0, end: 0, anonymous: false },
        entry: undefined as unknown as RawSite,
        end_: null,
        throw_: undefined as unknown as RawSite,
        return_: null,
        entryLine: null,
        sites: [],
        outline: null,
        types: null,
      };
      if (this.moduleScoped.has(f.node)) {
        const own =
          f.node.type === "FunctionExpression"
            ? ((f.node as AnyNode)["identifier"] as AnyNode | null | undefined)
            : undefined;
        fn.outline =
          outlineParams(
            {
              node: f.node,
              kind: f.kind,
              params: f.params,
              body,
              async: f.async,
              generator: f.generator,
              arrow,
              ownName: own ? String(own["value"]) : undefined,
            },
            this.moduleScoped,
            this.pos.index(body.span.end) - this.pos.index(body.span.start),
            this.typed,
            this.deferred,
          ) ?? null;
      }
      if (this.typed) {
        const text = (n: AnyNode) => this.code.slice(this.pos.index(n.span.start), this.pos.index(n.span.end));
        const options = {
          async: f.async,
          generator: f.generator,
          arrow,
          outlined: fn.outline !== null,
          isStatic: (flags & FnFlags.static) !== 0,
          classTypeParams: this.classTypeParams,
          owner: this.classOwner,
        };
        fn.types = functionTypes(f.node as AnyNode, f.params, options, text, this.code, (p) => this.pos.index(p));
        if (!fn.types.typable) {
          fn.outline = null;
          fn.types = functionTypes(f.node as AnyNode, f.params, { ...options, outlined: false }, text, this.code, (p) =>
            this.pos.index(p),
          );
        }
      }
      this.result.functions.push(fn);
      const functionScope = new Scope();
      for (const name of params.names) functionScope.set(name, Binding.Local);
      if ("stmts" in body) {
        const { vars, nested } = varScoped((body as Block).stmts);
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
        ctx.fn.body = {
          kind: "expression",
          start: bodyStart,
          end: this.pos.index(body.span.end),
          anonymous: isAnonymousDefinition(body),
        };
        ctx.fn.entry = this.site("entry", ctx.fn, bodyStart, []);
        ctx.fn.return_ = this.site("return", ctx.fn, bodyStart, localsAt(ctx.scopes, ctx.paramCount));
      }
      this.ctx = null;
      this.visitExpr(body);
      // The throw site passes no locals (site-code.ts throwCode): its name list is empty.
      if (ctx) ctx.fn.throw_ = this.site("throw", ctx.fn, this.pos.index(body.span.end), []);
    }

    this.prefix = saved.prefix;
    this.thisPrefix = saved.thisPrefix;
    this.ctx = saved.ctx;
    this.ignored = saved.ignored;
  }

  protected visitFunctionBody(body: Block, ctx: FunctionContext | null): void {
    const stmts = body.stmts;
    let firstStatement = 0;
    // The directive prologue ("use strict", …) must stay first: code goes after it.
    while (firstStatement < stmts.length && isDirective(stmts[firstStatement]!)) firstStatement++;
    // A derived constructor's leading `super(…)` stays before the site code too: TurboFan never
    // inlines a `super()` call made inside a `try`, so in place it made every parent constructor
    // an out-of-line call (rxjs's subscribers: 1.099× → 1.054× plain in instructions with it
    // outside, benchmarks/rxjs-offstate-notes.md). The entry event then comes after the parent
    // constructor has run, and a `super()` that throws makes no event (docs/site-abi.md).
    const superFirst =
      ctx !== null &&
      (ctx.fn.flags & FnFlags.derivedConstructor) !== 0 &&
      firstStatement < stmts.length &&
      isSuperCallStatement(stmts[firstStatement]!);
    if (superFirst) {
      firstStatement++;
      // The entry code runs after `super(…)`: `this` exists there.
      ctx.fn.thisExpression = "this";
    }
    if (ctx) {
      const start = this.pos.index(body.span.start);
      const end = this.pos.index(body.span.end);
      // The site code opens after the prologue (directives, a derived constructor's `super(…)`).
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
    // Its arguments may define functions: visited, but the statement gets no line site.
    if (superFirst) this.visitStatement(stmts[firstStatement - 1]!, false, false);
    this.visitStatements(stmts.slice(firstStatement), scope);
    if (ctx) {
      // The entry code goes right before the first statement after the directive prologue: when
      // that statement has a line site, nothing runs between the two, and the entry hook serves it.
      const first = stmts[firstStatement];
      if (first) {
        const offset = this.pos.index(first.span.start);
        ctx.fn.entryLine = ctx.fn.sites.find((s) => s.kind === "line" && s.offset === offset) ?? null;
      }
      const last = stmts[stmts.length - 1];
      const close = this.pos.index(body.span.end) - 1;
      // A body that always leaves by its last statement never falls off the end.
      if (!last || (last.type !== "ReturnStatement" && last.type !== "ThrowStatement")) {
        ctx.fn.end_ = this.site("end", ctx.fn, close, localsAt(ctx.scopes, ctx.paramCount));
      }
      ctx.scopes.pop();
      ctx.fn.throw_ = this.site("throw", ctx.fn, close, []);
    }
  }

  /**
   * The body goes into a `try` block, where function declarations become block-scoped: a
   * declaration sharing its name with a parameter, a `var`, or another declaration would change
   * meaning or stop parsing. Such functions stay uninstrumented.
   */
  protected unsafeReason(
    params: Node[],
    stmts: Node[],
    varNames: () => readonly string[],
  ): { code: string; why: string } | undefined {
    const declared = new Set<string>();
    const paramNames = new Set<string>();
    for (const p of params) for (const name of boundNames(p)) paramNames.add(name);
    let vars: Set<string> | undefined;
    for (const stmt of stmts) {
      if (stmt.type !== "FunctionDeclaration") continue;
      const name = String(((stmt as AnyNode)["identifier"] as AnyNode)["value"]);
      if (!(stmt as AnyNode)["body"]) continue;
      vars ??= new Set(varNames());
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

  protected visitParam(param: Node): void {
    const p = param as AnyNode;
    this.visitDecorators(p["decorators"]);
    if (p.type === "Parameter") this.visitPattern(p["pat"] as Node);
    else if (p.type === "TsParameterProperty") this.visitPattern(p["param"] as Node);
    else this.visitPattern(p);
  }

  protected visitPattern(pattern: Node | null | undefined): void {
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
}

/** `super(…);` as a statement of its own. */
function isSuperCallStatement(stmt: Node): boolean {
  if (stmt.type !== "ExpressionStatement") return false;
  const call = (stmt as AnyNode)["expression"] as AnyNode | undefined;
  return call?.type === "CallExpression" && (call["callee"] as AnyNode | undefined)?.type === "Super";
}

function isDirective(stmt: Node): boolean {
  return (
    stmt.type === "ExpressionStatement" &&
    (stmt as AnyNode)["expression"] !== undefined &&
    ((stmt as AnyNode)["expression"] as AnyNode).type === "StringLiteral"
  );
}

/** Parameter descriptors, entry argument expressions and which parameters can be replaced. */
function describeParams(params: readonly Node[]): {
  descriptors: string[];
  args: string[];
  replaceable: (string | null)[];
  names: string[];
} {
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
    const inner =
      p.type === "AssignmentPattern"
        ? (p["left"] as AnyNode)
        : p.type === "RestElement"
          ? (p["argument"] as AnyNode)
          : p;
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
