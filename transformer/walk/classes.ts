/**
 * Classes and object literals: their members become functions named under the class or object
 * path (`Cart.total`, `Cart.total@get`, `handlers.onClick`); field initialisers take the field's
 * name; static blocks are walked for the functions inside them.
 */
import { FnFlags } from "../../abi/index.js";
import type {
  AccessorProperty,
  AnyNode,
  Block,
  ClassLike,
  ClassMethod,
  ClassProperty,
  Constructor,
  MethodProperty,
  Node,
} from "../ast.js";
import { joinPath, keySegment } from "../naming.js";
import { hiddenMembers, typeParams } from "../typed.js";
import { FunctionWalker } from "./functions.js";

export abstract class ClassWalker extends FunctionWalker {
  protected visitClass(c: ClassLike, segment: string): void {
    this.visitDecorators(c.decorators);
    this.visitExpr(c.superClass);
    const classPath = joinPath(this.prefix, segment);
    const saved = {
      prefix: this.prefix,
      thisPrefix: this.thisPrefix,
      ctx: this.ctx,
      ignored: this.ignored,
      classTypeParams: this.classTypeParams,
      classOwner: this.classOwner,
    };
    this.prefix = classPath;
    if (this.typed) {
      const text = (n: AnyNode) => this.code.slice(this.pos.index(n.span.start), this.pos.index(n.span.end));
      this.classTypeParams = typeParams((c as unknown as AnyNode)["typeParams"] as AnyNode | null | undefined, text);
      this.classOwner = c.identifier ? { name: c.identifier.value, hidden: hiddenMembers(c.body as AnyNode[]) } : null;
    }
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
    this.classTypeParams = saved.classTypeParams;
    this.classOwner = saved.classOwner;
  }

  protected visitObject(o: AnyNode, segment: string | undefined): void {
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
}
