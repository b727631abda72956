/**
 * mpjs's pools beside the Node pools users pick today and CPython's Pool, all
 * with 2 workers running the same trivial task (`x => x * x`):
 *
 * - sequential round trip: submit one task, await its result, repeat (µs per task);
 * - concurrent throughput: submit 10,000 tasks at once, one task per item (no
 *   chunking), then await them all (tasks/s).
 *
 * The main figure is mpjs's `Pool(2)` (processes), compared with CPython's
 * `Pool(2).apply_async` (spawn context, as mpjs spawns; on a warm pool the
 * start method does not matter). The others are labelled processes or
 * threads: a thread pool skips the serialization and the kernel round trip a
 * process pool pays for, so compare like with like. Each pool is created and
 * warmed before the clock starts (workers started, task module loaded, half a
 * second of sequential tasks, 1,000 tasks at once, then half a second more in
 * the mode measured: sequential tasks, or bursts of 10,000; V8 re-optimises a
 * pool's code for the mode it last ran, and a burst measured right after a
 * change of mode ran at a third of its steady pace), and destroyed, its
 * processes reaped, after.
 */
import { fork, type ChildProcess } from 'node:child_process';
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { Worker as JestWorker } from 'jest-worker';
import { Piscina } from 'piscina';
import { FixedClusterPool, FixedThreadPool } from 'poolifier';
import { Tinypool } from 'tinypool';
import workerFarm from 'worker-farm';
import workerpool from 'workerpool';
import { Pool, ThreadPool } from '@mpjs/pool';
import { medianOf, type Workload } from '../harness.js';
import { square } from './pool-tasks.js';

const SEQUENTIAL = 2_000;
const CONCURRENT = 10_000;
const RUNS = 3;
/** Sequential tasks before anything is timed, in milliseconds. */
const WARM_UP_MS = 500;

const file = (name: string): string => fileURLToPath(new URL(name, import.meta.url));
const SQUARE_WORKER = file('./node-pools-square-worker.js');
const CJS_WORKER = file('./node-pools-cjs-worker.cjs');
const ECHO_CHILD = file('./node-pools-echo-child.js');

/** A started pool of 2 workers: one task is `run(x)`, resolving to x². */
interface Runner {
  run(x: number): Promise<number>;
  /** Stops the workers and resolves once they are gone (processes exited). */
  close(): Promise<void>;
}

/** Resolves when `child` has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

type Answer = { ready: true } | { id: number; y: number };

/** An IPC endpoint of a child: a `ChildProcess` or a cluster `Worker`. */
interface IpcChild {
  send(message: unknown): boolean;
  on(event: 'message', listener: (message: Answer) => void): unknown;
  once(event: 'message', listener: (message: Answer) => void): unknown;
}

/** Resolves when the echo child says it listens. */
function ready(child: IpcChild): Promise<void> {
  return new Promise((resolve) => child.once('message', () => resolve()));
}

/**
 * Two processes answering IPC messages, tasks dealt round-robin: what a user
 * writes by hand with `child_process.fork` or `cluster`.
 */
async function ipcRunner(children: IpcChild[], close: () => Promise<void>): Promise<Runner> {
  await Promise.all(children.map(ready));
  const pending = new Map<number, (y: number) => void>();
  for (const c of children) {
    c.on('message', (m) => {
      if (!('id' in m)) return;
      pending.get(m.id)!(m.y);
      pending.delete(m.id);
    });
  }
  let next = 0;
  return {
    run(x) {
      const id = next++;
      const child = children[id % children.length]!;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        child.send({ id, x });
      });
    },
    close,
  };
}

