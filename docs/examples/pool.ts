// Python's "Using a pool of workers" example.
// Run: node --import tsx docs/examples/pool.ts
import { setTimeout as sleepMs } from 'node:timers/promises';
import { runMain } from '@mpjs/process';
import { Pool, TimeoutError } from '@mpjs/pool';

// Workers import this module to find the task functions: they must be exported.
export function f(x: number): number {
  return x * x;
}

/** Python's `os.getpid`. */
export function getpid(): number {
  return process.pid;
}

/** Python's `time.sleep` (seconds). */
export async function sleep(seconds: number): Promise<void> {
  await sleepMs(seconds * 1000);
}

const show = (xs: unknown[]): string => `[${xs.join(', ')}]`;

await runMain(import.meta, async () => {
  {
    // start 4 worker processes
    await using pool = new Pool({ processes: 4 });

    // print "[0, 1, 4,..., 81]"
    console.log(show(await pool.map(f, Array.from({ length: 10 }, (_, i) => i))));

    // print same numbers in arbitrary order
    for await (const i of pool.imapUnordered(f, Array.from({ length: 10 }, (_, i) => i))) {
      console.log(i);
    }

    // evaluate "f(20)" asynchronously
    let res = pool.applyAsync(f, [20]); // runs in *only* one process
    console.log(await res.get(1000)); // prints "400"

    // evaluate "getpid()" asynchronously
    res = pool.applyAsync(getpid, []); // runs in *only* one process
    console.log(await res.get(1000)); // prints the PID of that process

    // launching multiple evaluations asynchronously *may* use more processes
    const multipleResults = Array.from({ length: 4 }, () => pool.applyAsync(getpid, []));
    console.log(show(await Promise.all(multipleResults.map((r) => r.get(1000)))));

    // make a single worker sleep for 10 secs
    const sleeping = pool.applyAsync(sleep, [10]);
    try {
      console.log(await sleeping.get(1000));
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      console.log('We lacked patience and got a multiprocessing.TimeoutError');
    }

    console.log('For the moment, the pool remains available for more work');
  }

  // leaving the block with `await using` has stopped the pool
  console.log('Now the pool is closed and no longer available');
});
