/**
 * The interpreter of the safe expression language, for a realm that refuses code generation from
 * strings (`node --disallow-code-generation-from-strings`), where compiler.ts cannot make its
 * function. It must give what the generated code gives and throw what it throws, in the same
 * order, so it mirrors the compiler's Generator node for node: each node becomes a closure that
 * calls the runtime functions the generated code calls (the guarded reader, `prim`, `safeString`,
 * `looseEquals`, `shield`, the helpers, event-reads.ts), and the tree is read with the compiler's
 * own decisions (`isPrimitive`, `INDEX`, the trusted reads of the event's `args`). None of the
 * safety is re-implemented here.
 *
 * Like the compiler it works once per site layout: names are resolved when the layout is first
 * met and the closures are kept, so an evaluation walks no tree and looks up no name.
 *
 * Stack: the closures nest as the tree does, at most two frames a level (a node and the `prim` or
 * `shield` around it; a member chain is one loop, not a frame per link), and the parser bounds the
 * tree at MAX_DEPTH levels, so an evaluation needs a few hundred frames at most.
 *
 * What the generated code gets for free by being JavaScript literals is done by hand here. Arrays
 * and objects (the literals' values, and the interpreter's own lists) are filled as a literal fills
 * them (defineData, a template's own properties), never by a plain assignment or `push`, which
 * would run a setter a program put on Array.prototype or Object.prototype. Lists are read below
 * their length only, and nothing goes through the iteration protocol (no array spread or
 * destructuring), which a program can replace.
 */
import type { NamespaceSource } from "../expression.js";
import { EVENT_NAMES, FRAME, LOCALS, type EventNamespace, type Layout } from "../namespace.js";
import { chainOf, INDEX, isPrimitive, type Link, type SafeEvaluator } from "./compiler.js";
import { frameArg, readGlobal, readTrusted, safeLocals } from "./event-reads.js";
import { HELPERS } from "./helpers.js";
import type { BinaryOp, Node } from "./parser.js";
import {
  defineData,
  looseEquals,
  prim,
  read,
  readComputed,
  readLength,
  readOptional,
  safeString,
  shield,
} from "./reader.js";

// Captured at load time: a program that later replaces it changes nothing here.
const reflectApply = Reflect.apply;

type Evaluate = SafeEvaluator;
/** One link of a member chain: reads a member of `v` (a computed key is evaluated here, after `v`). */
type Step = (v: unknown, ns: EventNamespace, m: NamespaceSource) => unknown;
type Helper = (...args: unknown[]) => unknown;

/**
 * The operators' operands are any primitive at run time (`prim` made them so, or the node always
 * gives one); the type only lets TypeScript emit JavaScript's own operator, which is the point.
 */
type Operand = number;

/** Makes `ast` ready for `layout`: what compileFor does, without generating code. */
export function interpretFor(ast: Node, layout: Layout): SafeEvaluator {
  return new Interpreter(layout).expression(ast);
}

class Interpreter {
  constructor(private readonly layout: Layout) {}

  expression(n: Node): Evaluate {
    switch (n.t) {
      case "lit": {
        const value = n.value;
        return () => value;
      }
      case "tpl":
        return this.template(n.quasis, n.exprs);
      case "id":
        return this.name(n.name, false);
      case "member":
      case "index":
        return this.chain(n);
      case "call":
        return this.call(n.helper, n.args);
      case "unary": {
        if (n.op === "typeof") {
          const arg = n.arg.t === "id" ? this.name(n.arg.name, true) : this.expression(n.arg);
          return (ns, m) => typeof arg(ns, m);
        }
        if (n.op === "!") {
          const arg = this.expression(n.arg);
          return (ns, m) => !arg(ns, m);
        }
        const arg = this.operand(n.arg);
        return n.op === "-" ? (ns, m) => -(arg(ns, m) as Operand) : (ns, m) => +(arg(ns, m) as Operand);
      }
      case "bin":
        return this.binary(n.op, n.left, n.right);
      case "logic": {
        const left = this.expression(n.left);
        const right = this.expression(n.right);
        if (n.op === "&&") return (ns, m) => left(ns, m) && right(ns, m);
        if (n.op === "||") return (ns, m) => left(ns, m) || right(ns, m);
        return (ns, m) => left(ns, m) ?? right(ns, m);
      }
      case "cond": {
        const test = this.expression(n.test);
        const then = this.expression(n.then);
        const otherwise = this.expression(n.else);
        return (ns, m) => (test(ns, m) ? then(ns, m) : otherwise(ns, m));
      }
      case "arr":
        return array(each(n.items, (x) => this.held(x)));
      case "obj":
        return object(
          each(n.props, (p) => p[0]),
          each(n.props, (p) => this.held(p[1])),
        );
      case "group":
        return this.expression(n.expr);
    }
  }

