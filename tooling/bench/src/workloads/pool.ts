/**
 * `Pool(2)` side by side with CPython's `multiprocessing.Pool(2)`: map with
 * the default chunk size and with chunksize 1, the round trip of one
 * `applyAsync().get()`, `imapUnordered`, and the start-up of a pool to its
 * first result. Each figure is the median of several runs on a pool that has
 * already done one run (workers started, task module imported) and then
 * repeated it for half a second, in both runtimes (V8 compiles hot code as it
 * runs; CPython's figures do not change with it), except the start-up figure. Start-up uses the forkserver context, whose warm
 * interpreters (kept ready in the background, as Python's fork server forks
 * from a waiting server) take a worker in milliseconds; CPython is measured
 * with its forkserver too, and with fork (its Linux default, which Node cannot
 * do) beside it. The other CPython figures use spawn, mpjs's default.
 */
import { getContext } from '@mpjs/process';
import { Pool } from '@mpjs/pool';
import type { Workload } from '../harness.js';
import { countPrimes, square } from './pool-tasks.js';

const RUNS = 7;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * `[0, 1, …, n - 1]`, made as a program would (a loop: `Array.from({ length })` with a
 * callback takes several times longer, and CPython's `map` does not make its input list at all).
 */
function range(n: number): number[] {
  const items = new Array<number>(n);
  for (let i = 0; i < n; i++) items[i] = i;
  return items;
}

/** Median time (ms) of `fn` on a warm pool of 2 workers. */
async function onPool(fn: (pool: Pool) => Promise<unknown>): Promise<number> {
  const pool = new Pool(2);
  try {
    // Workers up, task module imported, then half a second of runs (both runtimes): Node compiles the path as it runs.
    await fn(pool);
    const warmUntil = performance.now() + 500;
    while (performance.now() < warmUntil) await fn(pool);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await fn(pool);
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    await pool.terminate();
  }
}

async function check(values: Promise<number[]>, n: number): Promise<void> {
  const got = await values;
  if (got.length !== n || got[n - 1] !== (n - 1) * (n - 1)) throw new Error('pool returned wrong results');
}

async function imapUnordered(pool: Pool, n: number, chunksize: number): Promise<void> {
  let sum = 0;
  let count = 0;
  for await (const v of pool.imapUnordered(square, range(n), { chunksize })) {
    sum += v;
    count++;
  }
  if (count !== n || sum <= 0) throw new Error('imapUnordered returned wrong results');
}

async function roundTrip(): Promise<number> {
  const pool = new Pool(2);
  try {
    const n = 2000;
    // Half a second of round trips first (both runtimes): Node compiles the path as it runs.
    const warmUntil = performance.now() + 500;
    for (let i = 0; performance.now() < warmUntil; i++) await pool.applyAsync(square, [i]).get();
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await pool.applyAsync(square, [i]).get();
      times.push(((performance.now() - t0) * 1000) / n);
    }
    return median(times);
  } finally {
    await pool.terminate();
  }
}

async function startup(): Promise<number> {
  const ctx = getContext('forkserver');
  const times: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      await ctx.ensureRunning();
      const t0 = performance.now();
      const pool = new Pool({ processes: 2, context: ctx });
      await pool.apply(square, [3]);
      times.push(performance.now() - t0);
      await pool.terminate();
    }
  } finally {
    await ctx.stopForkserver();
  }
  return median(times.slice(1));
}

/** Jobs of the speed-up workload; each side's job size makes a serial run take roughly as long. */
const SPEEDUP_JOBS = 8;
const NODE_PRIMES_LIMIT = 800_000;
const PYTHON_PRIMES_LIMIT = 100_000;

/** Serial time / time on Pool(2) of SPEEDUP_JOBS CPU-bound jobs (median of 3). */
async function speedup(): Promise<number> {
  const jobs = Array.from({ length: SPEEDUP_JOBS }, () => NODE_PRIMES_LIMIT);
  const pool = new Pool(2);
  try {
    // Workers up, task module imported, and the function compiled in both, as in the serial run.
    await pool.map(countPrimes, [NODE_PRIMES_LIMIT, NODE_PRIMES_LIMIT], { chunksize: 1 });
    jobs.map(countPrimes);
    const ratios: number[] = [];
    for (let run = 0; run < 3; run++) {
      let t0 = performance.now();
      const serial = jobs.map(countPrimes);
      const serialMs = performance.now() - t0;
      t0 = performance.now();
      const parallel = await pool.map(countPrimes, jobs, { chunksize: 1 });
      const poolMs = performance.now() - t0;
      if (parallel.join() !== serial.join()) throw new Error('pool workload: the pool counted differently');
      ratios.push(serialMs / poolMs);
    }
    return median(ratios);
  } finally {
    await pool.terminate();
  }
}

