/**
 * Queue throughput between two processes, side by side with CPython: one
 * producer process puts messages, this process gets them. Small messages
 * (the numbers 0…n-1) in msg/s for Queue and SimpleQueue, and 1 MiB buffers
 * in MB/s. The clock starts when the first message arrives, so process
 * start-up is not counted (in either language). Median of three runs.
 *
 * mpjs's queues are a ring in shared memory: a put copies the encoded
 * message into it and a get decodes it from there; a side sleeps on a futex
 * only when the ring is empty (or full), and is woken only then. CPython's
 * Queue pickles in a feeder thread and writes to a pipe (64 KiB), the reader
 * takes a lock and reads from the pipe.
 */
import { Process } from '@mpjs/process';
import { Queue, SimpleQueue } from '@mpjs/queues';
import { medianOf, type Workload } from '../harness.js';
import { produce } from './queues-child.js';

const SMALL = 200_000;
const LARGE = 500;
const MiB = 1 << 20;

type Make = () => Queue | SimpleQueue;

/** One run: msg/s for small messages (`size` 0), MB/s for `size`-byte ones. */
async function once(make: Make, n: number, size: number): Promise<number> {
  const q = make();
  const p = new Process({ target: produce, args: [q, n, size] });
  p.start();
  let check = (await q.get()) as number | Buffer;
  const t0 = performance.now();
  for (let i = 1; i < n; i++) {
    const v = (await q.get()) as number | Buffer;
    check = typeof v === 'number' ? (check as number) + v : v;
  }
  const seconds = (performance.now() - t0) / 1000;
  await p.join();
  q.close();
  if (p.exitcode !== 0) throw new Error(`queue producer exited with ${p.exitcode}`);
  if (size === 0 ? check !== (n * (n - 1)) / 2 : (check as Buffer).length !== size) throw new Error('queue workload: wrong data received');
  return size === 0 ? (n - 1) / seconds : ((n - 1) * size) / seconds / 1e6;
}

function python(cls: 'Queue' | 'SimpleQueue', n: number, size: number): string {
  return `
import multiprocessing as mp, time, statistics

def produce(q, n, size):
    payload = b'\\x01' * size if size else None
    for i in range(n):
        q.put(payload if size else i)

def once():
    q = mp.${cls}()
    p = mp.Process(target=produce, args=(q, ${n}, ${size}))
    p.start()
    q.get()
    t = time.perf_counter()
    for _ in range(${n} - 1):
        q.get()
    seconds = time.perf_counter() - t
    p.join()
    assert p.exitcode == 0
    return (${n} - 1) / seconds if ${size} == 0 else (${n} - 1) * ${size} / seconds / 1e6

if __name__ == '__main__':
    print(statistics.median(once() for _ in range(3)))
`;
}

const workloads: Workload[] = [
  {
    group: 'queues',
    name: `Queue, ${SMALL / 1000}k small messages, one producer process → one consumer`,
    unit: 'msg/s',
    lowerIsBetter: false,
    node: () => medianOf(3, () => once(() => new Queue(), SMALL, 0)),
    python: python('Queue', SMALL, 0),
  },
  {
    group: 'queues',
    name: `SimpleQueue, ${SMALL / 1000}k small messages, one producer process → one consumer`,
    unit: 'msg/s',
    lowerIsBetter: false,
    node: () => medianOf(3, () => once(() => new SimpleQueue(), SMALL, 0)),
    python: python('SimpleQueue', SMALL, 0),
  },
  {
    group: 'queues',
    name: `Queue, ${LARGE} messages of 1 MiB, one producer process → one consumer`,
    unit: 'MB/s',
    lowerIsBetter: false,
    node: () => medianOf(3, () => once(() => new Queue(), LARGE, MiB)),
    python: python('Queue', LARGE, MiB),
    others: {
      // A ring of 8 MiB instead of the default 1 MiB: the producer can run further ahead.
      'mpjs, bufferSize 8 MiB': () => medianOf(3, () => once(() => new Queue(0, { bufferSize: 8 * MiB }), LARGE, MiB)),
    },
  },
];

export default workloads;
