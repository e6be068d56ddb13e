/**
 * Source maps: magic-string's map of our insertions, composed with the map of an earlier stage
 * so stacks point at the original .ts line and column.
 */
import type remapping from "@jridgewell/remapping";
import type MagicString from "magic-string";
import type { Bundle } from "magic-string";
import { basename } from "node:path";
import type { SourceMapV3 } from "./types.js";
import { remapping as loadRemapping } from "./dependencies.js";

export function generateMap(s: MagicString | Bundle, filename: string, inputSourceMap: SourceMapV3 | null): SourceMapV3 {
  // "boundary": one mapping per word boundary, so a column inside a line maps exactly. A Bundle
  // (a module with outlined copies) names its sources itself: all are `filename`.
  const options = { hires: "boundary" as const, includeContent: true, file: basename(filename) };
  const map = "addSource" in s ? s.generateMap(options) : s.generateMap({ ...options, source: filename });
  const own: SourceMapV3 = {
    version: 3,
    file: map.file ?? basename(filename),
    sources: map.sources,
    sourcesContent: (map.sourcesContent ?? []) as string[],
    names: map.names,
    mappings: map.mappings,
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
