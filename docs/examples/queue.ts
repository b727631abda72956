// The spec's first example of a Queue ("Exchanging objects between processes").
// Run: node --import tsx docs/examples/queue.ts
import { Process, runMain } from '@mpjs/process';
import { Queue } from '@mpjs/queues';

// The child imports this module to find `f`: it must be exported.
export async function f(q: Queue): Promise<void> {
  await q.put([42, null, 'hello']);
}

await runMain(import.meta, async () => {
  const q = new Queue();
  const p = new Process({ target: f, args: [q] });
  p.start();
  console.log(await q.get()); // prints "[ 42, null, 'hello' ]"
  await p.join();
});
