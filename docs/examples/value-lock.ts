// The spec's `counter.value += 1` / `with counter.get_lock():` snippet (the Value function),
// made into a program: several processes increment one shared Value, each increment under the
// Value's own lock, and the total comes out exact.
// Run: node --import tsx docs/examples/value-lock.ts
import { Process, runMain } from '@mpjs/process';
import { Value } from '@mpjs/sharedctypes';

const PROCESSES = 4;
const INCREMENTS = 50_000;

// Each child imports this module to find `increment`: it must be exported.
export function increment(counter: Value<'i'>, times: number): void {
  for (let i = 0; i < times; i++) {
    // `counter.value += 1` alone is a read then a write, each under the lock but not together:
    // two processes can read the same value and one increment is lost. Hold the lock around both
    // (Python's `with counter.get_lock():`). The lock is an RLock by default, so the reads and
    // writes through `counter.value`, which take it again, do not deadlock.
    using _ = counter.getLock().holdSync();
    counter.value += 1;
  }
}

await runMain(import.meta, async () => {
  const counter = new Value('i', 0);
  const processes = Array.from({ length: PROCESSES }, () => new Process({ target: increment, args: [counter, INCREMENTS] }));
  for (const p of processes) p.start();
  for (const p of processes) await p.join();
  console.log(`exit codes: ${processes.map((p) => p.exitcode).join(', ')}`); // prints "exit codes: 0, 0, 0, 0"
  console.log(`counter: ${counter.value} (expected ${PROCESSES * INCREMENTS})`); // prints "counter: 200000 (expected 200000)"
});
