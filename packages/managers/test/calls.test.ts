/**
 * How calls travel: in the order they were made, a waiting call holding up no
 * other, and given up through an AbortSignal without taking effect later.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@mpjs/connection';
import { Process, activeChildren } from '@mpjs/process';
import { defaultCodec } from '@mpjs/serialization';
import { eventually } from '@mpjs/test-utils';
import { marker, processesWith } from './helpers.js';
import { BrokenBarrierError, Empty, Full, Manager, type SyncManager } from '../src/index.js';
import { frame } from '../src/dispatch.js';
import { waitOnLock, waitOnQueue } from './fixtures/proxy-tasks.js';

/** Milliseconds `promise` takes to settle. */
async function timed(promise: Promise<unknown>): Promise<number> {
  const start = performance.now();
  await promise.catch(() => undefined);
  return performance.now() - start;
}

let manager: SyncManager;

beforeAll(async () => {
  manager = await Manager();
});

afterAll(async () => {
  await manager.shutdown();
  for (const child of activeChildren()) child.kill();
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

describe('the order of calls', () => {
  it('calls on one proxy fired without awaiting take effect in the order they were made', async () => {
    const l = await manager.list<number>();
    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => l.append(i)));
    expect(await l.copy()).toEqual(Array.from({ length: n }, (_, i) => i));
    // Mixed methods too: each sees the effect of the ones before it.
    const [, , len, , last] = await Promise.all([l.clear(), l.append(7), l.length(), l.append(8), l.get(-1)]);
    expect(len).toBe(1);
    expect(last).toBe(8);
  });

  it('a waiting call does not hold up the calls made after it: a producer and a consumer share one queue proxy', async () => {
    const q = await manager.Queue<number>(2);
    const got: number[] = [];
    const consumer = (async () => {
      for (let i = 0; i < 50; i++) got.push(await q.get());
    })();
    const producer = (async () => {
      for (let i = 0; i < 50; i++) await q.put(i);
    })();
    await Promise.all([consumer, producer]);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // A get fired before a put, without awaiting either: the get waits, the put still goes.
    const waiting = q.get();
    const events = await manager.list<string>();
    await Promise.all([q.put(99), events.append('after the put')]);
    expect(await waiting).toBe(99);
  });
});

