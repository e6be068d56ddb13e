/**
 * Expressions: the functions and classes inside them, named by where they stand (the naming
 * hints: `const x = () => …`, `a.b = function …`, `call(() => …)`, `this.x = …` in a
 * constructor, JSX attributes, `export default`). Everything else is walked generically.
 */
import { FnFlags } from "../../abi/index.js";
import type {
  AnyNode,
  ArrowFunctionExpression,
  AssignmentExpression,
  CallExpression,
  ClassLike,
  Fn,
  Node,
} from "../ast.js";
import { ANONYMOUS, assignmentSegment, calleeName } from "../naming.js";
import { ClassWalker } from "./classes.js";
import type { Hint } from "./state.js";

const LOGICAL = new Set(["||", "&&", "??"]);

export abstract class ExpressionWalker extends ClassWalker {
  protected override visitExpr(node: Node | null | undefined, hint?: Hint): void {
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
          segment: f.identifier ? String(f.identifier["value"]) : (hint?.segment ?? ANONYMOUS),
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
        this.visitClass(c, c.identifier ? String(c.identifier["value"]) : (hint?.segment ?? ANONYMOUS));
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
        for (const arg of call.arguments ?? [])
          this.visitExpr(arg.expression, name ? { segment: `${name}()` } : undefined);
        break;
      }
      case "AssignmentExpression": {
        const a = e as unknown as AssignmentExpression;
        this.visitPattern(a.left);
        const target = assignmentSegment(a.left);
        const prefix = target?.onThis && this.thisPrefix !== undefined ? this.thisPrefix : undefined;
        this.visitExpr(
          a.right,
          target
            ? prefix !== undefined
              ? { segment: target.segment, prefix }
              : { segment: target.segment }
            : undefined,
        );
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
}
