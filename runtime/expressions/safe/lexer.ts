/**
 * The tokenizer of the safe expression language. It reads one token at a time from a position
 * (the parser drives it), so template literals can switch between text and substitutions without
 * a separate mode stack. It knows every JavaScript punctuator, including the ones the language
 * refuses, so a refusal can name the construct instead of reporting an unknown character.
 */

/** A refusal or syntax problem found while reading; the parser turns it into a typed error. @internal */
export class ReadError {
  constructor(
    /** "syntax": not a JavaScript expression; "unsafe": JavaScript outside the language. */
    readonly kind: "syntax" | "unsafe",
    readonly what: string,
    readonly index: number,
    readonly why = "",
  ) {}
}

export type TokenKind = "num" | "str" | "name" | "punct" | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The punctuator or name text; the cooked string; the number. */
  readonly value: string | number;
  readonly start: number;
  readonly end: number;
}

// Longest first, so "===" wins over "==" and "=".
const PUNCTUATORS = [
  ">>>=",
  "...",
  "===",
  "!==",
  "**=",
  "<<=",
  ">>=",
  ">>>",
  "&&=",
  "||=",
  "??=",
  "=>",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "??",
  "?.",
  "**",
  "++",
  "--",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "<<",
  ">>",
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  ";",
  ",",
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "|",
  "^",
  "!",
  "~",
  "?",
  ":",
  "=",
  ".",
  "@",
  "#",
  "`",
];

/** The punctuators by their first character, longest first. */
const BY_FIRST = new Map<string, string[]>();
for (const p of PUNCTUATORS) {
  const list = BY_FIRST.get(p[0]!) ?? [];
  list.push(p);
  BY_FIRST.set(p[0]!, list);
}

const ID_START = /[\p{ID_Start}$_]/u;
const ID_PART = /[\p{ID_Continue}$\u200C\u200D]/u;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;

export class Lexer {
  constructor(readonly text: string) {}

  /** The token starting at the first non-blank character at or after `pos`. */
  read(pos: number): Token {
    const s = this.text;
    let i = this.skipBlank(pos);
    if (i >= s.length) return { kind: "eof", value: "", start: i, end: i };
    const c = s[i]!;
    if (c === '"' || c === "'") {
      const { cooked, end } = this.string(i + 1, c);
      return { kind: "str", value: cooked, start: i, end };
    }
    if ((c >= "0" && c <= "9") || (c === "." && isDigit(s[i + 1]))) return this.number(i);
    if (c === "\\")
      throw new ReadError(
        "unsafe",
        "an escape sequence in a name",
        i,
        "which spec expressions refuse so that every name can be checked as written",
      );
    if (isAsciiIdStart(c.charCodeAt(0))) {
      let j = i + 1;
      while (j < s.length && isAsciiIdPart(s.charCodeAt(j))) j++;
      const next = s.charCodeAt(j);
      // A name going on with a non-ASCII letter or an escape takes the general path below.
      if (!(next >= 128 || next === 92)) return { kind: "name", value: s.slice(i, j), start: i, end: j };
    }
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (ID_START.test(ch)) {
      let j = i + ch.length;
      while (j < s.length) {
        const next = String.fromCodePoint(s.codePointAt(j)!);
        if (next === "\\")
          throw new ReadError(
            "unsafe",
            "an escape sequence in a name",
            j,
            "which spec expressions refuse so that every name can be checked as written",
          );
        if (!ID_PART.test(next)) break;
        j += next.length;
      }
      return { kind: "name", value: s.slice(i, j), start: i, end: j };
    }
    for (const p of BY_FIRST.get(c) ?? []) {
      if (s.startsWith(p, i)) {
        // `a?.5:b` is a conditional with .5, not optional chaining.
        if (p === "?." && isDigit(s[i + 2])) return { kind: "punct", value: "?", start: i, end: i + 1 };
        return { kind: "punct", value: p, start: i, end: i + p.length };
      }
    }
    throw new ReadError("syntax", `an unexpected character ${JSON.stringify(ch)}`, i);
  }

  /**
   * From just after a backtick or a substitution's `}`: the cooked text up to the next `${` or
   * closing backtick, and the position after that delimiter.
   */
  template(pos: number): { cooked: string; end: number; closed: boolean } {
    const s = this.text;
    let out = "";
    let i = pos;
    while (i < s.length) {
      const c = s[i]!;
      if (c === "`") return { cooked: out, end: i + 1, closed: true };
      if (c === "$" && s[i + 1] === "{") return { cooked: out, end: i + 2, closed: false };
      if (c === "\\") {
        const e = this.escape(i + 1);
        out += e.text;
        i = e.end;
        continue;
      }
      // A template keeps its line breaks, with CRLF normalised as JavaScript does.
      if (c === "\r") {
        out += "\n";
        i += s[i + 1] === "\n" ? 2 : 1;
        continue;
      }
      out += c;
      i++;
    }
    throw new ReadError("syntax", "an unterminated template literal", pos);
  }

