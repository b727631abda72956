import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { range } from './helpers.js';
import { pidAlive } from '@mpjs/test-utils';
import { Pool, TimeoutError } from '../src/index.js';
import { delayed, failOn13, sleepPid, slowSquare, square, TaskError } from './fixtures/tasks.js';

describe('imap and imapUnordered', () => {
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool(2);
  });
  afterAll(async () => {
    pool.close();
    await pool.join();
  });

  test('imap yields results in input order', async () => {
    const out: number[] = [];
    for await (const v of pool.imap(slowSquare, [5, 1, 4, 2, 3])) out.push(v);
    expect(out).toEqual([25, 1, 16, 4, 9]);
    const chunked: number[] = [];
    for await (const v of pool.imap(square, range(50), { chunksize: 7 })) chunked.push(v);
    expect(chunked).toEqual(range(50).map((x) => x * x));
  });

  test('imapUnordered yields every result, in the order they finish', async () => {
    const items: [number, number][] = [[10, 500], [2, 10], [3, 60]];
    const unordered: number[] = [];
    // A fresh pool: a worker whose tasks were all short may hold one more in advance.
    const fresh = new Pool(2);
    try {
      for await (const v of fresh.imapUnordered(delayed, items)) unordered.push(v);
    } finally {
      await fresh.terminate();
    }
    expect(unordered).toEqual([2, 3, 10]);
    const ordered: number[] = [];
    for await (const v of pool.imap(delayed, items)) ordered.push(v);
    expect(ordered).toEqual([10, 2, 3]);
  });

  test('empty input ends at once', async () => {
    const it = pool.imap(square, []);
    expect(await it.next()).toEqual({ done: true, value: undefined });
    const un = pool.imapUnordered(square, []);
    expect(await un.next()).toEqual({ done: true, value: undefined });
  });

  test('next(timeout) rejects with TimeoutError when the result is late, and works afterwards', async () => {
    const it = pool.imap(sleepPid, [300]);
    await expect(it.next(20)).rejects.toThrow(TimeoutError);
    const step = await it.next(5_000);
    expect(step.done).toBe(false);
    expect(typeof step.value).toBe('number');
    expect((await it.next()).done).toBe(true);
  });

  test('a task error is thrown at its position and iteration goes on', async () => {
    const it = pool.imap(failOn13, [12, 13, 14]);
    expect(await it.next()).toEqual({ done: false, value: 144 });
    await expect(it.next()).rejects.toThrow(TaskError);
    expect(await it.next()).toEqual({ done: false, value: 196 });
    expect((await it.next()).done).toBe(true);
  });

  test('an async iterable input works', async () => {
    async function* numbers(): AsyncGenerator<number> {
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 1));
        yield i;
      }
    }
    const out: number[] = [];
    for await (const v of pool.imap(square, numbers(), { chunksize: 3 })) out.push(v);
    expect(out).toEqual(range(10).map((x) => x * x));
  });

  test('an endless input is read lazily, only as results are consumed', async () => {
    let produced = 0;
    function* endless(): Generator<number> {
      for (let i = 0; ; i++) {
        produced++;
        yield i;
      }
    }
    const out: number[] = [];
    for await (const v of pool.imap(square, endless(), { chunksize: 10 })) {
      out.push(v);
      if (out.length === 1) {
        // Give the workers time: the input must not run ahead without bound.
        await new Promise((r) => setTimeout(r, 200));
        expect(produced).toBeLessThanOrEqual(2 * 4 * 10 + 10);
      }
      if (out.length === 1000) break;
    }
    expect(out[999]).toBe(999 * 999);
    const atBreak = produced;
    await new Promise((r) => setTimeout(r, 100));
    expect(produced).toBe(atBreak);
    expect(produced).toBeLessThan(1000 + 2 * 4 * 10 + 10);
  });

  test('after return() the iterator is done, even with results already arrived', async () => {
    const it = pool.imap(square, range(50), { chunksize: 10 });
    expect(await it.next()).toEqual({ done: false, value: 0 });
    await new Promise((r) => setTimeout(r, 100)); // the other chunks arrive meanwhile
    await it.return();
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  test('an error thrown by the input comes out of the iterator', async () => {
    function* broken(): Generator<number> {
      yield 1;
      yield 2;
      throw new RangeError('input broke');
    }
    const it = pool.imap(square, broken());
    expect(await it.next()).toEqual({ done: false, value: 1 });
    expect(await it.next()).toEqual({ done: false, value: 4 });
    await expect(it.next()).rejects.toThrow('input broke');
    expect((await it.next()).done).toBe(true);
  });

  test('terminate rejects a waiting imap', async () => {
    const other = new Pool(1);
    const it = other.imap(sleepPid, [10_000, 10_000]);
    const pending = it.next().catch((e: unknown) => e);
    await other.terminate();
    expect(String(await pending)).toMatch(/terminated/);
  });

  test('close() then join() before the results are read (Python\'s pattern): the rest of the input is read and its results wait', async () => {
    const other = new Pool(2);
    try {
      const it = other.imap(square, range(100));
      async function* later(): AsyncGenerator<number> {
        for (let i = 0; i < 30; i++) {
          await new Promise((r) => setTimeout(r, 1));
          yield i;
        }
      }
      const unordered = other.imapUnordered(square, later(), { chunksize: 2 });
      other.close();
      const pids = other.pids;
      const joined = await Promise.race([
        other.join().then(() => 'joined'),
        new Promise((r) => setTimeout(r, 10_000, 'join still waiting after 10 s')),
      ]);
      expect(joined).toBe('joined');
      expect(pids.filter(pidAlive)).toEqual([]);
      const out: number[] = [];
      for await (const v of it) out.push(v);
      expect(out).toEqual(range(100).map((x) => x * x));
      const rest: number[] = [];
      for await (const v of unordered) rest.push(v);
      expect(rest.sort((a, b) => a - b)).toEqual(range(30).map((x) => x * x));
    } finally {
      await other.terminate();
    }
  });

  test('after close(), an endless input keeps join() waiting (as in Python) until the iterator is returned', async () => {
    const other = new Pool(1);
    try {
      let produced = 0;
      function* endless(): Generator<number> {
        for (let i = 0; ; i++) {
          produced++;
          yield i;
        }
      }
      const it = other.imap(square, endless(), { chunksize: 50 });
      expect(await it.next()).toEqual({ done: false, value: 0 });
      other.close();
      await expect(other.join({ signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(produced).toBeGreaterThan(1 * 4 * 50 * 2); // read on past the limit of a running pool
      await it.return();
      await other.join({ signal: AbortSignal.timeout(10_000) });
    } finally {
      await other.terminate();
    }
    // An async input whose next item never comes: returned while the workers wait for it, it lets them go.
    const waiting = new Pool(1);
    try {
      async function* stuck(): AsyncGenerator<number> {
        yield 0;
        await new Promise(() => undefined);
      }
      const it = waiting.imap(square, stuck());
      expect(await it.next()).toEqual({ done: false, value: 0 });
      waiting.close();
      await new Promise((r) => setTimeout(r, 100));
      await it.return();
      await waiting.join({ signal: AbortSignal.timeout(10_000) });
    } finally {
      await waiting.terminate();
    }
  });
});
