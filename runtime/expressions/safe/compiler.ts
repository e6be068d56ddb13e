/**
 * The code generator of the safe expression language: JavaScript is generated from the validated
 * tree, never from the user's text (literals are re-serialised with JSON.stringify, names only
 * appear as JSON strings), so nothing the text says can become code of its own. Every member read
 * goes through the guarded reader; every operator that JavaScript would resolve by calling
 * `valueOf`/`toString` gets its operands through `prim`.
 *
 * One function per site layout (as for code expressions): a name resolves to a parameter slot, a
 * local slot, an event name or the manager's global namespace once, when the layout is first met.
 * Where code generation from strings is refused, interpreter.ts evaluates the same tree through
 * the same runtime functions; a change to what a node compiles to is a change to both.
 */
import type { NamespaceSource } from "../expression.js";
import { EVENT_NAMES, FRAME, LOCALS, type EventNamespace, type Layout } from "../namespace.js";
import { frameArg, readGlobal, readTrusted, safeLocals } from "./event-reads.js";
import { HELPERS } from "./helpers.js";
import type { Node } from "./parser.js";
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

/** A spec expression made ready for one layout (generated code, or the interpreter's). @internal */
export type SafeEvaluator = (ns: EventNamespace, names: NamespaceSource) => unknown;

const PARAMS = [
  "$r",
  "$ro",
  "$rc",
  "$ra",
  "$h",
  "$s",
  "$p",
  "$eq",
  "$g",
  "$loc",
  "$F",
  "$L",
  "$v",
  "$fa",
  "$rl",
] as const;

/** Compiles `ast` for `layout`. */
export function compileFor(ast: Node, layout: Layout): SafeEvaluator {
  const gen = new Generator(layout);
  const body = gen.expression(ast);
  let temps = "";
  for (let i = 0; i < gen.temps; i++) temps += `${i === 0 ? "let " : ", "}$t${i}`;
  if (temps !== "") temps += "; ";
  const code = `"use strict"; return function ($ns, $m) { ${temps}return ${body}; };`;
  const factory = new Function(...PARAMS, code) as (...args: unknown[]) => SafeEvaluator;
  return factory(
    read,
    readOptional,
    readComputed,
    readTrusted,
    HELPERS,
    safeString,
    prim,
    looseEquals,
    (names: NamespaceSource, name: string, quiet: boolean) => readGlobal(layout, names, name, quiet),
    (ns: EventNamespace) => safeLocals(layout, ns),
    FRAME,
    LOCALS,
    shield,
    frameArg,
    readLength,
  );
}

/** A member key that is an array index (`args[0]` parses to the member "0"), for the trusted reads. @internal */
export const INDEX = /^(?:0|[1-9]\d{0,8})$/;

class Generator {
  temps = 0;

  constructor(private readonly layout: Layout) {}

  expression(n: Node): string {
    switch (n.t) {
      case "lit":
        return literal(n.value);
      case "tpl": {
        let out = JSON.stringify(n.quasis[0] ?? "");
        n.exprs.forEach((e, i) => {
          out += ` + $s(${this.expression(e)}) + ${JSON.stringify(n.quasis[i + 1] ?? "")}`;
        });
        return `(${out})`;
      }
      case "id":
        return this.name(n.name, false);
      case "member":
      case "index":
        return this.chain(n);
      case "call":
        return `$h[${JSON.stringify(n.helper)}](${n.args.map((a) => this.expression(a)).join(", ")})`;
      case "unary": {
        if (n.op === "typeof")
          return `(typeof ${n.arg.t === "id" ? this.name(n.arg.name, true) : this.expression(n.arg)})`;
        if (n.op === "!") return `(!${this.expression(n.arg)})`;
        return `(${n.op}${this.operand(n.arg)})`;
      }
      case "bin": {
        if (n.op === "===" || n.op === "!==") return `(${this.expression(n.left)} ${n.op} ${this.expression(n.right)})`;
        if (n.op === "==" || n.op === "!=") {
          if (isPrimitive(n.left) && isPrimitive(n.right))
            return `(${this.expression(n.left)} ${n.op} ${this.expression(n.right)})`;
          return `(${n.op === "!=" ? "!" : ""}$eq(${this.expression(n.left)}, ${this.expression(n.right)}))`;
        }
        return `(${this.operand(n.left)} ${n.op} ${this.operand(n.right)})`;
      }
      case "logic":
        return `(${this.expression(n.left)} ${n.op} ${this.expression(n.right)})`;
      case "cond":
        return `(${this.expression(n.test)} ? ${this.expression(n.then)} : ${this.expression(n.else)})`;
      case "arr":
        return `[${n.items.map((x) => this.held(x)).join(", ")}]`;
      case "obj":
        return `({${n.props.map(([k, v]) => `${JSON.stringify(k)}: ${this.held(v)}`).join(", ")}})`;
      case "group":
        return `(${this.expression(n.expr)})`;
    }
  }

