/**
 * Positions in the original text. SWC reports spans as UTF-8 byte positions in a source map that
 * may be shared by every parse of the process (older @swc/core versions keep growing the offsets,
 * swc-project/swc#1366), after stripping a BOM. Everything else in the transformer works with
 * UTF-16 indexes into the string it was given, so all conversions live here.
 */

const BOM = "\uFEFF";

export interface Positions {
  /** UTF-16 index into the original text of an SWC span position. */
  index(swcPos: number): number;
  /** 1-based line and 0-based UTF-16 column of an index (lines split at "\n", like source maps). */
  lineColumn(index: number): { line: number; column: number };
}

/**
 * Index of the first token after leading trivia (whitespace, comments) or of a hashbang; this is
 * where SWC starts the Module/Script span, which is how we find the byte base of this parse.
 */
export function firstTokenIndex(text: string, from = 0): number {
  if (text.startsWith("#!", from)) return from;
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 47) {
      i += 2;
      while (i < text.length && !isLineTerminator(text.charCodeAt(i))) i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) return text.length;
      i = end + 2;
    } else if (isWhitespace(c)) {
      i++;
    } else {
      return i;
    }
  }
  return i;
}

function isLineTerminator(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

function isWhitespace(c: number): boolean {
  if (c === 32 || (c >= 9 && c <= 13)) return true;
  if (c < 128) return false;
  return /\s/.test(String.fromCharCode(c));
}

/**
 * Builds the converter for one parse. `moduleSpanStart` is `program.span.start`, which SWC puts at
 * the first token (see firstTokenIndex), so the base needs no global state and survives the
 * growing-offset behaviour of older versions.
 */
export function createPositions(code: string, moduleSpanStart: number): Positions {
  const bomLength = code.startsWith(BOM) ? 1 : 0;
  const text = bomLength ? code.slice(1) : code;
  const first = firstTokenIndex(text);
  // eslint-disable-next-line no-control-regex
  const ascii = !/[^\x00-\x7f]/.test(text);
  const base = moduleSpanStart - (ascii ? first : Buffer.byteLength(text.slice(0, first)));

  let byteToIndex: Uint32Array | undefined;
  if (!ascii) {
    // One entry per UTF-8 byte: O(1) lookups for the thousands of spans of a large file.
    byteToIndex = new Uint32Array(Buffer.byteLength(text) + 1);
    let b = 0;
    for (let i = 0; i < text.length; i++) {
      const cp = text.codePointAt(i)!;
      const bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      for (let k = 0; k < bytes; k++) byteToIndex[b + k] = i;
      b += bytes;
      if (cp >= 0x10000) i++;
    }
    byteToIndex[b] = text.length;
  }

  const lineStarts = [0];
  for (let i = code.indexOf("\n"); i >= 0; i = code.indexOf("\n", i + 1)) lineStarts.push(i + 1);

  return {
    index(swcPos) {
      const byte = swcPos - base;
      const i = byteToIndex ? (byteToIndex[byte] ?? text.length) : byte;
      return i + bomLength;
    },
    lineColumn(index) {
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (lineStarts[mid]! <= index) lo = mid;
        else hi = mid - 1;
      }
      return { line: lo + 1, column: index - lineStarts[lo]! };
    },
  };
}
