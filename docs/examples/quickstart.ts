// The quick start's first program (docs/quickstart.md), using the umbrella package.
// Run: node --import tsx docs/examples/quickstart.ts
import { Process, Queue, runMain } from '@mpjs/multiprocessing';

export async function f(q: Queue<unknown>): Promise<void> {
  await q.put([42, null, 'hello']);
}

await runMain(import.meta, async () => {
  const q = new Queue();
  const p = new Process({ target: f, args: [q] });
  p.start();
  console.log(await q.get()); // [ 42, null, 'hello' ]
  await p.join();
});
