/**
 * Deferred copies (site ABI 4, docs/site-abi.md "Deferred copies"): the text that creates a
 * module's outlined functions' copies, kept out of the module and evaluated by its binder when a
 * probe first needs one of them.
 *
 * The text is laid out for stacks: each copy starts on the line its body starts on in the original
 * (newlines pad the gaps; two copies that start on one line share it), and it ends with
 * `//# sourceURL=<filename>`, so V8 names a frame in a copy after the original file and line even
 * without source maps. Its own source map (to the original file) lets a later stage that rewrites
 * the text (the Node loader's type strip) compose its map with it.
 */
import { createHash } from "node:crypto";
import type { OutlinedCopy } from "./edit.js";
import { encodeMappings } from "./source-map.js";
import type { DeferredCopies, SourceMapV3 } from "./types.js";

type Segment = number[];

/** The lower-case hex sha256 of copy text: what a table's `c` holds. */
export function copyTextHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The copy text of `copies` (edit.ts applyPlan, deferred), its hash and, with `sourceMap`, its map.
 * `sourceURL`: what the text names itself after (default: `filename`).
 */
export function deferredCopies(
  copies: readonly OutlinedCopy[],
  filename: string,
  sourceMap: boolean,
  sourceURL: string = filename,
): DeferredCopies {
  let text = "";
  let line = 0;
  let column = 0;
  const lines: Segment[][] = [[]];
  for (const copy of copies) {
    if (copy.line > line) {
      text += "\n".repeat(copy.line - line);
      for (let k = line; k < copy.line; k++) lines.push([]);
      line = copy.line;
      column = 0;
    } else if (text !== "") {
      text += " ";
      column += 1;
    }
    const part = copy.s.toString();
    if (sourceMap) {
      const decoded = copy.s.generateDecodedMap({ hires: "boundary" }).mappings as Segment[][];
      decoded.forEach((segments, l) => {
        const target = lines[line + l] ?? (lines[line + l] = []);
        for (const segment of segments) {
          if (segment.length < 4) continue;
          const shifted = [segment[0]! + (l === 0 ? column : 0), 0, segment[2]! + copy.line, segment[3]!];
          // Source line 0 of the copy is the body's first line, which starts at the body's column.
          if (segment[2] === 0) shifted[3]! += copy.column;
          target.push(shifted);
        }
      });
    }
    text += part;
    const breaks = part.split("\n");
    if (breaks.length > 1) {
      line += breaks.length - 1;
      column = breaks[breaks.length - 1]!.length;
    } else column += part.length;
    while (lines.length <= line) lines.push([]);
  }
  // A sourceURL may not hold whitespace (V8 stops at it); a newline before it ends any line comment.
  text += `\n//# sourceURL=${sourceURL.replace(/\s/g, encodeURIComponent)}`;
  const map: SourceMapV3 | null = sourceMap
    ? { version: 3, sources: [filename], names: [], mappings: encodeMappings(lines) }
    : null;
  return { hash: copyTextHash(text), text, map };
}
