/**
 * The fixed vocabulary of the safe expression language: the names it refuses everywhere, the
 * helpers it can call, which helper replaces a method call people commonly write, and what to say
 * about each JavaScript operator and keyword the language refuses.
 */

/** Names a spec expression can never use: as a name, a member, or a key (also computed keys). */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  "constructor", "__proto__", "prototype", "process", "globalThis", "require", "module", "eval", "Function",
]);

/** The helpers, the only functions a spec expression can call. */
export const HELPER_NAMES: ReadonlySet<string> = new Set([
  "len", "mag", "keys", "startsWith", "endsWith", "includes", "lower", "upper", "str", "num", "round", "floor",
  "ceil", "abs", "min", "max", "has", "isoDate",
]);

/** A method call people write (`s.trim()` is not one) → the helper call to write instead. */
export const METHOD_ADVICE: ReadonlyMap<string, string> = new Map([
  ["startsWith", "startsWith(s, prefix)"],
  ["endsWith", "endsWith(s, suffix)"],
  ["includes", "includes(s or array, x)"],
  ["toLowerCase", "lower(s)"],
  ["toUpperCase", "upper(s)"],
  ["toString", "str(x)"],
  ["toISOString", "isoDate(d)"],
  ["toJSON", "str(x)"],
  ["has", "has(object, key)"],
  ["hasOwnProperty", "has(object, key)"],
  ["keys", "keys(object)"],
  ["round", "round(x)"],
  ["floor", "floor(x)"],
  ["ceil", "ceil(x)"],
  ["abs", "abs(x)"],
  ["min", "min(a, b, …)"],
  ["max", "max(a, b, …)"],
  ["valueOf", "num(x)"],
  ["getTime", "num(d)"],
  ["toFixed", "round(x, digits)"],
]);

/** JavaScript operators and keywords outside the language, with what to say about them. */
export const REFUSED_OPERATORS: ReadonlyMap<string, [string, string]> = new Map([
  ["=", ["an assignment `=`", "which would change the program's state"]],
  ["+=", ["an assignment `+=`", "which would change the program's state"]],
  ["-=", ["an assignment `-=`", "which would change the program's state"]],
  ["*=", ["an assignment `*=`", "which would change the program's state"]],
  ["/=", ["an assignment `/=`", "which would change the program's state"]],
  ["%=", ["an assignment `%=`", "which would change the program's state"]],
  ["**=", ["an assignment `**=`", "which would change the program's state"]],
  ["<<=", ["an assignment `<<=`", "which would change the program's state"]],
  [">>=", ["an assignment `>>=`", "which would change the program's state"]],
  [">>>=", ["an assignment `>>>=`", "which would change the program's state"]],
  ["&=", ["an assignment `&=`", "which would change the program's state"]],
  ["|=", ["an assignment `|=`", "which would change the program's state"]],
  ["^=", ["an assignment `^=`", "which would change the program's state"]],
  ["&&=", ["an assignment `&&=`", "which would change the program's state"]],
  ["||=", ["an assignment `||=`", "which would change the program's state"]],
  ["??=", ["an assignment `??=`", "which would change the program's state"]],
  ["++", ["an update `++`", "which would change the program's state"]],
  ["--", ["an update `--`", "which would change the program's state"]],
  [",", ["a comma sequence", "which spec expressions do not have (one expression only)"]],
  [";", ["a `;`", "which spec expressions do not have (one expression only)"]],
  ["=>", ["an arrow function", "which spec expressions cannot define"]],
  ["&", ["the bitwise operator `&`", "which spec expressions do not have"]],
  ["|", ["the bitwise operator `|`", "which spec expressions do not have"]],
  ["^", ["the bitwise operator `^`", "which spec expressions do not have"]],
  ["~", ["the bitwise operator `~`", "which spec expressions do not have"]],
  ["<<", ["the shift operator `<<`", "which spec expressions do not have"]],
  [">>", ["the shift operator `>>`", "which spec expressions do not have"]],
  [">>>", ["the shift operator `>>>`", "which spec expressions do not have"]],
  ["...", ["a spread `...`", "which spec expressions do not have"]],
  ["#", ["a private name", "which spec expressions cannot read"]],
  ["@", ["a decorator", "which spec expressions do not have"]],
  ["instanceof", ["the operator `instanceof`", "which could run a user's Symbol.hasInstance"]],
  ["in", ["the operator `in`", "which could run a Proxy's trap; use has(object, key)"]],
]);

/** Keywords outside the language, with what to say about them. */
export const REFUSED_WORDS: ReadonlyMap<string, [string, string]> = new Map([
  ["new", ["`new`", "which would run a constructor"]],
  ["delete", ["`delete`", "which would change the program's state"]],
  ["void", ["`void`", "which spec expressions do not have (write undefined)"]],
  ["function", ["a function", "which spec expressions cannot define"]],
  ["class", ["a class", "which spec expressions cannot define"]],
  ["import", ["`import`", "which spec expressions cannot reach"]],
  ["super", ["`super`", "which spec expressions cannot reach"]],
  ["await", ["`await`", "which spec expressions do not have"]],
  ["yield", ["`yield`", "which spec expressions do not have"]],
  ["arguments", ["`arguments`", "which spec expressions cannot reach (use args)"]],
  ["debugger", ["`debugger`", "which spec expressions do not have"]],
  ["with", ["`with`", "which spec expressions do not have"]],
  ["let", ["`let`", "which spec expressions do not have"]],
  ["var", ["`var`", "which spec expressions do not have"]],
  ["const", ["`const`", "which spec expressions do not have"]],
  ["throw", ["`throw`", "which spec expressions do not have"]],
  ["return", ["`return`", "which spec expressions do not have"]],
  ["if", ["`if`", "which spec expressions do not have (use a ? b : c)"]],
  ["for", ["`for`", "which spec expressions do not have"]],
  ["while", ["`while`", "which spec expressions do not have"]],
  ["do", ["`do`", "which spec expressions do not have"]],
  ["switch", ["`switch`", "which spec expressions do not have"]],
  ["try", ["`try`", "which spec expressions do not have"]],
  ["in", ["the operator `in`", "which could run a Proxy's trap; use has(object, key)"]],
  ["instanceof", ["the operator `instanceof`", "which could run a user's Symbol.hasInstance"]],
  ["enum", ["`enum`", "which spec expressions do not have"]],
  ["export", ["`export`", "which spec expressions do not have"]],
  ["extends", ["`extends`", "which spec expressions do not have"]],
]);