  /** A value put into an array or object literal: a Proxy is replaced by its marker. */
  private held(n: Node): string {
    const code = this.expression(n);
    return isPrimitive(n) || n.t === "arr" || n.t === "obj" ? code : `$v(${code})`;
  }

  /** An operand of an operator that would convert an object by calling its methods. */
  private operand(n: Node): string {
    const code = this.expression(n);
    return isPrimitive(n) ? code : `$p(${code})`;
  }

  private name(name: string, quiet: boolean): string {
    const src = this.layout.names.get(name);
    if (src !== undefined) {
      if (src.from === "local") return `$ns[$L]?.[${src.index}]`;
      if (src.field === undefined) return `$ns[$F]?.args[${src.index}]`;
      return `$ro($ns[$F]?.args[${src.index}], ${JSON.stringify(src.field)})`;
    }
    if (name === "locals" && EVENT_NAMES.has(name)) return `$loc($ns)`;
    if (EVENT_NAMES.has(name)) return `$ns[${JSON.stringify(name)}]`;
    return `$g($m, ${JSON.stringify(name)}, ${quiet})`;
  }

  /** A member chain: an optional link short-circuits the rest of its chain, as in JavaScript. */
  private chain(n: Link): string {
    const { base, links } = chainOf(n);
    // The event's own `args` array (not a parameter named args) is plain data: direct reads.
    const trusted = base.t === "id" && base.name === "args" && !this.layout.names.has("args");
    const first = links[0];
    if (trusted && first !== undefined && first.t === "member" && !first.optional && INDEX.test(first.key)) {
      const index = Number(first.key);
      const rest = this.layout.restIndex;
      if (rest < 0 || index < rest) return this.links(`$fa($ns[$F], ${index})`, links, 1, false);
    }
    return this.links(this.expression(base), links, 0, trusted);
  }

  private links(code: string, links: readonly Link[], i: number, trusted: boolean): string {
    // Not a read past the end: that one would be looked up on Array.prototype.
    if (i >= links.length) return code;
    const link = links[i]!;
    if (link.optional) {
      const t = `$t${this.temps++}`;
      return `((${t} = ${code}) == null ? void 0 : ${this.links(this.access(t, link, trusted), links, i + 1, false)})`;
    }
    return this.links(this.access(code, link, trusted), links, i + 1, false);
  }

  private access(obj: string, link: Link, trusted: boolean): string {
    if (link.t === "index") return `$rc(${obj}, ${this.expression(link.key)})`;
    if (trusted && (link.key === "length" || INDEX.test(link.key))) {
      return `$ra(${obj}, ${link.key === "length" ? '"length"' : link.key})`;
    }
    if (link.key === "length") return `$rl(${obj})`;
    return `$r(${obj}, ${JSON.stringify(link.key)})`;
  }
}

function literal(v: unknown): string {
  if (v === undefined) return "(void 0)";
  if (typeof v === "number") {
    if (v !== v) return "(0 / 0)";
    if (v === Infinity) return "(1 / 0)";
    return `(${String(v)})`;
  }
  return JSON.stringify(v);
}

/** One link of a member chain. @internal */
export type Link = Node & { readonly t: "member" | "index" };

/**
 * The links of the member chain `n` ends, innermost first, and the node they start from. Filled by
 * defineData, not `unshift`: compiling runs at an event, where a setter a program put on
 * Array.prototype would take the element (and run). @internal
 */
export function chainOf(n: Link): { base: Node; links: Link[] } {
  let count = 0;
  let base: Node = n;
  for (; base.t === "member" || base.t === "index"; base = base.obj) count++;
  const links: Link[] = [];
  for (let at: Node = n; at.t === "member" || at.t === "index"; at = at.obj) defineData(links, --count, at);
  return { base, links };
}

/** Whether a node's value is always a primitive (so operators need no `prim`). @internal */
export function isPrimitive(n: Node): boolean {
  switch (n.t) {
    case "lit":
    case "tpl":
    case "unary":
    case "bin":
      return true;
    case "call":
      return n.helper !== "keys";
    case "logic":
      return isPrimitive(n.left) && isPrimitive(n.right);
    case "cond":
      return isPrimitive(n.then) && isPrimitive(n.else);
    case "group":
      return isPrimitive(n.expr);
    default:
      return false;
  }
}
