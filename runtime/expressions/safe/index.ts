/**
 * Safe expressions: the language of `value`, `custom.tags` and `custom.condition` in specs that
 * arrive from a store (text written by someone else). Reads of the event's names and the
 * manager's global namespace, literals, operators and a fixed list of pure helpers — and nothing
 * that runs code of the program: no method calls, no getters, no Proxy traps, no assignment, no
 * `new`, no way to `constructor`, `__proto__`, `process` or `globalThis`. See docs/expressions.md.
 *
 * The text is parsed and checked when the SafeExpression is constructed (a refusal is reported
 * there, at apply time). For each site layout it meets, it is compiled once into one function;
 * where the realm refuses code generation from strings, it is prepared for the interpreter instead
 * (same values, same errors; slower).
 */
import { types } from "node:util";
import { ExpressionEvaluationError, ExpressionSyntaxError, UnsafeExpressionError } from "../../probes/errors.js";
import type { CompiledExpression, NamespaceSource } from "../expression.js";
import { codeGenerationAllowed } from "../code-generation.js";
import { LAYOUT, type EventNamespace, type Layout } from "../namespace.js";
import { compileFor, type SafeEvaluator } from "./compiler.js";
import { interpretFor } from "./interpreter.js";
import { ReadError } from "./lexer.js";
import { PROXY, shield } from "./reader.js";
import { parse, type Node } from "./parser.js";

export { FORBIDDEN_NAMES, HELPER_NAMES } from "./names.js";
export { HELPERS } from "./helpers.js";
export { GETTER, PROXY, safeString, type Marker } from "./reader.js";
export { MAX_DEPTH, MAX_LENGTH, MAX_NODES } from "./parser.js";

const isProxy = types.isProxy;

type Prepare = (ast: Node, layout: Layout) => SafeEvaluator;

/** Generated code where the realm allows it (faster), else the interpreter. */
const compileOrInterpret: Prepare = (ast, layout) =>
  codeGenerationAllowed() ? compileFor(ast, layout) : interpretFor(ast, layout);

export class SafeExpression implements CompiledExpression {
  /** The expression text as given. */
  readonly source: string;
  /** The identifier, when the expression is a bare name. */
  readonly bare: string | undefined;
  /** The names the expression reads (helper names excluded). */
  readonly identifiers: ReadonlySet<string>;
  private readonly ast: Node;
  private lastLayout: Layout | undefined = undefined;
  private lastEvaluator: SafeEvaluator | undefined = undefined;
  private readonly cache = new Map<Layout, SafeEvaluator>();
  private prepare: Prepare = compileOrInterpret;

  /**
   * The expression evaluated by the interpreter even where code generation works, so tests can
   * hold it against the generated code.
   * @internal
   */
  static interpreted(source: unknown, role: string): SafeExpression {
    const e = new SafeExpression(source, role);
    e.prepare = interpretFor;
    return e;
  }

  /**
   * Parses and checks the text. Throws ExpressionSyntaxError when it is not an expression,
   * UnsafeExpressionError when it uses something the language refuses. `role` names it in
   * messages ("value", "tags", "condition").
   */
  constructor(source: unknown, role: string) {
    if (typeof source !== "string" || source.trim() === "") {
      throw new ExpressionSyntaxError(String(source), role, "an expression must be a non-empty string");
    }
    let ast: Node;
    try {
      ast = parse(source);
    } catch (err) {
      if (!(err instanceof ReadError)) {
        // A bug of ours, or an engine limit: still one typed error naming the expression.
        throw new ExpressionSyntaxError(shorten(source), role, `it could not be parsed (${String(err)})`, {
          cause: err,
        });
      }
      const column = err.index >= 0 ? err.index + 1 : undefined;
      if (err.kind === "unsafe") throw new UnsafeExpressionError(source, err.what, err.why, column);
      throw new ExpressionSyntaxError(
        shorten(source),
        role,
        `it has ${err.what}${column === undefined ? "" : ` at column ${column}`}`,
      );
    }
    this.source = source;
    this.ast = ast;
    this.bare = ast.t === "id" ? ast.name : undefined;
    const ids = new Set<string>();
    collectNames(ast, ids);
    this.identifiers = ids;
  }

  /** Whether the text reads `name`. */
  mentions(name: string): boolean {
    return this.identifiers.has(name);
  }

  /**
   * Evaluates against one event. Runs no code of the program's values; throws
   * ExpressionEvaluationError (a member of undefined, a bad computed key), UnsafeExpressionError
   * (a computed key naming a forbidden property) or UnknownNameError.
   */
  evaluate(ns: EventNamespace, names: NamespaceSource): unknown {
    const layout = ns[LAYOUT];
    const ev = layout === this.lastLayout ? this.lastEvaluator! : this.evaluatorFor(layout);
    try {
      const v = ev(ns, names);
      return typeof v === "object" && v !== null && isProxy(v) ? PROXY : typeof v === "function" ? shield(v) : v;
    } catch (err) {
      throw this.located(err);
    }
  }

  private evaluatorFor(layout: Layout): SafeEvaluator {
    let ev = this.cache.get(layout);
    if (ev === undefined) {
      ev = this.prepare(this.ast, layout);
      this.cache.set(layout, ev);
    }
    this.lastLayout = layout;
    this.lastEvaluator = ev;
    return ev;
  }

  /** The reader's errors do not know the text; give them this one. */
  private located(err: unknown): unknown {
    if (err instanceof ExpressionEvaluationError && err.expression === undefined) {
      return new ExpressionEvaluationError(shorten(this.source), err.reason);
    }
    if (err instanceof UnsafeExpressionError) {
      return new UnsafeExpressionError(this.source, err.construct, "which spec expressions cannot reach");
    }
    return err;
  }
}

function shorten(text: string): string {
  return text.length > 200 ? text.slice(0, 197) + "..." : text;
}

function collectNames(n: Node, out: Set<string>): void {
  switch (n.t) {
    case "id":
      out.add(n.name);
      return;
    case "lit":
      return;
    case "tpl":
      for (const e of n.exprs) collectNames(e, out);
      return;
    case "member":
      collectNames(n.obj, out);
      return;
    case "index":
      collectNames(n.obj, out);
      collectNames(n.key, out);
      return;
    case "call":
      for (const a of n.args) collectNames(a, out);
      return;
    case "unary":
      collectNames(n.arg, out);
      return;
    case "bin":
    case "logic":
      collectNames(n.left, out);
      collectNames(n.right, out);
      return;
    case "cond":
      collectNames(n.test, out);
      collectNames(n.then, out);
      collectNames(n.else, out);
      return;
    case "arr":
      for (const x of n.items) collectNames(x, out);
      return;
    case "obj":
      for (const [, v] of n.props) collectNames(v, out);
      return;
    case "group":
      collectNames(n.expr, out);
      return;
  }
}
