/**
 * Nesting limits. SWC's parser recurses on the native stack of the calling thread and, past a few
 * thousand levels of brackets or chained arrows, overflows it: the process dies (SIGSEGV), with
 * no exception to catch. So text is measured before it reaches the parser, by a linear scan that
 * needs no parse. After the parse, the tree's depth is measured iteratively, because the walk
 * recurses on the JavaScript stack once per level and must not overflow it either.
 *
 * Both limits are far above what people write and far below where either stack gives out
 * (docs/instrument.md, "Limits"; the measured thresholds are in docs/benchmarks.md).
 */
import { forEachChild, type AnyNode } from "./ast.js";
import { endOfBlockComment, endOfLineComment, endOfQuotedString } from "./lexical.js";

/** Deepest nesting of brackets and chained arrows the text may have before it is parsed. */
export const MAX_TEXT_NESTING = 1000;
/** Deepest syntax tree the walk takes (nodes from the program to the deepest leaf). */
export const MAX_TREE_DEPTH = 1000;
/** `else` chains nest too, but SWC takes far more of them than of brackets: each counts this little. */
const ELSE_WEIGHT = 1 / 8;

export interface NestingProblem {
  /** UTF-16 index where the limit was passed. */
  index: number;
  /** What is nested too deeply, for the message. */
  what: string;
  limit: number;
}

const OPEN = new Set([40 /* ( */, 91 /* [ */, 123 /* { */]);
const CLOSE = new Set([41 /* ) */, 93 /* ] */, 125 /* } */]);

/**
 * Where the text nests brackets (`(`, `[`, `{`, `${`) plus chained arrows (`() => () => …`) plus
 * a fraction of the `else` keywords of a block deeper than MAX_TEXT_NESTING, or undefined. Strings, template text and comments are skipped;
 * a regular expression literal is read as code, which can only overestimate by its brackets.
 * Linear in the text, no allocation per character.
 */
export function textNestingProblem(code: string, limit = MAX_TEXT_NESTING): NestingProblem | undefined {
  // Per open bracket: its kind (a template's `${` closes back into template text) and the arrows
  // chained at its level since the last `,` or `;` (each nests the rest as the arrow's body).
  const kinds: number[] = [];
  const arrows: number[] = [0];
  // Per open bracket: the `else` keywords at its level (an else-if chain nests without brackets).
  const elsesAt: number[] = [0];
  let depth = 0;
  let chained = 0;
  let elses = 0;
  let i = 0;
  const n = code.length;
  const template = (): void => {
    // In template text after a backtick or a `}` that closed `${`: up to the closing backtick or `${`.
    while (i < n) {
      const c = code.charCodeAt(i);
      if (c === 92 /* \ */) i += 2;
      else if (c === 96 /* ` */) {
        i++;
        return;
      } else if (c === 36 /* $ */ && code.charCodeAt(i + 1) === 123) {
        i += 2;
        kinds.push(1);
        arrows.push(0);
        elsesAt.push(0);
        depth++;
        return;
      } else i++;
    }
  };
  while (i < n) {
    const c = code.charCodeAt(i);
    if (c === 47 /* / */ && code.charCodeAt(i + 1) === 47) {
      i = endOfLineComment(code, i);
      continue;
    }
    if (c === 47 && code.charCodeAt(i + 1) === 42 /* * */) {
      i = endOfBlockComment(code, i);
      continue;
    }
    if (c === 34 /* " */ || c === 39 /* ' */) {
      i = endOfQuotedString(code, i);
      continue;
    }
    if (c === 96) {
      i++;
      template();
    } else if (OPEN.has(c)) {
      kinds.push(0);
      arrows.push(0);
      elsesAt.push(0);
      depth++;
      i++;
    } else if (CLOSE.has(c)) {
      i++;
      if (kinds.length > 0) {
        chained -= arrows.pop()!;
        elses -= elsesAt.pop()!;
        depth--;
        if (kinds.pop() === 1 && c === 125) template();
      }
      continue;
    } else if (c === 61 /* = */ && code.charCodeAt(i + 1) === 62 /* > */) {
      arrows[arrows.length - 1]!++;
      chained++;
      i += 2;
    } else if (
      c === 101 /* e */ &&
      code.startsWith("else", i) &&
      !isIdentifierChar(code.charCodeAt(i - 1)) &&
      !isIdentifierChar(code.charCodeAt(i + 4))
    ) {
      elses++;
      elsesAt[elsesAt.length - 1]!++;
      i += 4;
    } else if (c === 44 /* , */ || c === 59 /* ; */) {
      chained -= arrows[arrows.length - 1]!;
      arrows[arrows.length - 1] = 0;
      i++;
      continue;
    } else {
      i++;
      continue;
    }
    if (depth + chained + elses * ELSE_WEIGHT > limit)
      return { index: i - 1, what: "brackets, arrow functions and else branches", limit };
  }
  return undefined;
}

function isIdentifierChar(c: number): boolean {
  // NaN (out of range) is no identifier character; non-ASCII letters count as one.
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 36 || c === 95 || c > 127;
}

/** A stack overflow (V8's RangeError), which the walk turns into a skipped file. */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/**
 * The first node (in a depth-first walk) deeper than `limit` in the tree, or undefined. Iterative,
 * so any depth is measured without recursion.
 */
export function treeDepthProblem(root: AnyNode, limit = MAX_TREE_DEPTH): { node: AnyNode; limit: number } | undefined {
  const nodes: AnyNode[] = [root];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > limit) return { node, limit };
    forEachChild(node, (child) => {
      nodes.push(child);
      depths.push(depth + 1);
    });
  }
  return undefined;
}