describe('waits take options and a signal', () => {
  it("queue and lock waits take a local primitive's options: { block }, { timeout }", async () => {
    const q = await manager.Queue<number>(1);
    expect(await timed(expect(q.get({ block: false })).rejects.toThrow(Empty))).toBeLessThan(500);
    const t = await timed(expect(q.get({ timeout: 100 })).rejects.toThrow(Empty));
    expect(t).toBeGreaterThanOrEqual(90);
    expect(t).toBeLessThan(1_000);
    await q.put(1, { timeout: 100 });
    await expect(q.put(2, { block: false })).rejects.toThrow(Full);
    await expect(q.put(2, { timeout: 50 })).rejects.toThrow(Full);
    expect(await q.get({ timeout: 100 })).toBe(1);
    const lock = await manager.Lock();
    expect(await lock.acquire({ timeout: 100 })).toBe(true);
    expect(await lock.acquire({ block: false })).toBe(false);
    const started = performance.now();
    expect(await lock.acquire({ timeout: 100 })).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    await lock.release();
    // Wrong options are refused before anything is sent.
    await expect(q.get({ timeout: 'x' as unknown as number })).rejects.toThrow(/"timeout" must be a number of milliseconds or null, got "x"/);
    await expect(lock.acquire({ block: 1 as unknown as boolean })).rejects.toThrow(/"block" must be a boolean/);
    await expect(q.get({ signal: 'x' as unknown as AbortSignal })).rejects.toThrow(/"signal" must be an AbortSignal/);
    await expect(q.get('x' as unknown as boolean)).rejects.toThrow(TypeError);
  });

  it('a get given up through its signal takes no item: the next get receives it', async () => {
    const q = await manager.Queue<string>();
    const controller = new AbortController();
    const abandoned = q.get({ signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('gave up'));
    await expect(abandoned).rejects.toThrow('gave up');
    await q.put('item');
    expect(await q.get({ timeout: 1_000 })).toBe('item');
    // Aborted before it is sent: rejects at once.
    await expect(q.get({ signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already');
    await q.put('second');
    expect(await q.qsize()).toBe(1);
    expect(await q.get({ block: false })).toBe('second');
    // Python's positional form takes the signal after block and timeout.
    const positional = new AbortController();
    const waiting = q.get(true, null, { signal: positional.signal });
    await new Promise((resolve) => setTimeout(resolve, 30));
    positional.abort(new Error('gave up too'));
    await expect(waiting).rejects.toThrow('gave up too');
    await q.put('third');
    expect(await q.get(true, 1_000)).toBe('third');
    // With a timeout signal, as AbortSignal.timeout() gives.
    await expect(q.put('x', { signal: AbortSignal.timeout(10) })).resolves.toBeUndefined();
  });

  it('an acquire given up through its signal does not take the lock later', async () => {
    const lock = await manager.Lock();
    await lock.acquire();
    const controller = new AbortController();
    const abandoned = lock.acquire({ signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('gave up'));
    await expect(abandoned).rejects.toThrow('gave up');
    await lock.release();
    // Free: the abandoned caller was not handed the lock.
    expect(await lock.acquire({ block: false })).toBe(true);
    await lock.release();
    const rlock = await manager.RLock();
    const sem = await manager.Semaphore(0);
    const controllers = [new AbortController(), new AbortController()];
    const waits = [sem.acquire({ signal: controllers[0]!.signal })];
    await rlock.acquire();
    controllers.forEach((c) => c.abort(new Error('gave up')));
    await expect(waits[0]).rejects.toThrow('gave up');
    await sem.release();
    expect(await sem.getValue()).toBe(1);
    await rlock.release();
  });

  it('waits of events, conditions, barriers and joins end on abort', async () => {
    const event = await manager.Event();
    await expect(event.wait({ signal: AbortSignal.timeout(30) })).rejects.toThrow();
    expect(await event.wait(20)).toBe(false);
    expect(await event.wait({ timeout: 20 })).toBe(false);
    const cond = await manager.Condition();
    await cond.acquire();
    await expect(cond.wait({ signal: AbortSignal.timeout(30) })).rejects.toThrow();
    // The lock was taken back, as a local Condition's wait does.
    await expect(cond.notify()).resolves.toBeUndefined();
    await cond.release();
    const barrier = await manager.Barrier(2);
    await expect(barrier.wait({ signal: AbortSignal.timeout(30) })).rejects.toThrow();
    // An abort breaks the barrier, as a local Barrier's does.
    expect(await barrier.broken()).toBe(true);
    await expect(barrier.wait()).rejects.toThrow(BrokenBarrierError);
    const q = await manager.JoinableQueue<number>();
    await q.put(1);
    await expect(q.join({ signal: AbortSignal.timeout(30) })).rejects.toThrow();
    expect(await q.get()).toBe(1);
    await q.taskDone();
    await q.join();
  });

  it('the waits of a process that dies are given up: its get takes no item, its acquire no lock', async () => {
    const q = await manager.Queue<string>();
    const lock = await manager.Lock();
    await lock.acquire();
    const events = await manager.list<string>();
    const children = [
      new Process({ target: waitOnQueue, args: [q, events] }),
      new Process({ target: waitOnLock, args: [lock, events] }),
    ];
    for (const child of children) child.start();
    expect(await eventually(async () => (await events.length()) === 2, 10_000, 20)).toBe(true);
    for (const child of children) child.kill();
    await Promise.all(children.map((child) => child.join()));
    // The server notices the connections closing: their waits end.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await q.put('not for the dead');
    expect(await q.get({ timeout: 1_000 })).toBe('not for the dead');
    await lock.release();
    expect(await lock.acquire({ block: false })).toBe(true);
    await lock.release();
  });

  it('an item handed to a waiter whose connection is gone goes back to the queue', async () => {
    const q = await manager.Queue<string>();
    // A client that sends a waiting get and a put on one connection, and leaves before any answer:
    // the put wakes the get at once, and its answer cannot be delivered.
    const connection = await Client(manager.address!, { authkey: manager.authkey });
    connection.sendBytes(frame(1, defaultCodec.encode([q._token.id, 'get', [], {}, true])));
    connection.sendBytes(frame(2, defaultCodec.encode([q._token.id, 'put', ['kept'], {}, true])));
    connection.close();
    // Without a get of ours waiting (it could take the item first), the item is back once the server has served them.
    expect(await eventually(async () => (await q.qsize()) === 1, 3_000, 20)).toBe(true);
    expect(await q.get({ block: false })).toBe('kept');
  });
});
