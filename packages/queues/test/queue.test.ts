/**
 * Queue, SimpleQueue and JoinableQueue within one process (and its worker
 * threads): the API, the errors, the ring's edge cases (wrap-around, large
 * messages streamed in pieces, a reader that cannot wait), and the worker
 * threads of one process sharing queues.
 */
import { describe, expect, it } from '@jest/globals';
import { Worker } from 'node:worker_threads';
import { defaultCodec, SerializationError, type HandleRecord } from '@mpjs/serialization';
import { AssertionError, Empty, Full, JoinableQueue, Queue, SimpleQueue, ValueError } from '../src/index.js';
import { pattern } from './fixtures/targets.js';

/** Resolves after `ms` milliseconds. */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Gets everything that is there now. */
function drain<T>(q: Queue<T>): T[] {
  const out: T[] = [];
  for (;;) {
    try {
      out.push(q.getNowait());
    } catch (error) {
      if (error instanceof Empty) return out;
      throw error;
    }
  }
}

describe('Queue', () => {
  it('gets what was put, first in first out, with every kind of value the codec carries', async () => {
    const q = new Queue();
    const values = [[42, null, 'hello'], { a: new Map([[1n, new Date(0)]]), s: new Set(['x']) }, undefined, 'é'.repeat(1000), Buffer.from('xyz'), new RangeError('boom')];
    for (const v of values) await q.put(v);
    for (const v of values) expect(await q.get()).toEqual(v);
    expect(q.empty()).toBe(true);
    q.close();
  });

  it('reports qsize, empty and full', async () => {
    const q = new Queue<number>(2);
    expect([q.qsize(), q.empty(), q.full()]).toEqual([0, true, false]);
    await q.put(1);
    expect([q.qsize(), q.empty(), q.full()]).toEqual([1, false, false]);
    q.putNowait(2);
    expect([q.qsize(), q.empty(), q.full()]).toEqual([2, false, true]);
    expect(q.getNowait()).toBe(1);
    expect([q.qsize(), q.full()]).toEqual([1, false]);
    expect(await q.get()).toBe(2);
    expect([q.qsize(), q.empty(), q.full()]).toEqual([0, true, false]);
    const unbounded = new Queue<number>(0);
    for (let i = 0; i < 1000; i++) unbounded.putNowait(i);
    expect([unbounded.qsize(), unbounded.full()]).toEqual([1000, false]);
    expect(new Queue(-5).full()).toBe(false);
    q.close();
    unbounded.close();
  });

  it('raises Empty for a get that finds nothing: at once without block, after the timeout with one', async () => {
    const q = new Queue();
    expect(() => q.getNowait()).toThrow(Empty);
    await expect(q.get({ block: false })).rejects.toBeInstanceOf(Empty);
    const t0 = performance.now();
    const error = await q.get({ timeout: 150 }).catch((e: unknown) => e);
    const waited = performance.now() - t0;
    expect(error).toBeInstanceOf(Empty);
    expect((error as Empty).code).toBe('ERR_MP_EMPTY');
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(5_000);
    await expect(q.get({ timeout: -1 })).rejects.toBeInstanceOf(Empty);
    q.close();
  });

  it('raises Full for a bounded put that finds no place, and lets a waiting put in when a place frees', async () => {
    const q = new Queue<string>(1);
    await q.put('a');
    expect(() => q.putNowait('b')).toThrow(Full);
    await expect(q.put('b', { block: false })).rejects.toBeInstanceOf(Full);
    const t0 = performance.now();
    await expect(q.put('b', { timeout: 120 })).rejects.toBeInstanceOf(Full);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
    const waiting = q.put('c', { timeout: 10_000 });
    await sleep(30);
    expect(q.getNowait()).toBe('a');
    await waiting;
    expect(await q.get()).toBe('c');
    q.close();
  });

  it('keeps the order of puts that wait for a place', async () => {
    const q = new Queue<number>(2);
    const puts = [1, 2, 3, 4, 5, 6].map((n) => q.put(n));
    const got: number[] = [];
    for (let i = 0; i < 6; i++) got.push(await q.get());
    await Promise.all(puts);
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    // A non-blocking put does not jump the line of waiting ones.
    await q.put(7);
    await q.put(8);
    const late = q.put(9);
    expect(() => q.putNowait(10)).toThrow(Full);
    expect([await q.get(), await q.get(), await q.get()]).toEqual([7, 8, 9]);
    await late;
    q.close();
  });

  it('stops waiting when the signal aborts', async () => {
    const q = new Queue(1);
    const controller = new AbortController();
    const get = q.get({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop waiting')), 20);
    await expect(get).rejects.toThrow('stop waiting');
    await q.put(1);
    const put = q.put(2, { signal: AbortSignal.timeout(30) });
    await expect(put).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(q.qsize()).toBe(1);
    q.close();
  });

  it('refuses use after close() with ValueError, rejects waiting calls, and joins the flush only once closed', async () => {
    const q = new Queue(1);
    await expect(q.joinThread()).rejects.toBeInstanceOf(AssertionError);
    const other = new Queue();
    const pendingGet = other.get();
    await q.put('x');
    const blockedPut = q.put('y');
    q.close();
    other.close();
    await expect(pendingGet).rejects.toBeInstanceOf(ValueError);
    await expect(blockedPut).rejects.toThrow(/Queue is closed/);
    await expect(q.put(1)).rejects.toBeInstanceOf(ValueError);
    expect(() => q.putNowait(1)).toThrow(ValueError);
    await expect(q.get()).rejects.toThrow(/Queue is closed: it cannot be used after close\(\)/);
    expect(() => q.getNowait()).toThrow(ValueError);
    await expect(q.joinThread()).resolves.toBeUndefined();
    q.close(); // twice is fine
    expect(q.qsize()).toBe(1);
  });

  it('validates its arguments with messages that say what to pass', async () => {
    expect(() => new Queue(1.5)).toThrow(/maxsize must be a whole number/);
    expect(() => new Queue('3' as unknown as number)).toThrow(TypeError);
    expect(() => new Queue(0, { bufferSize: 5000 })).toThrow(/power of two from 4096/);
    expect(() => new Queue(0, { bufferSize: 1024 })).toThrow(RangeError);
    const q = new Queue();
    await expect(q.put(1, { block: 'yes' as unknown as boolean })).rejects.toThrow(/"block" must be a boolean/);
    await expect(q.get({ timeout: 'soon' as unknown as number })).rejects.toThrow(/timeout/);
    await expect(q.get({ signal: {} as AbortSignal })).rejects.toThrow(/AbortSignal/);
    await expect(q.put(() => 1)).rejects.toBeInstanceOf(SerializationError);
    q.close();
  });

  it('refuses objects that hold OS handles, such as another queue', async () => {
    const q = new Queue();
    const inner = new SimpleQueue();
    await expect(q.put({ inner })).rejects.toThrow(/holds OS handles \(mpjs\.queue\).*Process arguments/);
    expect(() => defaultCodec.encode(inner)).toThrow(/travels with the descriptor/);
    expect(q.empty()).toBe(true);
    inner.close();
    expect(() => defaultCodec.encode(inner, { handles: [] })).toThrow(/closed SimpleQueue/);
    q.close();
  });

  it('relies on encoded bytes staying as they are after later encodes (kept in the list without a copy)', () => {
    const first = defaultCodec.encode({ n: 1, s: 'a'.repeat(100) });
    const copy = Uint8Array.from(first);
    for (let i = 0; i < 5000; i++) defaultCodec.encode({ n: i, s: 'b'.repeat(i % 300) });
    expect(Buffer.compare(first, copy)).toBe(0);
  });

  it('wraps around a small ring with messages of every size near the record limits', async () => {
    const q = new Queue<Buffer>(0, { bufferSize: 4096 });
    // A record holds at most 1024 bytes here; sizes around it, and larger ones that stream in pieces.
    const sizes = [0, 1, 7, 8, 9, 1000, 1008, 1009, 1010, 1016, 1017, 1024, 2047, 2048, 3000, 4096, 5000, 12_345];
    const sent: Buffer[] = [];
    for (let round = 0; round < 6; round++) {
      for (const size of sizes) {
        const b = pattern(size, round * 100 + size);
        sent.push(b);
        await q.put(b);
      }
    }
    const got: Buffer[] = [];
    for (let i = 0; i < sent.length; i++) got.push(await q.get());
    expect(got.map((b) => b.length)).toEqual(sent.map((b) => b.length));
    expect(got.every((b, i) => b.equals(sent[i]!))).toBe(true);
    expect(q.qsize()).toBe(0);
    q.close();
  });

  it('carries a 10 MiB object through a 64 KiB ring', async () => {
    const q = new Queue(0, { bufferSize: 65536 });
    const big = pattern(10 << 20, 3);
    await q.put({ big, tail: 'end' });
    await q.put('next');
    const got = (await q.get()) as { big: Buffer; tail: string };
    expect(got.tail).toBe('end');
    expect(got.big.equals(big)).toBe(true);
    expect(await q.get()).toBe('next');
    q.close();
  });

  it('getNowait() does not start a large message until all of it is there', async () => {
    const q = new Queue(0, { bufferSize: 4096 });
    const big = pattern(100_000, 5);
    q.putNowait(big);
    // The flush writes the first pieces (all that fit), then waits for a reader.
    await sleep(20);
    expect(q.empty()).toBe(false);
    expect(() => q.getNowait()).toThrow(Empty);
    expect(((await q.get()) as Buffer).equals(big)).toBe(true);
    q.close();
  });

  it('holds a producer far ahead of its readers without copying: objects wait as themselves once many bytes wait', async () => {
    const q = new Queue(0, { bufferSize: 65536 });
    const payload = pattern(1 << 20, 9);
    for (let i = 0; i < 40; i++) await q.put({ i, payload });
    expect(q.qsize()).toBe(40);
    for (let i = 0; i < 40; i++) {
      const got = (await q.get()) as { i: number; payload: Buffer };
      expect(got.i).toBe(i);
      expect(got.payload.equals(payload)).toBe(true);
    }
    q.close();
    await q.joinThread();
  });
});

describe('SimpleQueue', () => {
  it('puts, gets, tells empty, and refuses use after close', async () => {
    const q = new SimpleQueue<string>();
    expect(q.empty()).toBe(true);
    await q.put('a');
    await q.put('b');
    expect(q.empty()).toBe(false);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.empty()).toBe(true);
    expect(String(q)).toBe('SimpleQueue()');
    q.close();
    await expect(q.put('c')).rejects.toThrow(/SimpleQueue is closed/);
    await expect(q.get()).rejects.toBeInstanceOf(ValueError);
  });

  it('resolves put only once the item is in shared memory', async () => {
    const q = new SimpleQueue<Buffer>({ bufferSize: 4096 });
    const big = pattern(50_000, 1);
    let written = false;
    const put = q.put(big).then(() => (written = true));
    await sleep(20);
    expect(written).toBe(false);
    expect(((await q.get()) as Buffer).equals(big)).toBe(true);
    await put;
    expect(written).toBe(true);
    q.close();
  });
});

describe('JoinableQueue', () => {
  it('counts unfinished tasks: join waits for taskDone, and one taskDone too many is a ValueError', async () => {
    const q = new JoinableQueue<number>();
    await q.join();
    await q.put(1);
    await q.put(2);
    let joined = false;
    const join = q.join().then(() => (joined = true));
    expect(await q.get()).toBe(1);
    q.taskDone();
    await sleep(20);
    expect(joined).toBe(false);
    expect(await q.get()).toBe(2);
    q.taskDone();
    await join;
    expect(joined).toBe(true);
    expect(() => q.taskDone()).toThrow(ValueError);
    expect(() => q.taskDone()).toThrow(/taskDone\(\) called more times than there were items put/);
    expect(q).toBeInstanceOf(Queue);
    expect(String(q)).toBe('JoinableQueue(maxsize=0)');
    q.close();
  });

  it('is bounded like a Queue', async () => {
    const q = new JoinableQueue<number>(1);
    q.putNowait(1);
    expect(() => q.putNowait(2)).toThrow(Full);
    expect(q.getNowait()).toBe(1);
    q.taskDone();
    await q.join();
    q.close();
  });
});

describe('worker threads', () => {
  /** Starts a worker thread on the fixture with the queues it needs. */
  function startWorker(queues: { tasks: Queue; results: Queue }, role: 'producer' | 'consumer', count = 0): Promise<void> {
    const handles: HandleRecord[] = [];
    const bytes = defaultCodec.encode(queues, { handles });
    const worker = new Worker(new URL('./fixtures/thread-worker.mjs', import.meta.url), { workerData: { bytes, handles, role, count } });
    return new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
    });
  }

  it('share a queue with the main thread: two producers and two consumers, nothing lost or doubled', async () => {
    const tasks = new Queue<number | null>();
    const results = new Queue<{ n: number; sum: number }>();
    const n = 20_000;
    const workers = [
      startWorker({ tasks, results }, 'producer', n),
      startWorker({ tasks, results }, 'producer', n),
      startWorker({ tasks, results }, 'consumer'),
      startWorker({ tasks, results }, 'consumer'),
    ];
    const reports = [await results.get(), await results.get()];
    await Promise.all(workers);
    expect(reports.reduce((a, r) => a + r.n, 0)).toBe(2 * n);
    expect(reports.reduce((a, r) => a + r.sum, 0)).toBe(n * (n - 1));
    expect(tasks.empty()).toBe(true);
    tasks.close();
    results.close();
  });
});
