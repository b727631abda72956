// What mpjs does, in one run: a Pool spreading work over processes, real
// processes sharing a lock-guarded counter in shared memory, producers and
// consumers talking through a Queue, and children filling a dict that lives in
// a Manager's server process.
// Run: pnpm demo   (or: node --import tsx docs/examples/demo.ts)
import { Process, currentProcess, runMain } from '@mpjs/process';
import { Value } from '@mpjs/sharedctypes';
import { Queue } from '@mpjs/queues';
import { Manager, type DictProxy } from '@mpjs/managers';
import { Pool } from '@mpjs/pool';

const INCREMENTS = 100_000;
const ITEMS_PER_PRODUCER = 10_000;

/** A CPU-bound task: the sum of the primes below `n`, and which process computed it. */
export function sumPrimes(n: number): [number, number] {
  let sum = 0;
  for (let k = 2; k < n; k++) {
    let prime = true;
    for (let d = 2; d * d <= k; d++) if (k % d === 0) {
      prime = false;
      break;
    }
    if (prime) sum += k;
  }
  return [sum, process.pid];
}

/** Adds 1 to the shared counter `times` times, each time under the counter's lock. */
export function addMany(counter: Value<'i'>, times: number): void {
  for (let i = 0; i < times; i++) {
    counter.acquireSync();
    try {
      counter.value += 1;
    } finally {
      counter.release();
    }
  }
}

/** Puts `count` numbers on the queue, then `null` to say it is done. */
export async function produce(queue: Queue<number | null>, first: number, count: number): Promise<void> {
  for (let i = first; i < first + count; i++) await queue.put(i);
  await queue.put(null);
}

/** Sums numbers from `input` until it has seen `producers` nulls, then reports the sum. */
export async function consume(input: Queue<number | null>, output: Queue<[string, number, number]>, producers: number): Promise<void> {
  let sum = 0;
  let items = 0;
  for (let done = 0; done < producers; ) {
    const item = await input.get();
    if (item === null) done++;
    else {
      sum += item;
      items++;
    }
  }
  await output.put([currentProcess().name, items, sum]);
}

/** Records this child's pid in the manager's dict under its name. */
export async function checkIn(registry: DictProxy<string, number>): Promise<void> {
  await registry.set(currentProcess().name, process.pid);
}

async function joinAll(processes: Process[]): Promise<void> {
  for (const p of processes) p.start();
  for (const p of processes) await p.join();
  for (const p of processes) if (p.exitcode !== 0) throw new Error(`${p.name} exited with ${p.exitcode}`);
}

await runMain(import.meta, async () => {
  console.log(`main process ${process.pid}`);

  // 0. A Pool of two worker processes maps a CPU-bound function over a list.
  {
    await using pool = new Pool(2);
    const results = await pool.map(sumPrimes, [100_000, 200_000, 300_000, 400_000], { chunksize: 1 });
    const pids = [...new Set(results.map(([, pid]) => pid))];
    console.log(`pool: sums of primes ${results.map(([sum]) => sum).join(', ')} computed by worker pids ${pids.join(', ')}`);
  }

  // 1. Two processes, one counter in shared memory, guarded by its lock.
  const counter = new Value('i', 0);
  const adders = [1, 2].map(() => new Process({ target: addMany, args: [counter, INCREMENTS] }));
  await joinAll(adders);
  console.log(`shared counter: ${counter.value} (expected ${2 * INCREMENTS}) from pids ${adders.map((p) => p.pid).join(', ')}`);

  // 2. Two producers and one consumer over a process-safe Queue.
  const work = new Queue<number | null>();
  const results = new Queue<[string, number, number]>();
  const producers = [0, 1].map((k) => new Process({ target: produce, args: [work, k * ITEMS_PER_PRODUCER, ITEMS_PER_PRODUCER] }));
  const consumer = new Process({ target: consume, args: [work, results, producers.length] });
  await joinAll([...producers, consumer]);
  const [who, items, sum] = await results.get();
  const n = 2 * ITEMS_PER_PRODUCER;
  console.log(`queue: ${who} received ${items} items summing to ${sum} (expected ${(n * (n - 1)) / 2})`);

  // 3. A dict held by a Manager's server process, filled by children.
  await using manager = await Manager();
  const registry = await manager.dict<string, number>();
  await joinAll([1, 2, 3].map(() => new Process({ target: checkIn, args: [registry] })));
  const entries = (await registry.items()).sort((a, b) => a[1] - b[1]);
  console.log(`manager dict: ${entries.map(([name, pid]) => `${name}=${pid}`).join(', ')}`);
});
