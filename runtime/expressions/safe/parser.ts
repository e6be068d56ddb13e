/**
 * The parser of the safe expression language: a Pratt parser over the allow-listed grammar only.
 * Whatever is not in the grammar is refused where it is met, with the construct's name and column,
 * so the AST it returns needs no further checking: every name in it is allowed, every call is a
 * helper call, every literal key is plain.
 *
 * The text and the tree are bounded (length, nesting, node count), so a hostile text gives a clear
 * error instead of a stack overflow or a long compile.
 */
import { Lexer, ReadError, type Token } from "./lexer.js";
import { FORBIDDEN_NAMES, HELPER_NAMES, METHOD_ADVICE, REFUSED_OPERATORS, REFUSED_WORDS } from "./names.js";

/** Longest expression text accepted. */
export const MAX_LENGTH = 10_000;
/** Deepest nesting of the tree (parentheses, operands, members, literals). */
export const MAX_DEPTH = 100;
/** Most nodes in one tree. */
export const MAX_NODES = 2_000;

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "**" | "<" | ">" | "<=" | ">=" | "==" | "!=" | "===" | "!==";
export type LogicalOp = "&&" | "||" | "??";
export type UnaryOp = "!" | "-" | "+" | "typeof";
export type Literal = string | number | boolean | null | undefined;

export type Node =
  | { readonly t: "lit"; readonly value: Literal; readonly h: number }
  | { readonly t: "tpl"; readonly quasis: readonly string[]; readonly exprs: readonly Node[]; readonly h: number }
  | { readonly t: "id"; readonly name: string; readonly h: number }
  | { readonly t: "member"; readonly obj: Node; readonly key: string; readonly optional: boolean; readonly h: number }
  | { readonly t: "index"; readonly obj: Node; readonly key: Node; readonly optional: boolean; readonly h: number }
  | { readonly t: "call"; readonly helper: string; readonly args: readonly Node[]; readonly h: number }
  | { readonly t: "unary"; readonly op: UnaryOp; readonly arg: Node; readonly h: number }
  | { readonly t: "bin"; readonly op: BinaryOp; readonly left: Node; readonly right: Node; readonly h: number }
  | { readonly t: "logic"; readonly op: LogicalOp; readonly left: Node; readonly right: Node; readonly h: number }
  | { readonly t: "cond"; readonly test: Node; readonly then: Node; readonly else: Node; readonly h: number }
  | { readonly t: "arr"; readonly items: readonly Node[]; readonly h: number }
  | { readonly t: "obj"; readonly props: readonly (readonly [string, Node])[]; readonly h: number }
  | { readonly t: "group"; readonly expr: Node; readonly h: number };

/** Binding power of each binary operator the language has. */
const BINARY: ReadonlyMap<string, number> = new Map([
  ["??", 1],
  ["||", 2],
  ["&&", 3],
  ["==", 7],
  ["!=", 7],
  ["===", 7],
  ["!==", 7],
  ["<", 8],
  [">", 8],
  ["<=", 8],
  [">=", 8],
  ["+", 10],
  ["-", 10],
  ["*", 11],
  ["/", 11],
  ["%", 11],
  ["**", 12],
]);

const LITERAL_WORDS: ReadonlyMap<string, Literal> = new Map<string, Literal>([
  ["true", true],
  ["false", false],
  ["null", null],
  ["undefined", undefined],
  ["NaN", NaN],
  ["Infinity", Infinity],
]);

/** A syntax problem (not a JavaScript expression) or a refusal, before it gets its typed error. */
export type ParseProblem = ReadError;

/** Parses `text`; throws a ReadError (syntax or unsafe) at the first problem. */
export function parse(text: string): Node {
  if (text.length > MAX_LENGTH) {
    throw new ReadError(
      "unsafe",
      `a text of ${text.length} characters`,
      -1,
      `longer than the ${MAX_LENGTH} a spec expression may have`,
    );
  }
  return new Parser(text).parseAll();
}

class Parser {
  private readonly lexer: Lexer;
  private tok: Token;
  private depth = 0;
  private nodes = 0;

  constructor(text: string) {
    this.lexer = new Lexer(text);
    this.tok = this.lexer.read(0);
  }

  parseAll(): Node {
    if (this.tok.kind === "eof") throw new ReadError("syntax", "an empty expression", 0);
    const node = this.expression();
    if ((this.tok as Token).kind !== "eof") this.unexpected();
    return node;
  }

  private next(): void {
    this.tok = this.lexer.read(this.tok.end);
  }

