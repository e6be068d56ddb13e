// A real third-party TypeScript library's work: an rxjs pipeline over 32 values, built and run
// synchronously once per operation. rxjs itself is compiled from its TypeScript sources (the
// `src/` folder of the npm package) with the same build as this file, so in the instrumented
// variants every function and line of rxjs carries sites. Deep imports: rxjs's index re-exports
// types by name, which a per-file type strip cannot tell from values.
import { from } from "rxjs/internal/observable/from";
import { filter } from "rxjs/internal/operators/filter";
import { map } from "rxjs/internal/operators/map";
import { scan } from "rxjs/internal/operators/scan";

const DATA: number[] = Array.from({ length: 32 }, (_, k) => k);

export function op(i: number): number {
  let out = 0;
  from(DATA)
    .pipe(
      map((x) => x * 3 + (i & 15)),
      filter((x) => (x & 1) === 0),
      scan((acc, x) => acc + x, 0),
    )
    .subscribe((v) => {
      out = v;
    });
  return out;
}
