/**
 * Source maps: magic-string's map of our insertions, composed with the map of an earlier stage
 * so stacks point at the original .ts line and column. The copies of outlined functions are
 * separate magic-strings over their bodies alone; their maps are shifted to where each body
 * stands in the original and appended line by line, which keeps the whole map linear in the
 * size of the module.
 */
import type remapping from "@jridgewell/remapping";
import { basename } from "node:path";
import { outputParts, type ModuleOutput, type OutlinedCopy } from "./edit.js";
import type { SourceMapV3 } from "./types.js";
import { remapping as loadRemapping } from "./dependencies.js";

/** A decoded segment: [generated column, source index, source line, source column(, name index)]. */
type Segment = number[];

export function generateMap(output: ModuleOutput, filename: string, inputSourceMap: SourceMapV3 | null): SourceMapV3 {
  // "boundary": one mapping per word boundary, so a column inside a line maps exactly.
  const main = output.main.generateDecodedMap({
    hires: "boundary",
    includeContent: true,
    source: filename,
    file: basename(filename),
  });
  const lines: Segment[][] = main.mappings as Segment[][];
  const parts = outputParts(output);
  const mainLines = lineCount(parts.main);
  while (lines.length < mainLines) lines.push([]);
  lines.length = mainLines;
  const names = [...main.names];
  for (let k = 0; k < output.copies.length; k++) {
    const copy = output.copies[k]!;
    const decoded = copy.s.generateDecodedMap({ hires: "boundary" }).mappings as Segment[][];
    const copyLines = lineCount(parts.copies[k]!);
    const first = lines.length;
    for (let l = 0; l < copyLines; l++) {
      const segments = decoded[l] ?? [];
      for (const segment of segments) {
        if (segment.length < 4) continue;
        // Source line 0 of the copy is the body's first line, which starts at the body's column.
        if (segment[2] === 0) segment[3]! += copy.column;
        segment[2]! += copy.line;
        segment[1] = 0;
        segment.length = 4;
      }
      lines.push(segments);
    }
    nameCopy(lines, first, parts.copies[k]!, copy, names);
  }
  const own: SourceMapV3 = {
    version: 3,
    file: basename(filename),
    sources: [filename],
    sourcesContent: [(main.sourcesContent?.[0] ?? null) as string],
    names,
    mappings: encodeMappings(lines),
  };
  if (!inputSourceMap) return own;
  type Input = Exclude<Parameters<typeof remapping>[0], unknown[]>;
  const composed = loadRemapping()(own as Input, (source) => (source === filename ? (inputSourceMap as Input) : null));
  return {
    version: 3,
    file: composed.file ?? basename(filename),
    sources: composed.sources,
    sourcesContent: composed.sourcesContent ?? [],
    names: composed.names,
    mappings: composed.mappings as string,
  };
}

/**
 * Names the copy in the map, at its key (where V8 says a method starts). Node's source-map support
 * renames a frame after the map's name at the start of its function, or else after the name at
 * the call site in the frame below: for a copy that was `call` (the guard's `$dgO1.call(…)`, named
 * by a later stage's map such as SWC's), so a stack showed `at call` where the function is `check`.
 */
function nameCopy(lines: Segment[][], first: number, text: string, copy: OutlinedCopy, names: string[]): void {
  if (copy.binding === undefined || copy.key === undefined || copy.key === "") return;
  const open = `${copy.binding} = { `;
  const at = text.indexOf(open);
  if (at < 0) return;
  let line = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < at; i = text.indexOf("\n", i + 1)) line++;
  const column = at - (text.lastIndexOf("\n", at) + 1) + open.length;
  const segments = lines[first + line];
  if (segments === undefined) return;
  names.push(copy.key);
  segments.push([column, 0, copy.line, copy.column, names.length - 1]);
  segments.sort((a, b) => a[0]! - b[0]!);
}

function lineCount(text: string): number {
  let count = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) count++;
  return count;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** The `mappings` string of decoded segments (source map v3: base64 VLQ, fields relative). */
export function encodeMappings(lines: readonly (readonly Segment[])[]): string {
  let out = "";
  let source = 0;
  let sourceLine = 0;
  let sourceColumn = 0;
  let name = 0;
  for (let l = 0; l < lines.length; l++) {
    if (l > 0) out += ";";
    let column = 0;
    const segments = lines[l]!;
    for (let k = 0; k < segments.length; k++) {
      const seg = segments[k]!;
      if (k > 0) out += ",";
      out += vlq(seg[0]! - column);
      column = seg[0]!;
      if (seg.length >= 4) {
        out += vlq(seg[1]! - source) + vlq(seg[2]! - sourceLine) + vlq(seg[3]! - sourceColumn);
        source = seg[1]!;
        sourceLine = seg[2]!;
        sourceColumn = seg[3]!;
        if (seg.length >= 5) {
          out += vlq(seg[4]! - name);
          name = seg[4]!;
        }
      }
    }
  }
  return out;
}

/** One-digit values (the common case: small deltas) come from this table. */
const SMALL: string[] = Array.from({ length: 32 }, (_, v) => BASE64[v < 16 ? v << 1 : ((v - 16) << 1) | 1]!);

function vlq(value: number): string {
  if (value > -16 && value < 16) return SMALL[value < 0 ? 16 - value : value]!;
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = "";
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += BASE64[digit];
  } while (v > 0);
  return out;
}