  private is(p: string): boolean {
    return this.tok.kind === "punct" && this.tok.value === p;
  }

  private expect(p: string, what: string): void {
    if (!this.is(p)) {
      this.unexpected(`expected ${what}`);
    }
    this.next();
  }

  /** Refuses the current token, naming it as a refused construct when it is one. */
  private unexpected(context?: string): never {
    const t = this.tok;
    if (t.kind === "eof")
      throw new ReadError("syntax", `an unexpected end of the text${context ? ` (${context})` : ""}`, t.start);
    if (t.kind === "punct" || t.kind === "name") {
      const refused =
        (t.kind === "punct" ? REFUSED_OPERATORS : REFUSED_WORDS).get(t.value as string) ??
        REFUSED_OPERATORS.get(t.value as string);
      if (refused !== undefined) throw new ReadError("unsafe", refused[0], t.start, refused[1]);
    }
    const shown = t.kind === "str" ? "a string" : t.kind === "num" ? "a number" : `\`${String(t.value)}\``;
    throw new ReadError("syntax", `an unexpected ${shown}${context ? ` (${context})` : ""}`, t.start);
  }

  private node<N extends Node>(n: N): N {
    if (++this.nodes > MAX_NODES) {
      throw new ReadError(
        "unsafe",
        `more than ${MAX_NODES} parts`,
        this.tok.start,
        "more than a spec expression may have",
      );
    }
    if (n.h > MAX_DEPTH) {
      throw new ReadError(
        "unsafe",
        `nesting deeper than ${MAX_DEPTH} levels`,
        this.tok.start,
        "more than a spec expression may have",
      );
    }
    return n;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) {
      throw new ReadError(
        "unsafe",
        `nesting deeper than ${MAX_DEPTH} levels`,
        this.tok.start,
        "more than a spec expression may have",
      );
    }
  }

  /** One expression; in a list (array items, object values, helper arguments) a `,` may follow. */
  private expression(inList = false): Node {
    this.enter();
    const node = this.conditional();
    const t = this.tok;
    if (t.kind === "punct" && REFUSED_OPERATORS.has(t.value as string) && !(inList && t.value === ","))
      this.unexpected();
    this.depth--;
    return node;
  }

  private conditional(): Node {
    const test = this.binary(0);
    if (!this.is("?")) return test;
    this.next();
    const then = this.expression();
    this.expect(":", "`:` of a conditional");
    const otherwise = this.expression();
    return this.node({ t: "cond", test, then, else: otherwise, h: 1 + Math.max(test.h, then.h, otherwise.h) });
  }

  private binary(minPower: number): Node {
    let left = this.unary();
    for (;;) {
      const t = this.tok;
      if (t.kind === "name" && (t.value === "in" || t.value === "instanceof")) this.unexpected();
      if (t.kind !== "punct") return left;
      const op = t.value as string;
      const power = BINARY.get(op);
      if (power === undefined || power <= minPower) {
        if (REFUSED_OPERATORS.has(op) && op !== "," && op !== ";") this.unexpected();
        return left;
      }
      if (op === "**" && left.t === "unary") {
        throw new ReadError("syntax", "a unary operator before `**` (write parentheses)", t.start);
      }
      this.next();
      this.enter();
      // `**` is right-associative: its right side may hold another `**`.
      const right = this.binary(op === "**" ? power - 1 : power);
      this.depth--;
      if (op === "??" || op === "||" || op === "&&") {
        mixedNullish(op, left, right, t.start);
        left = this.node({ t: "logic", op, left, right, h: 1 + Math.max(left.h, right.h) });
      } else {
        left = this.node({ t: "bin", op: op as BinaryOp, left, right, h: 1 + Math.max(left.h, right.h) });
      }
    }
  }

  private unary(): Node {
    const t = this.tok;
    let op: UnaryOp | undefined;
    if (t.kind === "punct" && (t.value === "!" || t.value === "-" || t.value === "+")) op = t.value;
    else if (t.kind === "name" && t.value === "typeof") op = "typeof";
    if (op === undefined) return this.postfix();
    this.next();
    this.enter();
    const arg = this.unary();
    this.depth--;
    return this.node({ t: "unary", op, arg, h: 1 + arg.h });
  }

  private postfix(): Node {
    let node = this.primary();
    for (;;) {
      const t = this.tok;
      if (t.kind !== "punct") return node;
      if (t.value === "." || t.value === "?.") {
        const optional = t.value === "?.";
        this.next();
        if (optional && this.is("[")) {
          node = this.index(node, true);
          continue;
        }
        if (optional && this.is("(")) {
          throw new ReadError(
            "unsafe",
            "an optional call `?.()`",
            this.tok.start,
            "which spec expressions cannot make",
          );
        }
        const k = this.tok;
        if (k.kind !== "name") this.unexpected("expected a property name");
        const key = k.value as string;
        this.next();
        if (this.is("(")) throw methodCall(key, k.start);
        if (this.is("`"))
          throw new ReadError("unsafe", "a tagged template", this.tok.start, "which would call a function");
        checkName(key, k.start);
        node = this.node({ t: "member", obj: node, key, optional, h: 1 + node.h });
      } else if (t.value === "[") {
        node = this.index(node, false);
      } else if (t.value === "(") {
        if (node.t === "id") throw notHelper(node.name, t.start);
        throw new ReadError(
          "unsafe",
          "a call of a computed value",
          t.start,
          "which spec expressions cannot make; only the helpers can be called, by name",
        );
      } else if (t.value === "`") {
        throw new ReadError("unsafe", "a tagged template", t.start, "which would call a function");
      } else if (t.value === "++" || t.value === "--" || t.value === "=>") {
        this.unexpected();
      } else return node;
    }
  }

  private index(obj: Node, optional: boolean): Node {
    this.next(); // "["
    const key = this.expression();
    this.expect("]", "`]`");
    if (this.is("(")) {
      const shown = key.t === "lit" && typeof key.value === "string" ? key.value : "[…]";
      throw methodCall(shown, this.tok.start);
    }
    if (key.t === "lit" && (typeof key.value === "string" || typeof key.value === "number")) {
      const name = String(key.value);
      checkName(name, this.tok.start);
      return this.node({ t: "member", obj, key: name, optional, h: 1 + obj.h });
    }
    return this.node({ t: "index", obj, key, optional, h: 1 + Math.max(obj.h, key.h) });
  }

  private primary(): Node {
    const t = this.tok;
    switch (t.kind) {
      case "num":
      case "str":
        this.next();
        return this.node({ t: "lit", value: t.value, h: 1 });
      case "name":
        return this.name(t);
      case "eof":
        return this.unexpected();
      default:
        break;
    }
    switch (t.value) {
      case "(": {
        this.next();
        if (this.is(")")) {
          this.next();
          if (this.is("=>")) this.unexpected();
          throw new ReadError("syntax", "empty parentheses", t.start);
        }
        const expr = this.expression();
        this.expect(")", "`)`");
        if (this.is("=>")) this.unexpected();
        return this.node({ t: "group", expr, h: 1 + expr.h });
      }
      case "[":
        return this.array();
      case "{":
        return this.object();
      case "`":
        return this.template();
      case "/":
      case "/=":
        throw new ReadError(
          "unsafe",
          "a regular expression literal",
          t.start,
          "which spec expressions do not have (use startsWith, endsWith or includes)",
        );
      default:
        return this.unexpected();
    }
  }

  private name(t: Token): Node {
    const word = t.value as string;
    if (LITERAL_WORDS.has(word)) {
      this.next();
      return this.node({ t: "lit", value: LITERAL_WORDS.get(word), h: 1 });
    }
    if (REFUSED_WORDS.has(word)) this.unexpected();
    this.next();
    if (this.is("=>")) this.unexpected();
    if (this.is("(")) {
      if (!HELPER_NAMES.has(word)) throw notHelper(word, t.start);
      return this.call(word);
    }
    checkName(word, t.start);
    return this.node({ t: "id", name: word, h: 1 });
  }

  private call(helper: string): Node {
    this.next(); // "("
    const args: Node[] = [];
    while (!this.is(")")) {
      if (this.is("..."))
        throw new ReadError("unsafe", "a spread into a call", this.tok.start, "which spec expressions do not have");
      args.push(this.expression(true));
      if (this.is(",")) this.next();
      else if (!this.is(")")) this.unexpected("expected `,` or `)` in the helper's arguments");
    }
    this.next();
    let h = 1;
    for (const a of args) h = Math.max(h, a.h + 1);
    return this.node({ t: "call", helper, args, h });
  }

  private array(): Node {
    this.next(); // "["
    const items: Node[] = [];
    while (!this.is("]")) {
      if (this.is("..."))
        throw new ReadError("unsafe", "a spread `...`", this.tok.start, "which spec expressions do not have");
      if (this.is(","))
        throw new ReadError(
          "unsafe",
          "an array hole",
          this.tok.start,
          "which spec expressions do not have (write undefined)",
        );
      items.push(this.expression(true));
      if (this.is(",")) this.next();
      else if (!this.is("]")) this.unexpected("expected `,` or `]` in an array");
    }
    this.next();
    let h = 1;
    for (const x of items) h = Math.max(h, x.h + 1);
    return this.node({ t: "arr", items, h });
  }

  private object(): Node {
    this.next(); // "{"
    const props: [string, Node][] = [];
    while (!this.is("}")) {
      const k = this.tok;
      if (this.is("..."))
        throw new ReadError("unsafe", "a spread `...`", k.start, "which spec expressions do not have");
      if (this.is("["))
        throw new ReadError(
          "unsafe",
          "a computed key",
          k.start,
          "which spec expressions do not have (keys are plain names, strings or numbers)",
        );
      if (k.kind !== "name" && k.kind !== "str" && k.kind !== "num") this.unexpected("expected a key");
      const key = String(k.value);
      this.next();
      if (
        k.kind === "name" &&
        (key === "get" || key === "set" || key === "async") &&
        (this.tok.kind === "name" || this.tok.kind === "str" || this.tok.kind === "num" || this.is("["))
      ) {
        throw new ReadError(
          "unsafe",
          `an accessor or method \`${key} …\``,
          k.start,
          "which spec expressions cannot define",
        );
      }
      if (this.is("("))
        throw new ReadError("unsafe", `a method \`${key}()\``, k.start, "which spec expressions cannot define");
      checkName(key, k.start);
      let value: Node;
      if (this.is(":")) {
        this.next();
        value = this.expression(true);
      } else if (k.kind === "name" && (this.is(",") || this.is("}"))) {
        // Shorthand `{ qty }` reads the name, as `{ qty: qty }`.
        if (LITERAL_WORDS.has(key)) value = this.node({ t: "lit", value: LITERAL_WORDS.get(key), h: 1 });
        else {
          if (REFUSED_WORDS.has(key) || key === "typeof")
            throw new ReadError("syntax", `a shorthand property \`${key}\``, k.start);
          value = this.node({ t: "id", name: key, h: 1 });
        }
      } else return this.unexpected("expected `:` after a key");
      props.push([key, value]);
      if (this.is(",")) this.next();
      else if (!this.is("}")) this.unexpected("expected `,` or `}` in an object");
    }
    this.next();
    let h = 1;
    for (const [, v] of props) h = Math.max(h, v.h + 1);
    return this.node({ t: "obj", props, h });
  }

  private template(): Node {
    const quasis: string[] = [];
    const exprs: Node[] = [];
    let part = this.lexer.template(this.tok.end);
    quasis.push(part.cooked);
    while (!part.closed) {
      this.tok = this.lexer.read(part.end);
      if (this.is("}")) throw new ReadError("syntax", "an empty substitution `${}`", this.tok.start);
      exprs.push(this.expression());
      if (!this.is("}")) this.unexpected("expected `}` closing a template substitution");
      part = this.lexer.template(this.tok.end);
      quasis.push(part.cooked);
    }
    this.tok = this.lexer.read(part.end);
    let h = 1;
    for (const x of exprs) h = Math.max(h, x.h + 1);
    return this.node({ t: "tpl", quasis, exprs, h });
  }
}

