// The example of Python's multiprocessing.sharedctypes: shared values, a string and an array
// of structures, modified by a child process.
// Run: node --import tsx docs/examples/sharedctypes.ts
import { Process, runMain } from '@mpjs/process';
import { c_double, SharedArray, Structure, Value, type RawValue } from '@mpjs/sharedctypes';
import { Lock } from '@mpjs/synchronize';

// class Point(Structure): _fields_ = [('x', c_double), ('y', c_double)]
export const Point = Structure({ x: c_double, y: c_double }, { name: 'Point' });

export function modify(n: Value<'i'>, x: RawValue<typeof c_double>, s: SharedArray<'c'>, A: SharedArray<typeof Point>): void {
  n.value **= 2;
  x.value **= 2;
  s.value = s.value.toString().toUpperCase();
  for (const a of A) {
    a.x **= 2;
    a.y **= 2;
  }
}

/** Python's repr() of the values printed here: floats always show a decimal point. */
export function pyRepr(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value);
  if (Array.isArray(value)) return `(${value.map(pyRepr).join(', ')})`;
  return String(value);
}

await runMain(import.meta, async () => {
  const lock = new Lock();

  const n = new Value('i', 7);
  const x = new Value(c_double, 1.0 / 3.0, { lock: false });
  const s = new SharedArray('c', Buffer.from('hello world'), { lock });
  const A = new SharedArray(Point, [[1.875, -6.25], [-5.75, 2.0], [2.375, 9.5]], { lock });

  const p = new Process({ target: modify, args: [n, x, s, A] });
  p.start();
  await p.join();

  console.log(n.value);
  console.log(pyRepr(x.value));
  console.log(s.value.toString());
  console.log(`[${[...A].map((a) => pyRepr([a.x, a.y])).join(', ')}]`);
});
