// The spec's first example (introduction): data parallelism with a Pool.
// Run: node --import tsx docs/examples/pool-map.ts
import { runMain } from '@mpjs/process';
import { Pool } from '@mpjs/pool';

// The workers import this module to find `f`: it must be exported.
export function f(x: number): number {
  return x * x;
}

// Python's `if __name__ == '__main__':` — the workers import this module without running this part.
await runMain(import.meta, async () => {
  // Python's `with Pool(5) as p:`; leaving the block terminates the pool.
  await using p = new Pool(5);
  console.log(await p.map(f, [1, 2, 3])); // prints "[ 1, 4, 9 ]" (Python: "[1, 4, 9]")
});