/** JavaScript refuses `a ?? b || c` without parentheses; so do we. */
function mixedNullish(op: LogicalOp, left: Node, right: Node, at: number): void {
  const other = (n: Node) => n.t === "logic" && n.op !== op && (n.op === "??" || op === "??");
  if (other(left) || other(right)) {
    throw new ReadError("syntax", "`??` mixed with `&&` or `||` (write parentheses)", at);
  }
}

function checkName(name: string, at: number): void {
  if (FORBIDDEN_NAMES.has(name)) {
    throw new ReadError("unsafe", `\`${name}\``, at, "which spec expressions cannot reach");
  }
}

function notHelper(name: string, at: number): ReadError {
  if (FORBIDDEN_NAMES.has(name))
    return new ReadError("unsafe", `\`${name}\``, at, "which spec expressions cannot reach");
  return new ReadError(
    "unsafe",
    `a call of \`${name}\``,
    at,
    "which is not a helper; only the helpers can be called, by name",
  );
}

function methodCall(method: string, at: number): ReadError {
  const helper = METHOD_ADVICE.get(method);
  return new ReadError(
    "unsafe",
    `a method call \`.${method}()\``,
    at,
    helper === undefined
      ? "which spec expressions cannot make (no user code runs)"
      : `which spec expressions cannot make (no user code runs); use the helper ${helper} instead`,
  );
}
