// "Joining processes that use queues" (spec, programming guidelines): a process that has put
// items on a queue does not end before they are all in the queue's shared memory, so joining it
// before the items are got can wait for ever.
// Run: node --import tsx docs/examples/queue-deadlock.ts
import { Process, runMain } from '@mpjs/process';
import { Queue } from '@mpjs/queues';

export async function f(q: Queue<string>, length: number): Promise<void> {
  await q.put('X'.repeat(length));
}

await runMain(import.meta, async () => {
  // The spec's example: 1,000,000 characters. Python's pipe holds 64 KiB, so there join() deadlocks.
  // A queue's shared memory holds 1 MiB here: the child can put all of it and end.
  const small = new Queue<string>();
  const p1 = new Process({ target: f, args: [small, 1_000_000] });
  p1.start();
  await p1.join(); // returns: the item fitted
  console.log(`1 MB: join() returned (exit code ${p1.exitcode}), then get() gave ${(await small.get()).length} characters`);

  // Ten times as much does not fit: the child waits for a reader, and a plain join() would never return.
  const large = new Queue<string>();
  const p2 = new Process({ target: f, args: [large, 10_000_000] });
  p2.start();
  await p2.join(2_000);
  console.log(`10 MB: join(2000) timed out, the child is still alive: ${p2.isAlive()}`);
  // The fix, as in Python: get the items first, then join.
  console.log(`10 MB: get() gave ${(await large.get()).length} characters`);
  await p2.join();
  console.log(`10 MB: then join() returned (exit code ${p2.exitcode})`);
});
