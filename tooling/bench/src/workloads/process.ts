/**
 * Process start→join of a trivial target, with each start method, side by
 * side with CPython's `spawn` and `forkserver` contexts (CPython's `fork`,
 * which Node cannot do, is shown beside the first figure).
 *
 * The target is `os.tmpdir`, a built-in function (it travels by reference
 * like any exported function), so a child imports nothing of the bench.
 *
 * The machine sets NODE_EXTRA_CA_CERTS, which makes every Node start-up read
 * a CA bundle (~28 ms); Python is not affected. Start-up figures are given
 * with the variable (as the machine is) and without it (removed from the
 * environment the children inherit). A forkserver start hands the process to
 * a warm interpreter, so the variable does not matter there.
 *
 * `forkserver` is measured with a warm interpreter ready (the pool refills in
 * the background between starts, as Python's fork server forks from a
 * waiting server), and also back to back, where the pool's refill rate (one
 * Node start-up per process) becomes the limit.
 */
import { tmpdir } from 'node:os';
import { getContext, type BaseContext } from '@mpjs/process';
import { withoutExtraCerts, type Workload } from '../harness.js';

const ITERATIONS = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function startJoin(ctx: BaseContext): Promise<number> {
  const t0 = performance.now();
  const p = ctx.Process({ target: tmpdir });
  p.start();
  await p.join();
  const ms = performance.now() - t0;
  if (p.exitcode !== 0) throw new Error(`trivial child exited with ${p.exitcode}`);
  return ms;
}

async function spawnMedian(): Promise<number> {
  const ctx = getContext('spawn');
  await startJoin(ctx); // warm the parent's code paths
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) times.push(await startJoin(ctx));
  return median(times);
}

async function forkserverWarm(): Promise<number> {
  const ctx = getContext('forkserver');
  await ctx.ensureRunning();
  await startJoin(ctx);
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    await ctx.ensureRunning();
    times.push(await startJoin(ctx));
  }
  await ctx.stopForkserver();
  return median(times);
}

async function forkserverBackToBack(): Promise<number> {
  const ctx = getContext('forkserver');
  await ctx.ensureRunning();
  const t0 = performance.now();
  for (let i = 0; i < ITERATIONS; i++) await startJoin(ctx);
  const mean = (performance.now() - t0) / ITERATIONS;
  await ctx.stopForkserver();
  return mean;
}

function pythonStartJoin(method: 'spawn' | 'forkserver' | 'fork', backToBack: boolean): string {
  return `
import multiprocessing as mp, time

def trivial():
    pass

if __name__ == '__main__':
    ctx = mp.get_context(${JSON.stringify(method)})
    p = ctx.Process(target=trivial); p.start(); p.join()
    times = []
    t_all = time.perf_counter()
    for _ in range(${ITERATIONS}):
        t = time.perf_counter()
        p = ctx.Process(target=trivial)
        p.start()
        p.join()
        times.append((time.perf_counter() - t) * 1000)
    total = (time.perf_counter() - t_all) * 1000
    times.sort()
    print(${backToBack ? `total / ${ITERATIONS}` : 'times[len(times) // 2]'})
`;
}

const workloads: Workload[] = [
  {
    group: 'process',
    name: 'start→join, spawn (NODE_EXTRA_CA_CERTS set, as on this machine)',
    unit: 'ms',
    lowerIsBetter: true,
    node: spawnMedian,
    python: pythonStartJoin('spawn', false),
    pythonOthers: { 'CPython fork': pythonStartJoin('fork', false) },
  },
  {
    group: 'process',
    name: 'start→join, spawn (NODE_EXTRA_CA_CERTS removed)',
    unit: 'ms',
    lowerIsBetter: true,
    node: () => withoutExtraCerts(spawnMedian),
    python: pythonStartJoin('spawn', false),
  },
  {
    group: 'process',
    name: 'start→join, forkserver (warm interpreter ready)',
    unit: 'ms',
    lowerIsBetter: true,
    node: forkserverWarm,
    python: pythonStartJoin('forkserver', false),
  },
  {
    group: 'process',
    name: `start→join, forkserver, ${ITERATIONS} back to back (NODE_EXTRA_CA_CERTS removed)`,
    unit: 'ms',
    lowerIsBetter: true,
    node: () => withoutExtraCerts(forkserverBackToBack),
    python: pythonStartJoin('forkserver', true),
  },
];

export default workloads;
