// A real third-party markdown parser's work: @lezer/markdown (CodeMirror's parser) parsing a
// fixed 1 KB document into a syntax tree once per operation. The parser is compiled from the
// TypeScript sources in its npm package with the same build as this file; its dependencies
// (@lezer/common, @lezer/highlight) ship only JavaScript and are loaded as they are. Deep import:
// the package index re-exports interfaces by name, which a per-file type strip cannot tell from
// values.
import { parser } from "@lezer/markdown/markdown";

const DOC = [
  "# Release notes",
  "",
  "Some *emphasis*, some **strong text**, `inline code` and a [link](https://example.com/a?b=c).",
  "",
  "- first item with `code`",
  "- second item, *nested emphasis*",
  "  - a nested item",
  "- third item",
  "",
  "1. ordered",
  "2. list with [a reference][ref]",
  "",
  "> A quote that goes on",
  "> over two lines with **bold**.",
  "",
  "```ts",
  "const x: number = 1;",
  "console.log(x);",
  "```",
  "",
  'A paragraph with an ![image](img.png "title") and some &amp; entities &copy; and a hard',
  "break  ",
  "here. Then <span>inline html</span> and an autolink <https://example.org>.",
  "",
  "---",
  "",
  "[ref]: https://example.com/ref",
  "",
].join("\n");

const TEXT = DOC;

export function op(i: number): number {
  // The op index varies the input's last character so no result is constant across ops.
  const tree = parser.parse(i & 1 ? TEXT : `${TEXT}x`);
  return tree.length;
}