  private skipBlank(pos: number): number {
    const s = this.text;
    let i = pos;
    while (i < s.length) {
      const c = s[i]!;
      if (
        c === " " ||
        c === "\t" ||
        c === "\n" ||
        c === "\r" ||
        c === "\u00a0" ||
        c === "\ufeff" ||
        c === "\u2028" ||
        c === "\u2029"
      ) {
        i++;
      } else if (c === "/" && s[i + 1] === "/") {
        while (i < s.length && s[i] !== "\n") i++;
      } else if (c === "/" && s[i + 1] === "*") {
        const end = s.indexOf("*/", i + 2);
        if (end < 0) throw new ReadError("syntax", "an unterminated comment", i);
        i = end + 2;
      } else break;
    }
    return i;
  }

  private number(i: number): Token {
    const s = this.text;
    const m = NUMBER.exec(s.slice(i, i + 400));
    if (m === null) throw new ReadError("syntax", "a malformed number", i);
    const end = i + m[0].length;
    const after = s[end];
    if (after === "n") throw new ReadError("unsafe", "a BigInt literal", i, "which spec expressions do not support");
    if (after === "_") throw new ReadError("unsafe", "a numeric separator", i, "which spec expressions do not support");
    if (after !== undefined && (isDigit(after) || ID_START.test(after) || after === "\\")) {
      throw new ReadError("syntax", "a malformed number", i);
    }
    const text = m[0];
    const value = /^0[oObB]/.test(text)
      ? parseInt(text.slice(2), text[1] === "o" || text[1] === "O" ? 8 : 2)
      : Number(text);
    if (/^0\d/.test(text))
      throw new ReadError("unsafe", "a legacy octal number", i, "which spec expressions do not support");
    return { kind: "num", value, start: i, end };
  }

  private string(i: number, quote: string): { cooked: string; end: number } {
    const s = this.text;
    let out = "";
    let j = i;
    while (j < s.length) {
      const c = s[j]!;
      if (c === quote) return { cooked: out, end: j + 1 };
      if (c === "\n" || c === "\r") break;
      if (c === "\\") {
        const e = this.escape(j + 1);
        out += e.text;
        j = e.end;
        continue;
      }
      out += c;
      j++;
    }
    throw new ReadError("syntax", "an unterminated string", i - 1);
  }

  /** The escape sequence whose backslash is just before `i`. */
  private escape(i: number): { text: string; end: number } {
    const s = this.text;
    const c = s[i];
    switch (c) {
      case undefined:
        throw new ReadError("syntax", "an unterminated string", i - 1);
      case "n":
        return { text: "\n", end: i + 1 };
      case "r":
        return { text: "\r", end: i + 1 };
      case "t":
        return { text: "\t", end: i + 1 };
      case "b":
        return { text: "\b", end: i + 1 };
      case "f":
        return { text: "\f", end: i + 1 };
      case "v":
        return { text: "\v", end: i + 1 };
      case "\r":
        return { text: "", end: s[i + 1] === "\n" ? i + 2 : i + 1 };
      case "\n":
      case "\u2028":
      case "\u2029":
        return { text: "", end: i + 1 };
      case "x": {
        const h = s.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new ReadError("syntax", "a malformed \\x escape", i - 1);
        return { text: String.fromCharCode(parseInt(h, 16)), end: i + 3 };
      }
      case "u": {
        if (s[i + 1] === "{") {
          const close = s.indexOf("}", i + 2);
          const h = close < 0 ? "" : s.slice(i + 2, close);
          const cp = /^[0-9a-fA-F]{1,6}$/.test(h) ? parseInt(h, 16) : NaN;
          if (!(cp <= 0x10ffff)) throw new ReadError("syntax", "a malformed \\u{…} escape", i - 1);
          return { text: String.fromCodePoint(cp), end: close + 1 };
        }
        const h = s.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) throw new ReadError("syntax", "a malformed \\u escape", i - 1);
        return { text: String.fromCharCode(parseInt(h, 16)), end: i + 5 };
      }
      default:
        if (c >= "0" && c <= "9") {
          if (c === "0" && !isDigit(s[i + 1])) return { text: "\0", end: i + 1 };
          throw new ReadError("unsafe", "a legacy octal escape", i - 1, "which spec expressions do not support");
        }
        return { text: c, end: i + 1 };
    }
  }
}

function isAsciiIdStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36;
}

function isAsciiIdPart(c: number): boolean {
  return isAsciiIdStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}