const PY_SPEEDUP = `
import multiprocessing as mp, time, statistics

def count_primes(limit):
    count = 0
    for n in range(2, limit):
        d = 2
        prime = True
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d += 1
        if prime:
            count += 1
    return count

if __name__ == '__main__':
    jobs = [${PYTHON_PRIMES_LIMIT}] * ${SPEEDUP_JOBS}
    with mp.get_context('spawn').Pool(2) as pool:
        pool.map(count_primes, [${PYTHON_PRIMES_LIMIT}] * 2, chunksize=1)
        ratios = []
        for _ in range(3):
            t = time.perf_counter()
            serial = [count_primes(j) for j in jobs]
            serial_s = time.perf_counter() - t
            t = time.perf_counter()
            parallel = pool.map(count_primes, jobs, chunksize=1)
            assert parallel == serial
            ratios.append(serial_s / (time.perf_counter() - t))
    print(statistics.median(ratios))
`;

const PY_HEAD = `
import multiprocessing as mp, time, statistics
def square(x):
    return x * x
`;

/** CPython's Pool(2) to first result, ms, with the given start method. */
function pyStartup(method: 'forkserver' | 'fork'): string {
  return `${PY_HEAD}
if __name__ == '__main__':
    ctx = mp.get_context(${JSON.stringify(method)})
    times = []
    for _ in range(5):
        t = time.perf_counter()
        pool = ctx.Pool(2)
        pool.apply(square, (3,))
        times.append((time.perf_counter() - t) * 1000)
        pool.terminate()
        pool.join()
    print(statistics.median(times[1:]))
`;
}

function pyOnPool(body: string): string {
  return `${PY_HEAD}
def run(pool):
${body}

if __name__ == '__main__':
    with mp.get_context('spawn').Pool(2) as pool:
        run(pool)
        warm_until = time.perf_counter() + 0.5
        while time.perf_counter() < warm_until:
            run(pool)
        times = []
        for _ in range(${RUNS}):
            t = time.perf_counter()
            run(pool)
            times.append((time.perf_counter() - t) * 1000)
    print(statistics.median(times))
`;
}

const workloads: Workload[] = [
  {
    group: 'pool',
    name: 'map(square, 100k items), default chunksize',
    unit: 'ms',
    lowerIsBetter: true,
    node: () => onPool((pool) => check(pool.map(square, range(100_000)), 100_000)),
    python: pyOnPool('    pool.map(square, range(100000))'),
  },
  {
    group: 'pool',
    name: 'map(square, 10k items), chunksize 1',
    unit: 'ms',
    lowerIsBetter: true,
    node: () => onPool((pool) => check(pool.map(square, range(10_000), { chunksize: 1 }), 10_000)),
    python: pyOnPool('    pool.map(square, range(10000), chunksize=1)'),
  },
  {
    group: 'pool',
    name: 'applyAsync(square).get() round trip',
    unit: 'µs',
    lowerIsBetter: true,
    node: roundTrip,
    python: `${PY_HEAD}
if __name__ == '__main__':
    with mp.get_context('spawn').Pool(2) as pool:
        warm_until = time.perf_counter() + 0.5
        while time.perf_counter() < warm_until:
            pool.apply_async(square, (1,)).get()
        times = []
        for _ in range(5):
            t = time.perf_counter()
            for i in range(2000):
                pool.apply_async(square, (i,)).get()
            times.append((time.perf_counter() - t) * 1e6 / 2000)
    print(statistics.median(times))
`,
  },
  {
    group: 'pool',
    name: 'imapUnordered(square, 100k items), chunksize 100',
    unit: 'ms',
    lowerIsBetter: true,
    node: () => onPool((pool) => imapUnordered(pool, 100_000, 100)),
    python: pyOnPool('    for _ in pool.imap_unordered(square, range(100000), chunksize=100):\n        pass'),
  },
  {
    group: 'pool',
    name: 'start-up: Pool(2) to first result (forkserver context)',
    unit: 'ms',
    lowerIsBetter: true,
    node: startup,
    python: pyStartup('forkserver'),
    pythonOthers: { 'CPython fork': pyStartup('fork') },
  },
  {
    group: 'pool',
    name: `CPU speed-up on 2 cores: ${SPEEDUP_JOBS} prime-counting jobs, serial time / Pool(2).map time`,
    unit: '×',
    lowerIsBetter: false,
    node: speedup,
    python: PY_SPEEDUP,
  },
];

export default workloads;
