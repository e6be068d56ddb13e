/**
 * The pieces of JavaScript's lexical grammar that the text scans before a parse share
 * (nesting.ts measures nesting, integrations/shared/strip-in-place.ts looks for syntax that needs
 * lowering): where a comment or a quoted string that starts at an index ends. Each takes the index
 * of the opening character and answers the index just past the closing one (or the text's end).
 */

/** `start` at the first `/` of `//`: the index after the line's newline. */
export function endOfLineComment(code: string, start: number): number {
  const end = code.indexOf("\n", start + 2);
  return end < 0 ? code.length : end + 1;
}

/** `start` at the `/` of `/*`: the index after the closing `*` `/`. */
export function endOfBlockComment(code: string, start: number): number {
  const end = code.indexOf("*/", start + 2);
  return end < 0 ? code.length : end + 2;
}

/**
 * `start` at a `"` or `'`: the index after the matching quote. An unterminated string ends at its
 * line's newline (a string cannot span lines without a backslash), so one error cannot swallow
 * the rest of the text.
 */
export function endOfQuotedString(code: string, start: number): number {
  const quote = code.charCodeAt(start);
  const n = code.length;
  let i = start + 1;
  while (i < n) {
    const c = code.charCodeAt(i);
    if (c === 92 /* \ */) i += 2;
    else if (c === quote || c === 10 /* \n */) return i + 1;
    else i++;
  }
  return n;
}
