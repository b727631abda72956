/**
 * Managers, side by side with CPython's `multiprocessing.Manager()`:
 *
 * - `Manager()` start-up and `shutdown()`, ms (a server process each time);
 * - a `dict` proxy's `set` followed by `get` (two round trips to the server), µs.
 *
 * Medians of three runs, after a warm-up. Start-up is dominated by launching
 * a Node interpreter for the server, so the CPython figure it is compared with
 * spawns its server too (`get_context('spawn')`, mpjs's default start method);
 * CPython's default on Linux, fork, which Node cannot do, is shown beside it,
 * as is forkserver against mpjs's forkserver.
 */
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
    name: 'dict proxy set + get round trip',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, dictRoundTrip),
    python: PY_DICT,
  },
];

export default workloads;
