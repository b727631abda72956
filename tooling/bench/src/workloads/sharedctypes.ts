/**
 * Shared ctypes objects side by side with CPython's `multiprocessing`:
 *
 * - reading `RawValue('i').value` (a getter over a one-element typed array
 *   on shared memory; Python goes through ctypes' descriptor machinery);
 * - reading `a[i]` of a `RawArray('i')` (here through the `Proxy` at the end
 *   of the prototype chain; `get(i)` and the typed-array view are given as
 *   "others" for comparison);
 * - two processes each doing 200,000 increments of one `Value('i')`, each
 *   under the value's lock (`using _ = v.holdSync(); v.value += 1`, Python's
 *   `with v.get_lock(): v.value += 1`); the total is checked to be exact, the
 *   figure is increments per second from the go signal to the last one.
 */
import { getContext } from '@mpjs/process';
import { RawArray, RawValue, Value } from '@mpjs/sharedctypes';
import { bestOf, medianOf, type Workload } from '../harness.js';
import { lockedIncrements } from './sharedctypes-child.js';


const READS = 10_000_000;

/** Nanoseconds per iteration of `body` run `n` times (the loop is part of the figure, as in Python's timeit). */
function perIteration(n: number, body: (n: number) => number): number {
  const start = process.hrtime.bigint();
  const sink = body(n);
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (Number.isNaN(sink)) throw new Error('unreachable');
  return ns;
}

async function rawValueReadNs(): Promise<number> {
  const v = new RawValue('i', 3);
  const loop = (n: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += v.value;
    return s;
  };
  for (let k = 0; k < 3; k++) loop(READS);
  return bestOf(7, () => perIteration(READS, loop));
}

function indexLoop(read: (i: number) => number): (n: number) => number {
  return (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += read(i & 1023);
    return s;
  };
}

async function arrayReadNs(kind: 'index' | 'get' | 'typed'): Promise<number> {
  const a = new RawArray('i', 1024);
  const t = a.typed;
  const loop = indexLoop(kind === 'index' ? (i) => a[i]! : kind === 'get' ? (i) => a.get(i) : (i) => t[i]!);
  const n = kind === 'index' ? 1_000_000 : READS;
  for (let k = 0; k < 3; k++) loop(n);
  return bestOf(5, () => perIteration(n, loop));
}

const INCREMENTS = 200_000;

async function lockedIncrementsPerSecond(): Promise<number> {
  const ctx = getContext('spawn');
  const v = new Value('i', 0);
  const flags = new RawArray('q', 6);
  const children = [0, 1].map((k) => ctx.Process({ target: lockedIncrements, args: [v, INCREMENTS, flags, k] }));
  for (const c of children) c.start();
  while (Atomics.load(flags.typed, 0) < 2n) await new Promise((resolve) => setTimeout(resolve, 1));
  Atomics.store(flags.typed, 1, 1n);
  await Promise.all(children.map((c) => c.join()));
  if (children.some((c) => c.exitcode !== 0)) throw new Error(`increment children exited with ${children.map((c) => c.exitcode).join(', ')}`);
  if (v.value !== 2 * INCREMENTS) throw new Error(`lost updates: the total is ${v.value}, not ${2 * INCREMENTS}`);
  const start = flags[2]! < flags[4]! ? flags[2]! : flags[4]!;
  const end = flags[3]! > flags[5]! ? flags[3]! : flags[5]!;
  return (2 * INCREMENTS) / (Number(end - start) / 1e9);
}

const pythonRawValueRead = `
import timeit
from multiprocessing.sharedctypes import RawValue
v = RawValue('i', 3)
n = 2_000_000
print(min(timeit.repeat('v.value', globals={'v': v}, number=n, repeat=7)) / n * 1e9)
`;

const pythonArrayIndex = `
import timeit
from multiprocessing.sharedctypes import RawArray
a = RawArray('i', 1024)
n = 2_000_000
print(min(timeit.repeat('a[i & 1023]', setup='i = 517', globals={'a': a}, number=n, repeat=7)) / n * 1e9)
`;

const pythonLockedIncrements = `
import multiprocessing as mp, time

N = ${INCREMENTS}

def work(v, ready, go, times, k):
    ready.release()
    go.wait()
    times[2 * k] = time.perf_counter()
    for _ in range(N):
        with v.get_lock():
            v.value += 1
    times[2 * k + 1] = time.perf_counter()

if __name__ == '__main__':
    results = []
    for _ in range(3):
        v = mp.Value('i', 0)
        ready, go = mp.Semaphore(0), mp.Event()
        times = mp.Array('d', 4, lock=False)
        ps = [mp.Process(target=work, args=(v, ready, go, times, k)) for k in range(2)]
        for p in ps: p.start()
        ready.acquire(); ready.acquire()
        go.set()
        for p in ps: p.join()
        assert v.value == 2 * N, v.value
        results.append(2 * N / (max(times[1], times[3]) - min(times[0], times[2])))
    results.sort()
    print(results[1])
`;

const workloads: Workload[] = [
  {
    group: 'sharedctypes',
    name: "RawValue('i').value read",
    unit: 'ns',
    lowerIsBetter: true,
    node: rawValueReadNs,
    python: pythonRawValueRead,
  },
  {
    group: 'sharedctypes',
    name: "RawArray('i') a[i] read",
    unit: 'ns',
    lowerIsBetter: true,
    node: () => arrayReadNs('index'),
    python: pythonArrayIndex,
    others: { 'a.get(i)': () => arrayReadNs('get'), 'a.typed[i]': () => arrayReadNs('typed') },
  },
  {
    group: 'sharedctypes',
    name: `Value('i') locked increments, 2 processes × ${INCREMENTS / 1000}k`,
    unit: 'ops/s',
    lowerIsBetter: false,
    node: () => medianOf(3, lockedIncrementsPerSecond),
    python: pythonLockedIncrements,
  },
];

export default workloads;
