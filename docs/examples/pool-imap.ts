// The spec's second Pool example (after AsyncResult): applyAsync, map, imap with next(timeout),
// and a result that is not ready in time.
// Run: node --import tsx docs/examples/pool-imap.ts
import { setTimeout as sleepMs } from 'node:timers/promises';
import { runMain } from '@mpjs/process';
import { Pool, TimeoutError, type AsyncResult } from '@mpjs/pool';

// Workers import this module to find the task functions: they must be exported.
export function f(x: number): number {
  return x * x;
}

/** Python's `time.sleep` (seconds). */
export async function sleep(seconds: number): Promise<void> {
  await sleepMs(seconds * 1000);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

await runMain(import.meta, async () => {
  // start 4 worker processes; leaving the block terminates them, the sleeping one included
  await using pool = new Pool({ processes: 4 });
  let result: AsyncResult<number | void> = pool.applyAsync(f, [10]); // evaluate "f(10)" asynchronously in a single process
  // Python waits 1 s here. Its workers may be forked; these are new Node processes that load this
  // module first, which can take longer than a second on a busy machine, so the first result gets 10 s.
  console.log(await result.get(10_000)); // prints "100"

  console.log(`[${(await pool.map(f, range(10))).join(', ')}]`); // prints "[0, 1, 4,..., 81]"

  const it = pool.imap(f, range(10));
  console.log((await it.next()).value); // prints "0"
  console.log((await it.next()).value); // prints "1"
  console.log((await it.next(1000)).value); // prints "4" unless your computer is *very* slow

  result = pool.applyAsync(sleep, [10]);
  try {
    console.log(await result.get(1000)); // raises TimeoutError
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    console.log(error.name); // prints "TimeoutError" (Python: multiprocessing.TimeoutError)
  }
});