async function forkRunner(): Promise<Runner> {
  const children = [0, 1].map(() => fork(ECHO_CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  return ipcRunner(children, async () => {
    for (const c of children) c.disconnect();
    await Promise.all(children.map(exited));
  });
}

async function clusterRunner(): Promise<Runner> {
  // Settings are global to the cluster module (poolifier's cluster pool sets them too).
  cluster.setupPrimary({ exec: ECHO_CHILD, args: [] });
  const workers: ClusterWorker[] = [0, 1].map(() => cluster.fork());
  return ipcRunner(workers, async () => {
    for (const w of workers) w.disconnect();
    await Promise.all(workers.map((w) => exited(w.process)));
  });
}

async function workerFarmRunner(): Promise<Runner> {
  const children: ChildProcess[] = [];
  const farm = workerFarm({ maxConcurrentWorkers: 2, onChild: (c) => children.push(c) }, CJS_WORKER, ['squareCallback']);
  const call = farm.squareCallback!;
  return {
    run: (x) => new Promise((resolve, reject) => call(x, (error, y) => (error ? reject(error) : resolve(y as number)))),
    async close() {
      await new Promise<void>((resolve) => workerFarm.end(farm, () => resolve()));
      await Promise.all(children.map(exited));
    },
  };
}

/** The pools, by label; the label says whether its workers are processes or threads. */
const runners: Record<string, () => Promise<Runner>> = {
  'mpjs Pool (processes)': async () => {
    const pool = new Pool(2);
    return { run: (x) => pool.applyAsync(square, [x]).get(), close: () => pool.terminate() };
  },
  'mpjs ThreadPool (threads)': async () => {
    const pool = new ThreadPool(2);
    return { run: (x) => pool.applyAsync(square, [x]).get(), close: () => pool.terminate() };
  },
  'piscina (threads)': async () => {
    const pool = new Piscina<number, number>({ filename: SQUARE_WORKER, minThreads: 2, maxThreads: 2 });
    return { run: (x) => pool.run(x), close: () => pool.destroy() };
  },
  'tinypool (threads)': async () => {
    const pool = new Tinypool({ filename: SQUARE_WORKER, minThreads: 2, maxThreads: 2 });
    return { run: (x) => pool.run(x) as Promise<number>, close: () => pool.destroy() };
  },
  'tinypool child_process (processes)': async () => {
    const pool = new Tinypool({ filename: SQUARE_WORKER, minThreads: 2, maxThreads: 2, runtime: 'child_process' });
    return { run: (x) => pool.run(x) as Promise<number>, close: () => pool.destroy() };
  },
  'workerpool process (processes)': async () => {
    const pool = workerpool.pool(file('./node-pools-workerpool-worker.js'), { minWorkers: 2, maxWorkers: 2, workerType: 'process' });
    return { run: (x) => pool.exec('square', [x]) as Promise<number>, close: async () => void (await pool.terminate()) };
  },
  'workerpool thread (threads)': async () => {
    const pool = workerpool.pool(file('./node-pools-workerpool-worker.js'), { minWorkers: 2, maxWorkers: 2, workerType: 'thread' });
    return { run: (x) => pool.exec('square', [x]) as Promise<number>, close: async () => void (await pool.terminate()) };
  },
  'poolifier FixedClusterPool (processes)': async () => {
    const pool = new FixedClusterPool<number, number>(2, file('./node-pools-poolifier-cluster-worker.cjs'));
    return { run: (x) => pool.execute(x), close: () => pool.destroy() };
  },
  'poolifier FixedThreadPool (threads)': async () => {
    const pool = new FixedThreadPool<number, number>(2, file('./node-pools-poolifier-thread-worker.js'));
    return { run: (x) => pool.execute(x), close: () => pool.destroy() };
  },
  'worker-farm (processes)': workerFarmRunner,
  'jest-worker (processes)': async () => {
    const worker = new JestWorker(CJS_WORKER, { numWorkers: 2, enableWorkerThreads: false, exposedMethods: ['square'] });
    const call = (worker as unknown as { square(x: number): Promise<number> }).square;
    return { run: (x) => call(x), close: async () => void (await worker.end()) };
  },
  'child_process.fork IPC (processes)': forkRunner,
  'cluster IPC (processes)': clusterRunner,
};

/**
 * Half a second of sequential tasks, for every pool and for CPython alike (as
 * the pool group's round trip): V8 compiles each pool's code as it runs, and
 * a round trip taken after 200 tasks measured code not yet optimised.
 */
async function warmUp(runner: Runner): Promise<void> {
  const until = performance.now() + WARM_UP_MS;
  for (let i = 0; performance.now() < until; i++) if ((await runner.run(i)) !== i * i) throw new Error('node-pools: wrong result');
}

async function sequential(runner: Runner, n: number): Promise<void> {
  for (let i = 0; i < n; i++) if ((await runner.run(i)) !== i * i) throw new Error('node-pools: wrong result');
}

async function concurrent(runner: Runner, n: number): Promise<void> {
  const results: Promise<number>[] = [];
  for (let i = 0; i < n; i++) results.push(runner.run(i));
  const ys = await Promise.all(results);
  if (ys.length !== n || ys.some((y, i) => y !== i * i)) throw new Error('node-pools: wrong results');
}

/** Longest a pool may take to be warmed and measured: a pool that stops answering fails the run instead of hanging it. */
const LIMIT_MS = 120_000;

/** How a figure is taken: the measurement, and whether it times sequential tasks or bursts (the warm-up ends with the same). */
interface Measure {
  (runner: Runner): Promise<number>;
  sequential: boolean;
}

/** Half a second in the mode `measure` times. */
async function warmUpFor(runner: Runner, measure: Measure): Promise<void> {
  if (measure.sequential) return warmUp(runner);
  const until = performance.now() + WARM_UP_MS;
  while (performance.now() < until) await concurrent(runner, CONCURRENT);
}

/** Creates a pool, warms it, measures `measure` on it (median of RUNS), destroys it. */
async function onRunner(label: string, measure: Measure): Promise<number> {
  const make = runners[label]!;
  const runner = await make();
  // Keeps the process alive while pools with unreferenced workers are measured.
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`node-pools: ${label} gave no answer within ${LIMIT_MS} ms`)), LIMIT_MS);
  });
  try {
    const measured = (async () => {
      await warmUp(runner);
      await concurrent(runner, 1_000);
      // V8 re-optimises a pool's code for the mode it runs in: every pool alike ends its warm-up in the mode measured.
      await warmUpFor(runner, measure);
      return medianOf(RUNS, () => measure(runner));
    })();
    return await Promise.race([measured, limit]);
  } finally {
    clearTimeout(timer);
    // The timer also keeps the process alive while a pool whose workers are unreferenced
    // (poolifier's threads) waits for them to exit.
    let closing: NodeJS.Timeout | undefined;
    const tooLong = new Promise<never>((_, reject) => {
      closing = setTimeout(() => reject(new Error(`node-pools: closing ${label} took over ${LIMIT_MS / 4} ms`)), LIMIT_MS / 4);
    });
    try {
      await Promise.race([runner.close(), tooLong]);
    } finally {
      clearTimeout(closing);
    }
  }
}

