/**
 * Keeping the site-ABI header first in CommonJS output.
 *
 * The ABI requires that in CJS output the statement defining the module handle
 * (`var $dg = (globalThis[Symbol.for("diagnose.registry")] ??= …).register(…);`) is the first
 * statement, before any `require`: a `require` cycle partner may call a function of this module
 * before its body ran, and that function's guards read flags that `register()` defines. SWC's
 * ESM→CJS pass hoists every `import` (now a `require`) above all other statements, so the
 * integrations take the header out of the instrumented TypeScript before SWC runs (where
 * `instrument()` reports it: `InstrumentResult.header`) and put it back after the directive
 * prologue of SWC's output.
 */
import { MODULE_HANDLE, handleName } from "../../abi/index.js";

/**
 * Where the header statement is in `code`: `[start, end)`, or undefined if there is none. For code
 * whose `instrument()` result is at hand, `InstrumentResult.header` says the same without a search.
 */
export function findHeader(code: string, moduleHash: string): [number, number] | undefined {
  const handles = [handleName(moduleHash), MODULE_HANDLE].map((h) => h.replace(/\$/g, "\\$")).join("|");
  const re = new RegExp(`\\b(?:const|let|var)\\s+(?:${handles})\\s*=`, "g");
  const m = re.exec(code);
  if (m === null) return undefined;
  const start = m.index;
  let depth = 0;
  for (let i = m.index + m[0].length; i < code.length; i++) {
    const c = code[i]!;
    if (c === '"' || c === "'" || c === "`") {
      i = skipString(code, i);
    } else if (c === "(" || c === "[" || c === "{") {
      depth++;
    } else if (c === ")" || c === "]" || c === "}") {
      depth--;
    } else if (depth === 0 && c === ";") {
      return [start, i + 1];
    } else if (depth === 0 && c === "\n") {
      return [start, i];
    }
  }
  return depth === 0 ? [start, code.length] : undefined;
}

/**
 * `code` with `[start, end)` replaced by spaces, newlines kept, so that every other position and
 * therefore the instrumenter's source map stay valid.
 */
export function blankOut(code: string, [start, end]: [number, number]): string {
  return code.slice(0, start) + code.slice(start, end).replace(/[^\n\r]/g, " ") + code.slice(end);
}

/**
 * The offset in compiled JavaScript after the hashbang and the directive prologue (`"use strict";`
 * and friends): where the header goes.
 */
export function afterPrologue(code: string): number {
  let i = 0;
  if (code.startsWith("#!")) {
    const nl = code.indexOf("\n");
    i = nl === -1 ? code.length : nl + 1;
  }
  for (;;) {
    const j = skipTrivia(code, i);
    const c = code[j];
    if (c !== '"' && c !== "'") return i;
    const close = skipString(code, j);
    const k = skipInlineSpace(code, close + 1);
    if (code[k] === ";") {
      i = k + 1;
    } else if (code[k] === "\n" || k >= code.length) {
      i = k;
    } else {
      return i; // a string expression that is not a directive, e.g. "a" + b
    }
  }
}

function skipString(code: string, i: number): number {
  const quote = code[i];
  let j = i + 1;
  while (j < code.length && code[j] !== quote) j += code[j] === "\\" ? 2 : 1;
  return j;
}

function skipInlineSpace(code: string, i: number): number {
  while (code[i] === " " || code[i] === "\t") i++;
  return i;
}

function skipTrivia(code: string, i: number): number {
  for (;;) {
    while (i < code.length && /\s/.test(code[i]!)) i++;
    if (code.startsWith("//", i)) {
      const nl = code.indexOf("\n", i);
      i = nl === -1 ? code.length : nl + 1;
    } else if (code.startsWith("/*", i)) {
      const end = code.indexOf("*/", i + 2);
      i = end === -1 ? code.length : end + 2;
    } else {
      return i;
    }
  }
}
