import { afterAll, describe, expect, it } from '@jest/globals';
import { stopAndCheck, memfdCount } from './helpers.js';
import { Barrier, Condition, Event, fromShareable, Lock, RLock, Semaphore, BoundedSemaphore } from '../src/index.js';
import { setThreadActionCounter, startWorker, threadAction } from './fixtures/workers.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('primitives between worker threads', () => {
  it.each([
    ['Lock', Lock],
    ['RLock', RLock],
  ] as const)('%s: three workers (blocking) and this thread (async) increment exactly', async (_name, Kind) => {
    const lock = new Kind();
    const counter = new SharedArrayBuffer(4);
    const view = new Int32Array(counter);
    const workers = [0, 1, 2].map(() => startWorker({ kind: 'increment', lock: lock.toShareable(), counter, m: 5_000 }));
    for (let n = 0; n < 1_000; n++) {
      await lock.acquire();
      const v = view[0]!;
      if (n % 100 === 0) await new Promise(setImmediate);
      view[0] = v + 1;
      lock.release();
    }
    expect(await Promise.all(workers.map((w) => w.result))).toEqual(['done', 'done', 'done']);
    expect(view[0]).toBe(16_000);
    await Promise.all(workers.map((w) => w.exited));
  });

  it('an RLock is owned per thread: another thread of the process can neither release nor take it', async () => {
    const rlock = new RLock();
    await rlock.acquire();
    const w = startWorker({ kind: 'rlock-foreign', rlock: rlock.toShareable() });
    expect(await w.result).toEqual({ release: 'AssertionError', tryAcquire: false, timedAcquire: false });
    rlock.release();
    await w.exited;
  });

  it('a Barrier across threads: distinct indexes, the action (by reference) once per cycle', async () => {
    const counter = new SharedArrayBuffer(4);
    setThreadActionCounter(counter);
    const barrier = new Barrier(3, { action: threadAction });
    const rounds = 4;
    const workers = (['sync', 'async'] as const).map((mode) => startWorker({ kind: 'party', barrier: barrier.toShareable(), counter, rounds, mode }));
    const here: number[] = [];
    for (let r = 0; r < rounds; r++) here.push(await barrier.wait(10_000));
    const [a, b] = (await Promise.all(workers.map((w) => w.result))) as number[][];
    for (let r = 0; r < rounds; r++) expect([here[r], a![r], b![r]].sort()).toEqual([0, 1, 2]);
    expect(Atomics.load(new Int32Array(counter), 0)).toBe(rounds);
    await Promise.all(workers.map((w) => w.exited));
  });

  it('a Condition and an Event across threads', async () => {
    const cond = new Condition(new Lock());
    const ready = new Semaphore(0);
    const event = new Event();
    const w = startWorker({ kind: 'condition', cond: cond.toShareable(), ready: ready.toShareable(), event: event.toShareable() });
    expect(await ready.acquire({ timeout: 10_000 })).toBe(true);
    await cond.acquire();
    cond.notify();
    cond.release();
    expect(await event.wait(10_000)).toBe(true);
    expect(await w.result).toBe(true);
    await w.exited;
  });

  it('fromShareable() rebuilds every class, and refuses what is not a description', async () => {
    const primitives = [new Lock(), new RLock(), new Semaphore(), new BoundedSemaphore(), new Condition(), new Event(), new Barrier(2)];
    const w = startWorker({ kind: 'any', primitives: primitives.map((p) => p.toShareable()) });
    expect(await w.result).toEqual(['Lock', 'RLock', 'Semaphore', 'BoundedSemaphore', 'Condition', 'Event', 'Barrier']);
    await w.exited;
    // In this thread too: the same memory, so the same state.
    const lock = primitives[0] as Lock;
    const again = fromShareable(lock.toShareable());
    expect(again).toBeInstanceOf(Lock);
    lock.acquireSync();
    expect(again.acquireSync({ block: false })).toBe(false);
    again.release();
    expect(() => fromShareable({} as never)).toThrow(TypeError);
    expect(() => Lock.fromShareable(new Event().toShareable() as never)).toThrow(/Event/);
  });

  it('a worker can pass a lock it received on to a child process; its descriptors close when it ends', async () => {
    const lock = new Lock();
    const before = memfdCount();
    const w = startWorker({ kind: 'to-child', lock: lock.toShareable(), m: 500 });
    expect(await w.result).toEqual({ exitcode: 0, count: 500 });
    await w.exited;
    // The worker opened its own descriptor of the lock's memory; it is closed again.
    expect(memfdCount()).toBe(before);
  });
});
