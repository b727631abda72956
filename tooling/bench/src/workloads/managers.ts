/**
 * Managers, side by side with CPython's `multiprocessing.Manager()`:
 *
 * - `Manager()` start-up and `shutdown()`, ms (a server process each time);
 * - the same as the first thing a fresh program does, module import included
 *   (what a short script pays, before anything is loaded or compiled);
 * - a `dict` proxy's `set` followed by `get` (two round trips to the server), µs.
 *
 * Medians of three runs, after a warm-up. Start-up is dominated by launching
 * a Node interpreter for the server, so the CPython figure it is compared with
 * spawns its server too (`get_context('spawn')`, mpjs's default start method);
 * CPython's default on Linux, fork, which Node cannot do, is shown beside it,
 * as is forkserver against mpjs's forkserver.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Manager, type ManagerOptions } from '@mpjs/managers';
import { getContext } from '@mpjs/process';
import { medianOf, withoutExtraCerts, type Workload } from '../harness.js';

const START_RUNS = 5;
const ROUND_TRIPS = 5_000;
const WARM_UP = 3_000;

/** ms per Manager() start + shutdown. */
async function startShutdown(options: ManagerOptions = {}): Promise<number> {
  // Warm-up: the first start pays for loading modules in this process (and starting the forkserver).
  await (await Manager(options)).shutdown();
  const t0 = performance.now();
  for (let i = 0; i < START_RUNS; i++) {
    const m = await Manager(options);
    await m.shutdown();
  }
  return (performance.now() - t0) / START_RUNS;
}

/** ms of a fresh program's first Manager() start + shutdown, import of the package included. */
async function firstStartShutdown(): Promise<number> {
  const child = fileURLToPath(new URL('./managers-first-child.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [child], { encoding: 'utf8', timeout: 60_000 });
  const ms = Number(stdout.trim().split('\n').pop());
  if (!Number.isFinite(ms)) throw new Error(`managers workload: the first-Manager child printed ${JSON.stringify(stdout)}`);
  return ms;
}

/** CPython's first Manager() start + shutdown in a fresh program, ms (median of three programs, as for mpjs). */
const PY_FIRST_START = `
import statistics, subprocess, sys
FIRST = """
import multiprocessing as mp, time
if __name__ == '__main__':
    t0 = time.perf_counter()
    mp.get_context('spawn').Manager().shutdown()
    print((time.perf_counter() - t0) * 1000)
"""
runs = [float(subprocess.run([sys.executable, '-c', FIRST], capture_output=True, text=True, check=True).stdout.split()[-1]) for _ in range(3)]
print(statistics.median(runs))
`;

/** µs per `d.set(k, v)` + `d.get(k)`. */
async function dictRoundTrip(): Promise<number> {
  const m = await Manager();
  try {
    const d = await m.dict<string, number>();
    for (let i = 0; i < WARM_UP; i++) {
      await d.set('k', i);
      await d.get('k');
    }
    const t0 = performance.now();
    for (let i = 0; i < ROUND_TRIPS; i++) {
      await d.set('k', i);
      if ((await d.get('k')) !== i) throw new Error('managers workload: dict returned the wrong value');
    }
    return ((performance.now() - t0) * 1000) / ROUND_TRIPS;
  } finally {
    await m.shutdown();
  }
}

/** CPython's Manager() start + shutdown, ms, with the given start method. */
function pyStart(method: 'spawn' | 'forkserver' | 'fork'): string {
  return `
import multiprocessing as mp, time
if __name__ == '__main__':
    ctx = mp.get_context(${JSON.stringify(method)})
    ctx.Manager().shutdown()
    t0 = time.perf_counter()
    for _ in range(${START_RUNS}):
        m = ctx.Manager()
        m.shutdown()
    print((time.perf_counter() - t0) * 1000 / ${START_RUNS})
`;
}

const PY_DICT = `
import multiprocessing as mp, time
if __name__ == '__main__':
    with mp.Manager() as m:
        d = m.dict()
        for i in range(${WARM_UP}):
            d['k'] = i
            d['k']
        t0 = time.perf_counter()
        for i in range(${ROUND_TRIPS}):
            d['k'] = i
            assert d['k'] == i
        print((time.perf_counter() - t0) * 1e6 / ${ROUND_TRIPS})
`;

const workloads: Workload[] = [
  {
    group: 'managers',
    name: 'Manager() start + shutdown (spawn)',
    unit: 'ms',
    lowerIsBetter: true,
    node: () => medianOf(3, () => startShutdown()),
    python: pyStart('spawn'),
    pythonOthers: { 'CPython forkserver': pyStart('forkserver'), 'CPython fork': pyStart('fork') },
    others: {
      // The server handed to a warm interpreter of the forkserver start method, one ready each
      // time (the pool refills between starts, as CPython's fork server forks from a waiting server).
      'mpjs forkserver (warm interpreter ready)': async () => {
        const ctx = getContext('forkserver');
        try {
          await startShutdown({ ctx }); // loads the modules here and teaches the forkserver the server's
          await ctx.stopForkserver(); // interpreters started from now on have them loaded
          const times: number[] = [];
          for (let i = 0; i < START_RUNS; i++) {
            await ctx.ensureRunning();
            const t0 = performance.now();
            await (await Manager({ ctx })).shutdown();
            times.push(performance.now() - t0);
          }
          return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
        } finally {
          await ctx.stopForkserver();
        }
      },
    },
  },
  {
    group: 'managers',
    name: 'Manager() start + shutdown (spawn, NODE_EXTRA_CA_CERTS removed)',
    unit: 'ms',
    lowerIsBetter: true,
    node: () => withoutExtraCerts(() => medianOf(3, () => startShutdown())),
    python: pyStart('spawn'),
  },
  {
    group: 'managers',
    name: "a fresh program's first Manager() start + shutdown, import included (spawn, NODE_EXTRA_CA_CERTS removed)",
    unit: 'ms',
    lowerIsBetter: true,
    node: () => withoutExtraCerts(() => medianOf(3, firstStartShutdown)),
    python: PY_FIRST_START,
  },
  {
    group: 'managers',
    name: 'dict proxy set + get round trip',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, dictRoundTrip),
    python: PY_DICT,
  },
];

export default workloads;
