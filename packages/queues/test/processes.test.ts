/**
 * Queues across real processes started by @mpjs/process: the spec's example
 * under both start methods, ordering and counts with four producers and four
 * consumers, 10 MiB objects, JoinableQueue, the flush before exit (and
 * cancelJoinThread), and producers killed with SIGKILL in the middle of a
 * large put.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getContext, type ForkServerContext, type Process } from '@mpjs/process';
import { eventually } from '@mpjs/test-utils';
import { markedProcesses, memfdCount } from './helpers.js';
import { Empty, Full, JoinableQueue, Queue, SimpleQueue } from '../src/index.js';
import { channelOf } from '../src/core.js';
import { Word } from '../src/ring-buffer.js';

/** A word of a queue's shared header (to see who holds its locks). */
function word(q: object, index: number): number {
  return Atomics.load(channelOf(q).ring.words, index);
}
import {
  checkPattern,
  consume,
  getAndHang,
  pattern,
  produce,
  putHello,
  putLargeAndHang,
  putMany,
  putPattern,
  putWithoutYielding,
  squareWorker,
  type ConsumerReport,
} from './fixtures/targets.js';

const spawn = getContext('spawn');
let memfdsBefore = 0;

beforeAll(() => {
  memfdsBefore = memfdCount();
});

afterAll(async () => {
  await (getContext('forkserver') as ForkServerContext).stopForkserver();
  // Nothing this file started survives it, and every queue gave its descriptor back.
  expect(await eventually(() => markedProcesses().length === 0, 10_000)).toBe(true);
  expect(memfdCount()).toBe(memfdsBefore);
});

async function finish(...processes: Process[]): Promise<Array<number | null>> {
  await Promise.all(processes.map((p) => p.join()));
  return processes.map((p) => p.exitcode);
}

describe.each(['spawn', 'forkserver'] as const)('the spec example with start method %s', (method) => {
  const ctx = getContext(method);

  it.each([
    ['Queue', () => new Queue()],
    ['SimpleQueue', () => new SimpleQueue()],
  ])('a child puts [42, null, "hello"] on a %s and the parent gets it', async (_name, make) => {
    const q = make();
    const p = ctx.Process({ target: putHello, args: [q] });
    p.start();
    expect(await q.get()).toEqual([42, null, 'hello']);
    expect(await finish(p)).toEqual([0]);
    q.close();
  });
});

describe('across processes', () => {
  it('4 producers and 4 consumers: every item once, each producer in order', async () => {
    const producers = 4;
    const n = 3000;
    const q = new Queue<[number, number] | null>();
    const results = new Queue<ConsumerReport>();
    const consumers = Array.from({ length: 4 }, () => spawn.Process({ target: consume, args: [q, results, producers] }));
    const makers = Array.from({ length: producers }, (_, id) => spawn.Process({ target: produce, args: [q, id, n] }));
    for (const p of [...consumers, ...makers]) p.start();
    expect(await finish(...makers)).toEqual([0, 0, 0, 0]);
    for (let i = 0; i < consumers.length; i++) await q.put(null);
    const reports: ConsumerReport[] = [];
    for (let i = 0; i < consumers.length; i++) reports.push(await results.get({ timeout: 30_000 }));
    expect(await finish(...consumers)).toEqual([0, 0, 0, 0]);
    expect(reports.every((r) => r.inOrder)).toBe(true);
    for (let id = 0; id < producers; id++) {
      expect(reports.reduce((a, r) => a + r.counts[id]!, 0)).toBe(n);
      expect(reports.reduce((a, r) => a + r.sums[id]!, 0)).toBe((n * (n - 1)) / 2);
    }
    expect(q.qsize()).toBe(0);
    q.close();
    results.close();
  });

  it('carries 10 MiB objects from a child and to a child', async () => {
    const size = 10 << 20;
    const up = new Queue();
    const child = spawn.Process({ target: putPattern, args: [up, size, 11] });
    child.start();
    const got = (await up.get()) as { seed: number; data: Buffer };
    expect(got.seed).toBe(11);
    expect(got.data.equals(pattern(size, 11))).toBe(true);

    const down = new Queue();
    const results = new Queue<{ seed: number; size: number; ok: boolean }>();
    const checker = spawn.Process({ target: checkPattern, args: [down, results] });
    checker.start();
    await down.put({ seed: 12, data: pattern(size, 12) });
    expect(await results.get()).toEqual({ seed: 12, size, ok: true });
    expect(await finish(child, checker)).toEqual([0, 0]);
    for (const q of [up, down, results]) q.close();
  });

  it('JoinableQueue: join() resolves once workers in other processes marked every task done', async () => {
    const tasks = new JoinableQueue<number | null>();
    const results = new Queue<number>();
    const workers = [0, 1].map(() => spawn.Process({ target: squareWorker, args: [tasks, results] }));
    for (const w of workers) w.start();
    for (let i = 1; i <= 200; i++) await tasks.put(i);
    await tasks.join();
    // Every result was put before its task was marked done.
    let sum = 0;
    for (let i = 0; i < 200; i++) sum += results.getNowait();
    expect(sum).toBe((200 * 201 * 401) / 6);
    expect(() => results.getNowait()).toThrow(Empty);
    await tasks.put(null);
    await tasks.put(null);
    await tasks.join();
    expect(await finish(...workers)).toEqual([0, 0]);
    expect(() => tasks.taskDone()).toThrow(/called more times/);
    tasks.close();
    results.close();
  });

  it('a child flushes what it put before it exits, however long the readers take', async () => {
    const q = new Queue<[number, Buffer]>();
    // 4 MiB in 40 items; the ring holds 1 MiB, so the child must wait for this reader.
    const p = spawn.Process({ target: putMany, args: [q, 40, 100_000, false] });
    p.start();
    await p.join(1_500);
    expect(p.isAlive()).toBe(true);
    for (let i = 0; i < 40; i++) {
      const [n, data] = await q.get({ timeout: 20_000 });
      expect(n).toBe(i);
      expect(data.length === 100_000 && data[99_999] === (i & 0xff)).toBe(true);
    }
    expect(await finish(p)).toEqual([0]);
    expect(q.empty()).toBe(true);
    q.close();
  });

  it('a producer that never lets its event loop turn still feeds the ring, put by put', async () => {
    // 256 small records fill this ring; the child waits for acknowledgements 300 items back.
    const q = new Queue<number>(0, { bufferSize: 4096 });
    const acks = new Queue<number>();
    const n = 2000;
    const p = spawn.Process({ target: putWithoutYielding, args: [q, acks, n, 300] });
    p.start();
    for (let i = 0; i < n; i++) {
      expect(await q.get({ timeout: 20_000 })).toBe(i);
      await acks.put(i);
    }
    expect(await finish(p)).toEqual([0]);
    q.close();
    acks.close();
  });

  it('cancelJoinThread() lets a child exit at once: what was not flushed is lost, what was is intact and in order', async () => {
    const q = new Queue<[number, Buffer]>();
    const p = spawn.Process({ target: putMany, args: [q, 40, 100_000, true] });
    p.start();
    await p.join(20_000);
    expect(p.exitcode).toBe(0);
    const got: number[] = [];
    for (;;) {
      try {
        got.push(q.getNowait()[0]);
      } catch (error) {
        expect(error).toBeInstanceOf(Empty);
        break;
      }
    }
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(40);
    expect(got).toEqual(got.map((_, i) => i));
    // What the child reserved and never wrote is not counted once it is gone.
    expect(q.qsize()).toBe(0);
    q.close();
  });
});

