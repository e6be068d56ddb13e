/**
 * A small scanner for instrument expressions. It does not parse JavaScript; it finds the
 * identifiers an expression may read (so the compiled function declares only those), tells a bare
 * name from an expression, and checks that the text cannot close the `return (…)` it is compiled
 * into. Over-reporting identifiers is harmless (an extra unused declaration); under-reporting
 * would leave a name unbound, so anything unclear counts as an identifier.
 */

const IDENT_START = /[A-Za-z_$\u00C0-\uFFFF]/;
const IDENT_PART = /[\w$\u00C0-\uFFFF\u200C\u200D]/;
const BARE = /^\s*([A-Za-z_$][\w$]*)\s*$/;

/** Words that can never be a declared binding of the compiled function. */
export const RESERVED = new Set([
  "arguments",
  "await",
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "enum",
  "eval",
  "export",
  "extends",
  "false",
  "finally",
  "for",
  "function",
  "if",
  "implements",
  "import",
  "in",
  "instanceof",
  "interface",
  "let",
  "new",
  "null",
  "package",
  "private",
  "protected",
  "public",
  "return",
  "static",
  "super",
  "switch",
  "this",
  "throw",
  "true",
  "try",
  "typeof",
  "var",
  "void",
  "while",
  "with",
  "yield",
  "undefined",
  "NaN",
  "Infinity",
]);

/** After these tokens a `/` starts a regular expression, not a division. */
const REGEX_AFTER = new Set([
  "",
  "...",
  "(",
  ",",
  "=",
  ":",
  "[",
  "!",
  "&",
  "|",
  "?",
  "{",
  "}",
  ";",
  "+",
  "-",
  "*",
  "%",
  "<",
  ">",
  "~",
  "^",
]);
const REGEX_AFTER_WORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
]);

export interface ScanResult {
  /** Identifier names the expression may read (property names after `.` excluded). */
  readonly identifiers: ReadonlySet<string>;
  /** The name, when the whole expression is a single identifier. */
  readonly bare: string | undefined;
}

/** Throws a string describing the problem when the text is not one balanced expression. */
export function scanExpression(source: string): ScanResult {
  const bareMatch = BARE.exec(source);
  if (bareMatch !== null && !RESERVED.has(bareMatch[1]!)) {
    return { identifiers: new Set([bareMatch[1]!]), bare: bareMatch[1]! };
  }
  const identifiers = new Set<string>();
  // Stack of open brackets; a "${" entry marks a template substitution.
  const stack: string[] = [];
  let i = 0;
  let last = ""; // last significant token (punctuator or word), for regex detection
  let afterDot = false;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) throw "an unterminated comment";
      i = end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipString(source, i, c);
      last = "str";
      afterDot = false;
      continue;
    }
    if (c === "`") {
      i = skipTemplate(source, i + 1, stack);
      last = stack[stack.length - 1] === "${" ? "{" : "str";
      afterDot = false;
      continue;
    }
    if (c === "/" && (REGEX_AFTER.has(last) || REGEX_AFTER_WORDS.has(last))) {
      i = skipRegex(source, i + 1);
      last = "re";
      afterDot = false;
      continue;
    }
    if (IDENT_START.test(c) || c === "\\") {
      let j = i + 1;
      while (j < n && (IDENT_PART.test(source[j]!) || source[j] === "\\")) j++;
      const word = source.slice(i, j);
      if (!afterDot && !word.includes("\\") && !isPropertyKey(source, j, stack, last)) identifiers.add(word);
      last = word;
      afterDot = false;
      i = j;
      continue;
    }
    if (c >= "0" && c <= "9") {
      let j = i + 1;
      while (j < n && /[\w.]/.test(source[j]!)) j++;
      i = j;
      last = "num";
      afterDot = false;
      continue;
    }
    if (c === "#") {
      // A private name (`#x in o`, `o.#x`): never a binding.
      let j = i + 1;
      while (j < n && IDENT_PART.test(source[j]!)) j++;
      i = j;
      last = "num";
      afterDot = false;
      continue;
    }
    if (c === "." && source[i + 1] === "." && source[i + 2] === ".") {
      // Spread or rest: the name after it is read, not a property.
      i += 3;
      last = "...";
      afterDot = false;
      continue;
    }
    if (c === "(" || c === "[" || c === "{") stack.push(c);
    else if (c === ")" || c === "]" || c === "}") {
      const open = stack.pop();
      if (open === "${" && c === "}") {
        i = skipTemplate(source, i + 1, stack);
        last = stack[stack.length - 1] === "${" ? "{" : "str";
        afterDot = false;
        continue;
      }
      if (open === undefined || open !== { ")": "(", "]": "[", "}": "{" }[c]) throw `an unbalanced "${c}"`;
    } else if (c === ";") {
      if (stack.length === 0) throw 'a ";" (one expression only)';
    }
    afterDot = c === "." && source[i + 1] !== ".";
    if (c === "?" && source[i + 1] === ".") {
      afterDot = true;
      i += 2;
      last = ".";
      continue;
    }
    last = c;
    i++;
  }
  if (stack.length > 0) throw `an unclosed "${stack[stack.length - 1]}"`;
  return { identifiers, bare: undefined };
}

/** `{ word: …` or `, word: …` inside braces: an object literal's key (or a label), not a read. */
function isPropertyKey(s: string, end: number, stack: readonly string[], last: string): boolean {
  if (stack[stack.length - 1] !== "{" || (last !== "{" && last !== ",")) return false;
  let k = end;
  while (k < s.length && (s[k] === " " || s[k] === "\t" || s[k] === "\n" || s[k] === "\r")) k++;
  return s[k] === ":";
}

function skipString(s: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < s.length) {
    const c = s[j]!;
    if (c === "\\") {
      j += 2;
      continue;
    }
    if (c === quote) return j + 1;
    if (c === "\n") break;
    j++;
  }
  throw "an unterminated string";
}

/** From just after a backtick or a substitution's `}`: to after the closing backtick, or into `${`. */
function skipTemplate(s: string, i: number, stack: string[]): number {
  let j = i;
  while (j < s.length) {
    const c = s[j]!;
    if (c === "\\") {
      j += 2;
      continue;
    }
    if (c === "`") return j + 1;
    if (c === "$" && s[j + 1] === "{") {
      stack.push("${");
      return j + 2;
    }
    j++;
  }
  throw "an unterminated template literal";
}

function skipRegex(s: string, i: number): number {
  let j = i;
  let inClass = false;
  while (j < s.length) {
    const c = s[j]!;
    if (c === "\\") {
      j += 2;
      continue;
    }
    if (c === "\n") break;
    if (inClass) {
      if (c === "]") inClass = false;
    } else if (c === "[") inClass = true;
    else if (c === "/") {
      j++;
      while (j < s.length && /[a-z]/i.test(s[j]!)) j++;
      return j;
    }
    j++;
  }
  throw "an unterminated regular expression";
}
