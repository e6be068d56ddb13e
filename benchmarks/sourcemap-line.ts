/**
 * The first generated line that maps to a given original line, read from a version 3 source map
 * (only what the inspector peer needs: SWC reprints code, so lines can move).
 */
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function decodeSegment(text: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of text) {
    const digit = B64.indexOf(ch);
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** 1-based generated line for 1-based `originalLine` of source 0, or undefined. */
export function generatedLineFor(mappings: string, originalLine: number): number | undefined {
  let srcLine = 0;
  let best: number | undefined;
  const lines = mappings.split(";");
  for (let gen = 0; gen < lines.length; gen++) {
    for (const seg of lines[gen]!.split(",")) {
      if (seg === "") continue;
      const f = decodeSegment(seg);
      if (f.length >= 4) {
        srcLine += f[2]!;
        if (srcLine === originalLine - 1 && best === undefined) best = gen + 1;
      }
    }
  }
  return best;
}
