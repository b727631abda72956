// A CPU-bound job run serially and then on a pool of 2 worker processes.
// Run: node --import tsx docs/examples/pool-speedup.ts
import { runMain } from '@mpjs/process';
import { Pool } from '@mpjs/pool';

/** Counts the primes below `limit` the slow way: pure CPU work. */
export function countPrimes(limit: number): number {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

await runMain(import.meta, async () => {
  const jobs = Array.from({ length: 8 }, () => 600_000);

  let start = performance.now();
  const serial = jobs.map(countPrimes);
  const serialMs = performance.now() - start;

  await using pool = new Pool(2);
  await pool.apply(countPrimes, [10]); // the workers are up and have imported this module
  start = performance.now();
  const parallel = await pool.map(countPrimes, jobs, { chunksize: 1 });
  const parallelMs = performance.now() - start;

  console.log(`same results: ${JSON.stringify(serial) === JSON.stringify(parallel)}`);
  console.log(`serial: ${serialMs.toFixed(0)} ms, pool of 2: ${parallelMs.toFixed(0)} ms, speed-up ${(serialMs / parallelMs).toFixed(2)}x`);
});
