/** The synchronisation types of SyncManager: Condition(lock), a Queue's task_done/join, what cannot be copied, bad arguments. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Process, activeChildren } from '@mpjs/process';
import { eventually } from '@mpjs/test-utils';
import { marker, processesWith } from './helpers.js';
import { BaseManager, Manager, QueueProxy, RemoteError, SyncManager, ValueError } from '../src/index.js';
import { MathsClass } from './fixtures/maths.js';
import { waitForReady } from './fixtures/proxy-tasks.js';

let manager: SyncManager;

beforeAll(async () => {
  manager = await Manager();
});

afterAll(async () => {
  await manager.shutdown();
  for (const child of activeChildren()) child.kill();
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

describe('Condition(lock)', () => {
  it('uses the Lock it is given: acquiring the condition takes the lock', async () => {
    const lock = await manager.Lock();
    const cond = await manager.Condition(lock);
    expect(await cond.acquire()).toBe(true);
    expect(await lock._callmethod('locked')).toBe(true);
    expect(await lock.acquire({ block: false })).toBe(false);
    expect(await cond.wait(20)).toBe(false);
    await cond.notifyAll();
    await cond.release();
    expect(await lock._callmethod('locked')).toBe(false);
    // Taking the lock itself holds the condition too.
    await lock.acquire();
    expect(await cond.acquire({ block: false })).toBe(false);
    await lock.release();
    await expect(cond.notify()).rejects.toThrow(ValueError);
  });

  it('uses the RLock it is given, re-entrant per process, and wakes a waiter in another process', async () => {
    const rlock = await manager.RLock();
    const cond = await manager.Condition(rlock);
    await rlock.acquire();
    await rlock.acquire();
    // Held through the RLock: the condition can be waited on and notified.
    expect(await cond.wait(20)).toBe(false);
    await cond.notify();
    await rlock.release();
    await rlock.release();
    await expect(cond.notify()).rejects.toThrow(ValueError);
    const ready = await manager.Value('i', 0);
    const events = await manager.list<string>();
    const child = new Process({ target: waitForReady, args: [cond, ready, events] });
    child.start();
    expect(await eventually(async () => (await events.length()) === 1, 10_000, 20)).toBe(true);
    await rlock.acquire();
    await ready.set(1);
    await cond.notifyAll();
    await rlock.release();
    await child.join();
    expect(child.exitcode).toBe(0);
    expect(await events.copy()).toEqual(['waiting', 'notified']);
  });

  it('refuses what is not a Lock or RLock of the same manager, at once', async () => {
    const other = await Manager();
    try {
      await expect(manager.Condition((await manager.Semaphore()) as never)).rejects.toThrow(/Condition\(lock\): lock must be a Lock or RLock proxy of this manager/);
      await expect(manager.Condition((await other.Lock()) as never)).rejects.toThrow(TypeError);
      await expect(manager.Condition('lock' as never)).rejects.toThrow(TypeError);
    } finally {
      await other.shutdown();
    }
  });
});

describe('queues', () => {
  it("a manager Queue has task_done and join, as Python's queue.Queue", async () => {
    const q = await manager.Queue<string>();
    expect(q).toBeInstanceOf(QueueProxy);
    await q.put('a');
    await q.put('b');
    let joined = false;
    const join = q.join().then(() => (joined = true));
    await q.get();
    await q.taskDone();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(joined).toBe(false);
    await q.get();
    await q.taskDone();
    await join;
    expect(joined).toBe(true);
    await expect(q.taskDone()).rejects.toThrow(ValueError);
  });
});

describe('long waits', () => {
  it('a wait longer than a Node timer holds (2^31 ms) waits, instead of timing out at once', async () => {
    const event = await manager.Event();
    const waiting = event.wait(2 ** 31 + 1000);
    const early = await Promise.race([waiting, new Promise((resolve) => setTimeout(() => resolve('pending'), 200))]);
    expect(early).toBe('pending');
    await event.set();
    expect(await waiting).toBe(true);
  });
});

describe('what cannot be copied, and bad arguments', () => {
  it('_getvalue() of a lock, an event, a queue… is a RemoteError that says why', async () => {
    for (const proxy of [await manager.Lock(), await manager.RLock(), await manager.Event(), await manager.Queue(), await manager.Condition(), await manager.Semaphore(), await manager.Barrier(2)]) {
      const error = await proxy._getvalue().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteError);
      expect((error as Error).message).toMatch(/cannot be copied out of it \(it is not plain data\); use the methods of its proxy/);
    }
    // Plain data still can.
    expect(await (await manager.Value('i', 3))._getvalue()).toBe(3);
  });

  it('factories check their arguments in the caller, with TypeError or ValueError', async () => {
    await expect(manager.Queue('x' as unknown as number)).rejects.toThrow(new TypeError('Queue(maxsize): maxsize must be an integer (0 or less: unbounded), got "x"'));
    await expect(manager.JoinableQueue(1.5)).rejects.toThrow(TypeError);
    await expect(manager.Semaphore(-1)).rejects.toThrow(ValueError);
    await expect(manager.BoundedSemaphore('1' as unknown as number)).rejects.toThrow(TypeError);
    await expect(manager.Barrier(0)).rejects.toThrow(ValueError);
    await expect(manager.Barrier(2, 'f' as never)).rejects.toThrow(/action must be an exported function or null/);
    await expect(manager.Barrier(2, null, 'x' as never)).rejects.toThrow(/timeout must be a number of milliseconds/);
    // Nothing was made in the server.
    const before = await manager._numberOfObjects();
    await manager.Queue('y' as unknown as number).catch(() => undefined);
    expect(await manager._numberOfObjects()).toBe(before);
  });
});

describe('failures in the server and mistakes of the caller', () => {
  it('a failure creating an object arrives as RemoteError with the server stack', async () => {
    const error = await manager.list(5 as unknown as number[]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toMatch(/list\(items\) must be an iterable/);
    expect((error as RemoteError).remoteStack).toMatch(/TypeError: list\(items\)[\s\S]*\n\s+at /);
    const unknown = await manager.create('Nope').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RemoteError);
    expect((unknown as Error).message).toMatch(/no type id 'Nope'/);
  });

  it('register() and the manager check their options at once, naming them', () => {
    class M extends BaseManager {}
    expect(() => M.register('a', MathsClass, { exposed: 'add' as unknown as string[] })).toThrow(
      new TypeError(`register('a', callable, options): exposed must be an array of method names such as ['add'], got the string "add"`),
    );
    expect(() => M.register('a', MathsClass, null as never)).toThrow(/options must be an object such as \{ proxytype, exposed \}, got null/);
    expect(() => M.register('a', MathsClass, { proxytype: MathsClass as never })).toThrow(/proxytype must be a subclass of BaseProxy/);
    expect(() => M.register('a', MathsClass, { methodToTypeid: { f: 1 } as never })).toThrow(/methodToTypeid must map method names to type ids/);
    expect(() => M.register('a', MathsClass, { exposd: ['add'] } as never)).toThrow(/unknown option 'exposd'/);
    expect(() => M.register('a', 5 as never)).toThrow(/callable must be a function or a class/);
    expect(M._registry.has('a')).toBe(false);
    expect(() => new SyncManager({ authkey: 5 as never })).toThrow(new TypeError('new SyncManager(options): authkey must be a string or a Buffer, got number 5'));
    expect(() => new SyncManager({ shutdownTimeout: 'x' as never })).toThrow(/shutdownTimeout must be a number of milliseconds, got the string "x"/);
    expect(() => new SyncManager({ shutdownTimeout: -5 })).toThrow(ValueError);
    expect(() => new SyncManager({ address: 123 as never })).toThrow(/address must be a socket path or \['host', port\]/);
    expect(() => new SyncManager({ adress: ['127.0.0.1', 0] } as never)).toThrow(/unknown option 'adress'; the options are address, authkey, ctx, shutdownTimeout/);
  });

  it("String(proxy) and template literals give the proxy's own representation, with nothing left in flight", async () => {
    const l = await manager.list([1]);
    expect(String(l)).toMatch(/^<ListProxy object, typeid 'list' at 0x[0-9a-f]+>$/);
    expect(`${l}`).toBe(String(l));
    expect(await l.toString()).toBe('[1]');
  });
});
