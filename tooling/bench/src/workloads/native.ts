/**
 * The native core: the cost of an uncontended shared-memory lock, and the
 * round trip of a futex ping-pong between two processes, side by side with
 * CPython's `multiprocessing.Lock` and a pair of `multiprocessing.Semaphore`s.
 *
 * The lock is the one mpjs's primitives build on: a word in shared memory,
 * taken with `Atomics.compareExchange`, released with a compare-exchange (or a
 * store plus a futex wake when someone waits); no call into C++ when
 * uncontended. Python's `Lock` is a POSIX semaphore reached through C calls.
 *
 * Cross-process wake-ups on this VM are bimodal (same vCPU or not), so the
 * ping-pong figures are the median of three runs, in Node and in Python.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closeFd, createSharedMemory, futexWait, futexWaitAsync, futexWake } from '@mpjs/native';
import { bestOf, medianOf, nsPerOpSync, type Workload } from '../harness.js';
import { play, type WaitMode } from './native-child.js';

const childScript = fileURLToPath(new URL('./native-child.js', import.meta.url));

// A futex mutex: 0 free, 1 taken, 2 taken with waiters.
function lock(view: Int32Array): void {
  if (Atomics.compareExchange(view, 0, 0, 1) === 0) return;
  while (Atomics.exchange(view, 0, 2) !== 0) futexWait(view, 0, 2);
}

function unlock(view: Int32Array): void {
  if (Atomics.compareExchange(view, 0, 1, 0) === 1) return;
  Atomics.store(view, 0, 0);
  futexWake(view, 0, 1);
}

async function uncontendedLockNs(): Promise<number> {
  const block = createSharedMemory(64);
  closeFd(block.fd);
  const view = new Int32Array(block.buffer);
  const pair = (): void => {
    lock(view);
    unlock(view);
  };
  nsPerOpSync(200_000, pair); // warm up the JIT
  return bestOf(5, () => nsPerOpSync(5_000_000, pair));
}

/** Microseconds per round trip between this process and a child, `rounds` times. */
async function pingPongUs(mode: WaitMode, rounds: number, warmup: number): Promise<number> {
  const block = createSharedMemory(64);
  const view = new Int32Array(block.buffer);
  const child = spawn(process.execPath, [childScript, mode, String(warmup + rounds)], {
    stdio: ['ignore', 'inherit', 'inherit', block.fd],
  });
  closeFd(block.fd);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  while (Atomics.load(view, 1) === 0) await futexWaitAsync(view, 1, 0, { timeout: 100 });

  await play(view, 0, 0, warmup, mode);
  const start = process.hrtime.bigint();
  await play(view, 0, warmup, warmup + rounds, mode);
  const last = 2 * (warmup + rounds);
  for (let v = Atomics.load(view, 0); v !== last; v = Atomics.load(view, 0)) {
    if (mode === 'async') await futexWaitAsync(view, 0, v);
    else futexWait(view, 0, v);
  }
  const elapsed = Number(process.hrtime.bigint() - start);
  const code = await exit;
  if (code !== 0) throw new Error(`ping-pong child exited with ${code}`);
  return elapsed / rounds / 1000;
}

const pythonLock = `
import multiprocessing as mp, time
lock = mp.Lock()
N = 1_000_000
for _ in range(100_000):
    lock.acquire(); lock.release()
best = float('inf')
for _ in range(5):
    t = time.perf_counter_ns()
    for _ in range(N):
        lock.acquire(); lock.release()
    best = min(best, (time.perf_counter_ns() - t) / N)
print(best)
`;

const pythonPingPong = `
import multiprocessing as mp, time, statistics

def pong(ping, pong_, n):
    for _ in range(n):
        ping.acquire()
        pong_.release()

def once(rounds, warmup):
    ping, pong_ = mp.Semaphore(0), mp.Semaphore(0)
    p = mp.Process(target=pong, args=(ping, pong_, warmup + rounds))
    p.start()
    for _ in range(warmup):
        ping.release(); pong_.acquire()
    t = time.perf_counter_ns()
    for _ in range(rounds):
        ping.release(); pong_.acquire()
    elapsed = time.perf_counter_ns() - t
    p.join()
    assert p.exitcode == 0
    return elapsed / rounds / 1000

if __name__ == '__main__':
    print(statistics.median(once(20_000, 2_000) for _ in range(3)))
`;

const workloads: Workload[] = [
  {
    group: 'native',
    name: 'uncontended lock acquire+release (pair)',
    unit: 'ns',
    lowerIsBetter: true,
    node: uncontendedLockNs,
    python: pythonLock,
  },
  {
    group: 'native',
    name: 'cross-process futex ping-pong round trip, async waits',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, () => pingPongUs('async', 20_000, 2_000)),
    python: pythonPingPong,
  },
  {
    group: 'native',
    name: 'cross-process futex ping-pong round trip, blocking waits',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, () => pingPongUs('sync', 20_000, 2_000)),
    python: pythonPingPong,
  },
];

export default workloads;
