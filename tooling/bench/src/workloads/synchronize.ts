/**
 * The synchronization primitives, side by side with CPython's
 * `multiprocessing`: the uncontended cost of Lock and RLock (blocking and
 * promise forms), the throughput of two processes incrementing a shared
 * counter under one Lock, and the round trips of a Semaphore ping-pong and of
 * an Event handshake between two processes.
 *
 * An uncontended mpjs lock is a compare-exchange and an exchange on a word of
 * shared memory, in JavaScript; Python's is a POSIX semaphore reached through
 * C calls. Cross-process wake-ups on this VM are bimodal (same vCPU or not),
 * so those figures are the median of three runs, in Node and in Python.
 */
import { getContext } from '@mpjs/process';
import { Event, Lock, RLock, Semaphore } from '@mpjs/synchronize';
import { bestOf, medianOf, nsPerOpSync, type Workload } from '../harness.js';
import { eventPonger, incrementer, semaphorePonger, SharedWords, type Mode } from './synchronize-child.js';

const ctx = getContext('spawn');
/** Milliseconds after which a wait on a child is given up (it failed), so a broken run cannot hang. */
const LIMIT = 60_000;

function check(ok: boolean): void {
  if (!ok) throw new Error(`the other process did not answer within ${LIMIT} ms`);
}

function uncontendedSync(lock: Lock | RLock): Promise<number> {
  const pair = (): void => {
    lock.acquireSync();
    lock.release();
  };
  nsPerOpSync(200_000, pair); // warm up the JIT
  return bestOf(5, () => nsPerOpSync(5_000_000, pair));
}

async function uncontendedAsync(lock: Lock | RLock): Promise<number> {
  // One await per pair, as code that awaits the lock pays (no extra async call per iteration).
  const loop = async (iterations: number): Promise<number> => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) {
      await lock.acquire();
      lock.release();
    }
    return Number(process.hrtime.bigint() - start) / iterations;
  };
  await loop(200_000);
  return bestOf(5, () => loop(2_000_000));
}

/** Increments per second of two processes each doing `n` locked increments of one counter. */
async function lockedIncrements(mode: Mode, n = 200_000): Promise<number> {
  const lock = new Lock();
  const counter = new SharedWords(1);
  const ready = new Semaphore(0);
  const start = new Event();
  const done = new Semaphore(0);
  const children = [0, 1].map(() => ctx.Process({ target: incrementer, args: [lock, counter, n, ready, start, done, mode] }));
  for (const p of children) p.start();
  for (const _ of children) if (!(await ready.acquire({ timeout: LIMIT }))) throw new Error('an incrementing child did not start');
  const t0 = process.hrtime.bigint();
  start.set();
  for (const _ of children) if (!(await done.acquire({ timeout: LIMIT }))) throw new Error('an incrementing child did not finish');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all(children.map((p) => p.join()));
  const total = counter.view[0];
  counter.close();
  if (children.some((p) => p.exitcode !== 0)) throw new Error('an incrementing child failed');
  if (total !== 2 * n) throw new Error(`locked increments lost updates: ${total} instead of ${2 * n}`);
  return (2 * n) / seconds;
}

/** Microseconds per round trip of `step` against a child playing its part, `rounds` times after a warm-up. */
async function roundTrip(start: (rounds: number) => ReturnType<typeof ctx.Process>, step: () => unknown, rounds: number, warmup: number): Promise<number> {
  const child = start(warmup + rounds);
  child.start();
  for (let r = 0; r < warmup; r++) await step();
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) await step();
  const elapsed = Number(process.hrtime.bigint() - t0);
  await child.join();
  if (child.exitcode !== 0) throw new Error(`round-trip child exited with ${child.exitcode}`);
  return elapsed / rounds / 1000;
}

function semaphorePingPong(mode: Mode, rounds = 20_000, warmup = 2_000): Promise<number> {
  const ping = new Semaphore(0);
  const pong = new Semaphore(0);
  const step =
    mode === 'sync'
      ? (): void => {
          ping.release();
          check(pong.acquireSync({ timeout: LIMIT }));
        }
      : async (): Promise<void> => {
          ping.release();
          check(await pong.acquire({ timeout: LIMIT }));
        };
  return roundTrip((n) => ctx.Process({ target: semaphorePonger, args: [ping, pong, n, mode] }), step, rounds, warmup);
}

function eventRoundTrip(mode: Mode, rounds = 10_000, warmup = 1_000): Promise<number> {
  const there = new Event();
  const back = new Event();
  const step =
    mode === 'sync'
      ? (): void => {
          there.set();
          check(back.waitSync(LIMIT));
          back.clear();
        }
      : async (): Promise<void> => {
          there.set();
          check(await back.wait(LIMIT));
          back.clear();
        };
  return roundTrip((n) => ctx.Process({ target: eventPonger, args: [there, back, n, mode] }), step, rounds, warmup);
}

const pythonUncontended = (cls: 'Lock' | 'RLock'): string => `
import multiprocessing as mp, time
lock = mp.${cls}()
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

const pythonIncrements = `
import multiprocessing as mp, time, statistics

