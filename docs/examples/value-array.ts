// Sharing state between processes with shared memory: a Value and an Array
// (here SharedArray) changed by a child.
// Run: node --import tsx docs/examples/value-array.ts
import { Process, runMain } from '@mpjs/process';
import { SharedArray, Value } from '@mpjs/sharedctypes';

export function f(n: Value<'d'>, a: SharedArray<'i'>): void {
  n.value = 3.1415927;
  for (let i = 0; i < a.length; i++) a[i] = -a[i]!;
}

await runMain(import.meta, async () => {
  const num = new Value('d', 0.0);
  const arr = new SharedArray('i', Array.from({ length: 10 }, (_, i) => i));

  const p = new Process({ target: f, args: [num, arr] });
  p.start();
  await p.join();

  console.log(num.value);
  console.log(`[${arr.slice().join(', ')}]`);
});