const usPerSequentialTask: Measure = Object.assign(
  async (runner: Runner): Promise<number> => {
    const t0 = performance.now();
    await sequential(runner, SEQUENTIAL);
    return ((performance.now() - t0) * 1000) / SEQUENTIAL;
  },
  { sequential: true },
);

const tasksPerSecond: Measure = Object.assign(
  async (runner: Runner): Promise<number> => {
    const t0 = performance.now();
    await concurrent(runner, CONCURRENT);
    return CONCURRENT / ((performance.now() - t0) / 1000);
  },
  { sequential: false },
);

function pyMeasure(poolExpr: string, sequentialFigure: boolean): string {
  return `
import multiprocessing as mp, statistics, time
from multiprocessing.pool import ThreadPool

def square(x):
    return x * x

def sequential(pool, n):
    for i in range(n):
        assert pool.apply_async(square, (i,)).get() == i * i

def warm_up(pool):
    until = time.perf_counter() + ${WARM_UP_MS / 1000}
    i = 0
    while time.perf_counter() < until:
        assert pool.apply_async(square, (i,)).get() == i * i
        i += 1

def concurrent(pool, n):
    results = [pool.apply_async(square, (i,)) for i in range(n)]
    assert [r.get() for r in results] == [i * i for i in range(n)]

def warm_up_bursts(pool):
    until = time.perf_counter() + ${WARM_UP_MS / 1000}
    while time.perf_counter() < until:
        concurrent(pool, ${CONCURRENT})

if __name__ == '__main__':
    with ${poolExpr} as pool:
        warm_up(pool)
        concurrent(pool, 1000)
        ${sequentialFigure ? 'warm_up(pool)' : 'warm_up_bursts(pool)'}
        figures = []
        for _ in range(${RUNS}):
            t = time.perf_counter()
            ${sequentialFigure ? `sequential(pool, ${SEQUENTIAL})` : `concurrent(pool, ${CONCURRENT})`}
            elapsed = time.perf_counter() - t
            figures.append(${sequentialFigure ? `elapsed * 1e6 / ${SEQUENTIAL}` : `${CONCURRENT} / elapsed`})
    print(statistics.median(figures))
`;
}

const CPYTHON_POOL = "mp.get_context('spawn').Pool(2)";
const CPYTHON_THREADS = 'ThreadPool(2)';

function others(measure: Measure): Record<string, () => Promise<number>> {
  const entries = Object.entries(runners)
    .filter(([label]) => label !== 'mpjs Pool (processes)')
    .map(([label]) => [label, () => onRunner(label, measure)] as const);
  return Object.fromEntries(entries);
}

const workloads: Workload[] = [
  {
    group: 'node-pools',
    name: `Pool(2) of processes, x => x * x: sequential round trip (submit, await; ×${SEQUENTIAL})`,
    unit: 'µs',
    lowerIsBetter: true,
    node: () => onRunner('mpjs Pool (processes)', usPerSequentialTask),
    python: pyMeasure(CPYTHON_POOL, true),
    others: others(usPerSequentialTask),
    pythonOthers: { 'CPython ThreadPool (threads)': pyMeasure(CPYTHON_THREADS, true) },
  },
  {
    group: 'node-pools',
    name: `Pool(2) of processes, x => x * x: ${CONCURRENT} tasks submitted at once, one per item`,
    unit: 'tasks/s',
    lowerIsBetter: false,
    node: () => onRunner('mpjs Pool (processes)', tasksPerSecond),
    python: pyMeasure(CPYTHON_POOL, false),
    others: others(tasksPerSecond),
    pythonOthers: { 'CPython ThreadPool (threads)': pyMeasure(CPYTHON_THREADS, false) },
  },
];

export default workloads;