  /** `"q0" + $s(e0) + "q1" + …`, left to right. */
  private template(quasis: readonly string[], exprs: readonly Node[]): Evaluate {
    const parts = each(exprs, (e) => this.expression(e));
    const texts = each(exprs, (_, i) => quasis[i + 1] ?? "");
    const head = quasis[0] ?? "";
    return (ns, m) => {
      let out = head;
      for (let i = 0; i < parts.length; i++) {
        out = out + safeString(parts[i]!(ns, m));
        out = out + texts[i]!;
      }
      return out;
    };
  }

  /** A value put into an array or object literal: a Proxy is replaced by its marker. */
  private held(n: Node): Evaluate {
    const value = this.expression(n);
    return isPrimitive(n) || n.t === "arr" || n.t === "obj" ? value : (ns, m) => shield(value(ns, m));
  }

  /** An operand of an operator that would convert an object by calling its methods. */
  private operand(n: Node): Evaluate {
    const value = this.expression(n);
    return isPrimitive(n) ? value : (ns, m) => prim(value(ns, m));
  }

  private name(name: string, quiet: boolean): Evaluate {
    const layout = this.layout;
    const src = layout.names.get(name);
    if (src !== undefined) {
      const index = src.index;
      if (src.from === "local") return (ns) => ns[LOCALS]?.[index];
      const field = src.field;
      if (field === undefined) return (ns) => ns[FRAME]?.args[index];
      return (ns) => readOptional(ns[FRAME]?.args[index], field);
    }
    if (name === "locals" && EVENT_NAMES.has(name)) return (ns) => safeLocals(layout, ns);
    // The namespace's own getter (our code), as the generated `$ns["result"]` calls it.
    if (EVENT_NAMES.has(name)) return (ns) => (ns as unknown as Record<string, unknown>)[name];
    return (_ns, m) => readGlobal(layout, m, name, quiet);
  }

  private call(name: string, argNodes: readonly Node[]): Evaluate {
    const helper = HELPERS[name as keyof typeof HELPERS] as Helper;
    const args = each(argNodes, (x) => this.expression(x));
    const n = args.length;
    const a = n > 0 ? args[0] : undefined;
    const b = n > 1 ? args[1] : undefined;
    const c = n > 2 ? args[2] : undefined;
    switch (n) {
      case 0:
        return () => helper();
      case 1:
        return (ns, m) => helper(a!(ns, m));
      case 2:
        return (ns, m) => helper(a!(ns, m), b!(ns, m));
      case 3:
        return (ns, m) => helper(a!(ns, m), b!(ns, m), c!(ns, m));
      default:
        return (ns, m) => {
          const values: unknown[] = [];
          for (let i = 0; i < args.length; i++) defineData(values, i, args[i]!(ns, m));
          return reflectApply(helper, undefined, values);
        };
    }
  }

  private binary(op: BinaryOp, leftNode: Node, rightNode: Node): Evaluate {
    if (
      op === "===" ||
      op === "!==" ||
      ((op === "==" || op === "!=") && isPrimitive(leftNode) && isPrimitive(rightNode))
    ) {
      const left = this.expression(leftNode);
      const right = this.expression(rightNode);
      switch (op) {
        case "===":
          return (ns, m) => left(ns, m) === right(ns, m);
        case "!==":
          return (ns, m) => left(ns, m) !== right(ns, m);
        case "==":
          // biome-ignore lint/suspicious/noDoubleEquals: two primitives, compared as the generated code does
          return (ns, m) => left(ns, m) == right(ns, m);
        default:
          // biome-ignore lint/suspicious/noDoubleEquals: two primitives, compared as the generated code does
          return (ns, m) => left(ns, m) != right(ns, m);
      }
    }
    if (op === "==" || op === "!=") {
      const left = this.expression(leftNode);
      const right = this.expression(rightNode);
      return op === "=="
        ? (ns, m) => looseEquals(left(ns, m), right(ns, m))
        : (ns, m) => !looseEquals(left(ns, m), right(ns, m));
    }
    const l = this.operand(leftNode);
    const r = this.operand(rightNode);
    // Each operand is evaluated (and made primitive) before the right one, as in `($p(a) op $p(b))`.
    switch (op) {
      case "+":
        return (ns, m) => (l(ns, m) as Operand) + (r(ns, m) as Operand);
      case "-":
        return (ns, m) => (l(ns, m) as Operand) - (r(ns, m) as Operand);
      case "*":
        return (ns, m) => (l(ns, m) as Operand) * (r(ns, m) as Operand);
      case "/":
        return (ns, m) => (l(ns, m) as Operand) / (r(ns, m) as Operand);
      case "%":
        return (ns, m) => (l(ns, m) as Operand) % (r(ns, m) as Operand);
      case "**":
        return (ns, m) => (l(ns, m) as Operand) ** (r(ns, m) as Operand);
      case "<":
        return (ns, m) => (l(ns, m) as Operand) < (r(ns, m) as Operand);
      case ">":
        return (ns, m) => (l(ns, m) as Operand) > (r(ns, m) as Operand);
      case "<=":
        return (ns, m) => (l(ns, m) as Operand) <= (r(ns, m) as Operand);
      default:
        return (ns, m) => (l(ns, m) as Operand) >= (r(ns, m) as Operand);
    }
  }