def incrementer(lock, counter, n, ready, start, done):
    ready.release()
    start.wait()
    for _ in range(n):
        lock.acquire()
        counter.value += 1
        lock.release()
    done.release()

def once(n):
    lock, counter = mp.Lock(), mp.RawValue('i', 0)
    ready, start, done = mp.Semaphore(0), mp.Event(), mp.Semaphore(0)
    ps = [mp.Process(target=incrementer, args=(lock, counter, n, ready, start, done)) for _ in range(2)]
    for p in ps: p.start()
    for _ in ps: ready.acquire()
    t = time.perf_counter()
    start.set()
    for _ in ps: done.acquire()
    seconds = time.perf_counter() - t
    for p in ps: p.join()
    assert counter.value == 2 * n, counter.value
    return 2 * n / seconds

if __name__ == '__main__':
    print(statistics.median(once(200_000) for _ in range(3)))
`;

const pythonSemaphore = `
import multiprocessing as mp, time, statistics

def ponger(ping, pong, n):
    for _ in range(n):
        ping.acquire()
        pong.release()

def once(rounds, warmup):
    ping, pong = mp.Semaphore(0), mp.Semaphore(0)
    p = mp.Process(target=ponger, args=(ping, pong, warmup + rounds))
    p.start()
    for _ in range(warmup):
        ping.release(); pong.acquire()
    t = time.perf_counter_ns()
    for _ in range(rounds):
        ping.release(); pong.acquire()
    elapsed = time.perf_counter_ns() - t
    p.join()
    assert p.exitcode == 0
    return elapsed / rounds / 1000

if __name__ == '__main__':
    print(statistics.median(once(20_000, 2_000) for _ in range(3)))
`;

const pythonEvent = `
import multiprocessing as mp, time, statistics

def ponger(there, back, n):
    for _ in range(n):
        there.wait()
        there.clear()
        back.set()

def once(rounds, warmup):
    there, back = mp.Event(), mp.Event()
    p = mp.Process(target=ponger, args=(there, back, warmup + rounds))
    p.start()
    def step():
        there.set(); back.wait(); back.clear()
    for _ in range(warmup):
        step()
    t = time.perf_counter_ns()
    for _ in range(rounds):
        step()
    elapsed = time.perf_counter_ns() - t
    p.join()
    assert p.exitcode == 0
    return elapsed / rounds / 1000

if __name__ == '__main__':
    print(statistics.median(once(10_000, 1_000) for _ in range(3)))
`;

const workloads: Workload[] = [
  {
    group: 'synchronize',
    name: 'uncontended Lock acquireSync+release (pair)',
    unit: 'ns',
    lowerIsBetter: true,
    node: () => uncontendedSync(new Lock()),
    python: pythonUncontended('Lock'),
  },
  {
    group: 'synchronize',
    name: 'uncontended Lock await acquire()+release (pair)',
    unit: 'ns',
    lowerIsBetter: true,
    node: () => uncontendedAsync(new Lock()),
    python: pythonUncontended('Lock'),
  },
  {
    group: 'synchronize',
    name: 'uncontended RLock acquireSync+release (pair)',
    unit: 'ns',
    lowerIsBetter: true,
    node: () => uncontendedSync(new RLock()),
    python: pythonUncontended('RLock'),
  },
  {
    group: 'synchronize',
    name: 'uncontended RLock await acquire()+release (pair)',
    unit: 'ns',
    lowerIsBetter: true,
    node: () => uncontendedAsync(new RLock()),
    python: pythonUncontended('RLock'),
  },
  {
    group: 'synchronize',
    name: '2 processes x 200k Lock-guarded increments, blocking acquire',
    unit: 'ops/s',
    lowerIsBetter: false,
    node: () => medianOf(3, () => lockedIncrements('sync')),
    python: pythonIncrements,
  },
  {
    group: 'synchronize',
    name: '2 processes x 200k Lock-guarded increments, await acquire()',
    unit: 'ops/s',
    lowerIsBetter: false,
    node: () => medianOf(3, () => lockedIncrements('async')),
    python: pythonIncrements,
  },
  {
    group: 'synchronize',
    name: 'Semaphore ping-pong between 2 processes, round trip, blocking waits',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, () => semaphorePingPong('sync')),
    python: pythonSemaphore,
  },
  {
    group: 'synchronize',
    name: 'Semaphore ping-pong between 2 processes, round trip, async waits',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, () => semaphorePingPong('async')),
    python: pythonSemaphore,
  },
  {
    group: 'synchronize',
    name: 'Event set/wait/clear round trip between 2 processes, blocking waits',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, () => eventRoundTrip('sync')),
    python: pythonEvent,
  },
  {
    group: 'synchronize',
    name: 'Event set/wait/clear round trip between 2 processes, async waits',
    unit: 'µs',
    lowerIsBetter: true,
    node: () => medianOf(3, () => eventRoundTrip('async')),
    python: pythonEvent,
  },
];

export default workloads;
