/** Plain-text tables for the store commands: columns padded to their widest cell, no borders. */

/** Rows of cells under a header; the last column is not padded (it may be long: errors). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** "4s ago", "3m ago", "2h ago", "5d ago"; "in the future" for a clock ahead of ours. */
export function age(then: Date, now: Date): string {
  const ms = now.getTime() - then.getTime();
  if (!Number.isFinite(ms)) return "unknown";
  if (ms < -1000) return "in the future";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.round(h / 24)}d ago`;
}

/** One line of text, cut to `max` characters (errors and expressions in table cells). */
export function cell(text: string, max = 80): string {
  const one = text.replace(/\s*\n\s*/g, " ");
  return one.length <= max ? one : one.slice(0, max - 1) + "…";
}
