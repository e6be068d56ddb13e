// Micro: a tiny hot function called 16 times per operation. The worst case for a guard: the
// function is a few bytes of bytecode, so every byte a site adds counts against inlining.

export function clamp(x: number, lo: number, hi: number): number {
  const y = x < lo ? lo : x;
  return y > hi ? hi : y;
}

export function op(i: number): number {
  let s = 0;
  for (let k = 0; k < 16; k++) s += clamp((i + k * 7) % 100, 10, 90);
  return s;
}
