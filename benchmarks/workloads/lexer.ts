// A real third-party lexer's work: chevrotain's Lexer tokenizing a ~1 KB snippet of a small
// JSON-like language once per operation. chevrotain is compiled from the TypeScript sources in
// its npm package with the same build as this file; its helper packages (@chevrotain/*) ship only
// JavaScript and are loaded as they are. Deep imports: chevrotain's api.ts re-exports types by
// name, which a per-file type strip cannot tell from values.
import { Lexer } from "chevrotain/scan/lexer_public";
import { createToken } from "chevrotain/scan/tokens_public";

const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\n\r]+/, group: Lexer.SKIPPED });
const Comment = createToken({ name: "Comment", pattern: /\/\/[^\n]*/, group: Lexer.SKIPPED });
const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^\\"]|\\(?:[bfnrtv"\\/]|u[0-9a-fA-F]{4}))*"/,
});
const NumberLiteral = createToken({ name: "NumberLiteral", pattern: /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/ });
const Identifier = createToken({ name: "Identifier", pattern: /[a-zA-Z_][a-zA-Z0-9_]*/ });
const True = createToken({ name: "True", pattern: /true/, longer_alt: Identifier });
const False = createToken({ name: "False", pattern: /false/, longer_alt: Identifier });
const Null = createToken({ name: "Null", pattern: /null/, longer_alt: Identifier });
const LCurly = createToken({ name: "LCurly", pattern: /{/ });
const RCurly = createToken({ name: "RCurly", pattern: /}/ });
const LSquare = createToken({ name: "LSquare", pattern: /\[/ });
const RSquare = createToken({ name: "RSquare", pattern: /]/ });
const Comma = createToken({ name: "Comma", pattern: /,/ });
const Colon = createToken({ name: "Colon", pattern: /:/ });
const Equals = createToken({ name: "Equals", pattern: /=/ });

const lexer = new Lexer(
  [
    WhiteSpace,
    Comment,
    StringLiteral,
    NumberLiteral,
    True,
    False,
    Null,
    Identifier,
    LCurly,
    RCurly,
    LSquare,
    RSquare,
    Comma,
    Colon,
    Equals,
  ],
  {
    positionTracking: "full",
  },
);

const TEXT = Array.from(
  { length: 12 },
  (_, k) =>
    `// record ${k}\nitem${k} = { "name": "widget ${k}", "price": ${k}.5e1, "tags": ["a", "b\\n"], "ok": true, "next": null, count: ${k * 7} }\n`,
).join("");

export function op(i: number): number {
  const r = lexer.tokenize(i & 1 ? TEXT : `${TEXT} x`);
  return r.tokens.length + r.errors.length;
}
