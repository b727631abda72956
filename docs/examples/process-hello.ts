// The first example of the Process class (Python's `hello bob`).
// Run: node --import tsx docs/examples/process-hello.ts
import { Process, runMain } from '@mpjs/process';

// The child imports this module to find `f`: it must be exported.
export function f(name: string): void {
  console.log('hello', name);
}

// Python's `if __name__ == '__main__':` — children import this module without running this part.
await runMain(import.meta, async () => {
  const p = new Process({ target: f, args: ['bob'] });
  p.start();
  await p.join();
});