  /** A member chain: an optional link short-circuits the rest of its chain, as in JavaScript. */
  private chain(n: Link): Evaluate {
    const { base, links } = chainOf(n);
    // The event's own `args` array (not a parameter named args) is plain data: direct reads.
    const trusted = base.t === "id" && base.name === "args" && !this.layout.names.has("args");
    const first = links[0]!;
    if (trusted && first.t === "member" && !first.optional && INDEX.test(first.key)) {
      const index = Number(first.key);
      const rest = this.layout.restIndex;
      if (rest < 0 || index < rest) return this.links((ns) => frameArg(ns[FRAME], index), links, 1, false);
    }
    return this.links(this.expression(base), links, 0, trusted);
  }

  /** `start`, then links[from…]; `trusted` applies to the first of them only, as in the compiler. */
  private links(start: Evaluate, links: readonly Link[], from: number, trusted: boolean): Evaluate {
    const steps: Step[] = [];
    const optional: boolean[] = [];
    for (let i = from; i < links.length; i++) {
      defineData(steps, i - from, this.access(links[i]!, trusted && i === from));
      defineData(optional, i - from, links[i]!.optional);
    }
    if (steps.length === 0) return start;
    const step = steps[0]!;
    if (steps.length === 1 && !optional[0]) return (ns, m) => step(start(ns, m), ns, m);
    return (ns, m) => {
      let v = start(ns, m);
      for (let i = 0; i < steps.length; i++) {
        // `(t = v) == null ? void 0 : …rest of the chain`: the whole rest is skipped.
        if (optional[i] && (v === undefined || v === null)) return undefined;
        v = steps[i]!(v, ns, m);
      }
      return v;
    };
  }

  private access(link: Link, trusted: boolean): Step {
    if (link.t === "index") {
      const key = this.expression(link.key);
      return (v, ns, m) => readComputed(v, key(ns, m));
    }
    const key = link.key;
    if (trusted && (key === "length" || INDEX.test(key))) {
      const k = key === "length" ? "length" : Number(key);
      return (v) => readTrusted(v, k);
    }
    if (key === "length") return (v) => readLength(v);
    return (v) => read(v, key);
  }
}

/** An array literal: a real one up to four items; longer ones filled by defineData. */
function array(items: readonly Evaluate[]): Evaluate {
  // Items are read below the length only: past it, a read would look on Array.prototype.
  const n = items.length;
  const a = n > 0 ? items[0]! : undefined;
  const b = n > 1 ? items[1]! : undefined;
  const c = n > 2 ? items[2]! : undefined;
  const d = n > 3 ? items[3]! : undefined;
  switch (n) {
    case 0:
      return () => [];
    case 1:
      return (ns, m) => [a!(ns, m)];
    case 2:
      return (ns, m) => [a!(ns, m), b!(ns, m)];
    case 3:
      return (ns, m) => [a!(ns, m), b!(ns, m), c!(ns, m)];
    case 4:
      return (ns, m) => [a!(ns, m), b!(ns, m), c!(ns, m), d!(ns, m)];
    default:
      return (ns, m) => {
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) defineData(out, i, items[i]!(ns, m));
        return out;
      };
  }
}

/**
 * An object literal. Its keys are known here, so a template has them as own data properties; each
 * evaluation copies it (an object spread defines, as a literal does) and then assigns the values
 * in order, each to an own writable property, which looks at no prototype (no setter of a program
 * runs). defineProperty per key did the same at eight times the cost of the generated literal.
 */
function object(keys: readonly string[], values: readonly Evaluate[]): Evaluate {
  const template: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) defineData(template, keys[i]!, undefined);
  return (ns, m) => {
    const out = { ...template };
    for (let i = 0; i < keys.length; i++) out[keys[i]!] = values[i]!(ns, m);
    return out;
  };
}

/** `items.map(f)`, filled by defineData (see there), not through Array.prototype. */
function each<T, U>(items: readonly T[], f: (item: T, index: number) => U): U[] {
  const out: U[] = [];
  for (let i = 0; i < items.length; i++) defineData(out, i, f(items[i]!, i));
  return out;
}