describe('a producer killed (SIGKILL) in the middle of a large put', () => {
  const ring = { bufferSize: 65536 };

  it('neither corrupts nor blocks the queue: the next writer takes its lock over and its reservations are given back', async () => {
    const q = new JoinableQueue<unknown>(3, ring);
    const killed = spawn.Process({ target: putLargeAndHang, args: [q, 10 << 20] });
    killed.start();
    // Its first pieces are in the ring; it holds the write lock, waiting for room.
    expect(await eventually(() => !q.empty(), 15_000, 10)).toBe(true);
    expect(q.qsize()).toBe(1);
    expect(word(q, Word.WRITE_LOCK)).toBe(killed.pid);
    killed.kill();
    expect(await finish(killed)).toEqual([-9]);
    // This put waits for the dead writer's lock, takes it over and ends the dead message.
    await q.put('after');
    expect(await eventually(() => word(q, Word.WRITE_LOCK) !== killed.pid, 5_000, 10)).toBe(true);
    expect(q.qsize()).toBe(1);
    // The reader skips the pieces of the dead message and gets the next one.
    expect(await q.get({ timeout: 10_000 })).toBe('after');
    q.taskDone();
    // The dead producer's task and place were given back: join returns, and all 3 places are free.
    await q.join();
    q.putNowait(1);
    q.putNowait(2);
    q.putNowait(3);
    expect(() => q.putNowait(4)).toThrow(Full);
    expect([q.getNowait(), q.getNowait(), q.getNowait()]).toEqual([1, 2, 3]);
    q.close();
  });

  it('a reader assembling the dead producer’s message drops it and goes on with the next', async () => {
    const q = new Queue<unknown>(0, ring);
    const killed = spawn.Process({ target: putLargeAndHang, args: [q, 10 << 20] });
    killed.start();
    expect(await eventually(() => !q.empty(), 15_000, 10)).toBe(true);
    // This get reads the pieces there are and waits for the rest, holding the read lock.
    let settled = false;
    const get = q.get().finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(settled).toBe(false);
    expect(word(q, Word.READER_IN_MESSAGE)).toBe(1);
    expect(word(q, Word.WRITE_LOCK)).toBe(killed.pid);
    killed.kill();
    expect(await finish(killed)).toEqual([-9]);
    // The reader sees the writer is gone: it takes the lock over, ends the message and drops what it had.
    expect(await eventually(() => word(q, Word.WRITE_LOCK) === 0 && word(q, Word.READER_IN_MESSAGE) === 0, 5_000, 10)).toBe(true);
    expect(q.empty()).toBe(true);
    expect(q.qsize()).toBe(0);
    expect(settled).toBe(false);
    await q.put('after');
    expect(await get).toBe('after');
    const p = spawn.Process({ target: putPattern, args: [q, 1 << 20, 5] });
    p.start();
    const next = (await q.get()) as { seed: number; data: Buffer };
    expect(next.data.equals(pattern(1 << 20, 5))).toBe(true);
    expect(await finish(p)).toEqual([0]);
    q.close();
  });

  it('a consumer killed while reading a large message loses that message only; the next reader takes its lock over', async () => {
    const q = new JoinableQueue<unknown>(0, ring);
    await q.put(pattern(10 << 20, 1));
    await q.put('after');
    const killed = spawn.Process({ target: getAndHang, args: [q] });
    killed.start();
    expect(await eventually(() => word(q, Word.READER_IN_MESSAGE) === 1, 15_000, 10)).toBe(true);
    expect(word(q, Word.READ_LOCK)).toBe(killed.pid);
    killed.kill();
    expect(await finish(killed)).toEqual([-9]);
    // The rest of the large message is skipped; its task counts as done, since nobody will ever get it.
    expect(await q.get({ timeout: 10_000 })).toBe('after');
    q.taskDone();
    await q.join();
    expect(q.qsize()).toBe(0);
    q.close();
  });
});
