import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { eventually } from '@mpjs/test-utils';
import { Process, activeChildren } from '@mpjs/process';
import { collectGarbage, marker, processesWith } from './helpers.js';
import {
  BaseManager,
  BrokenBarrierError,
  DictProxy,
  Empty,
  Full,
  KeyError,
  ListProxy,
  Manager,
  ProcessError,
  RemoteError,
  ValueError,
  makeProxyType,
  type AutoProxy,
  type SyncManager,
} from '../src/index.js';
import { Counter, MathsClass, MyManager } from './fixtures/maths.js';
import { appendFromChild, byLength, f, failingInitializer, incrementMany, initServer } from './fixtures/targets.js';

let manager: SyncManager;

beforeAll(async () => {
  manager = await Manager();
});

afterAll(async () => {
  await manager.shutdown();
  for (const child of activeChildren()) child.kill();
  await Promise.all(activeChildren().map((child) => child.join()));
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

describe('BaseManager', () => {
  it('runs the spec MathsClass example (7 and 56) in a server process', async () => {
    await using m = new MyManager();
    await m.start();
    expect(m.process?.pid).not.toBe(process.pid);
    expect(m.process?.isAlive()).toBe(true);
    const maths = await m.Maths();
    expect(await maths.add(4, 3)).toBe(7);
    expect(await maths.mul(7, 8)).toBe(56);
    expect(inspect(maths)).toMatch(/^<AutoProxy\[Maths\] object, typeid 'Maths' at 0x[0-9a-f]+>$/);
    // An error thrown by the referent arrives as the same class, with the message.
    await expect(maths.fail('boom')).rejects.toThrow(RangeError);
    await expect(maths.fail('boom')).rejects.toThrow('boom');
    // Unexposed (private) methods: the server refuses, as RemoteError.
    const error = await (maths as unknown as { _callmethod(n: string): Promise<unknown> })._callmethod('_hidden').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatch(/'_hidden' .* is not exposed/);
    // A result the server cannot send is a server failure.
    const unsendable = await maths.closure().catch((e: unknown) => e);
    expect(unsendable).toBeInstanceOf(RemoteError);
    expect((unsendable as Error).message).toMatch(/cannot send the result/);
    // The connection stays usable afterwards.
    expect(await maths.add(1, 1)).toBe(2);
    // A type id the manager does not know is an error of the caller.
    await expect(m.create('Nope')).rejects.toThrow(/no type id 'Nope'/);
    const proc = m.process!;
    await m.shutdown();
    expect(proc.exitcode).toBe(0);
    await m.shutdown(); // repeatable
    await expect(m.Maths()).rejects.toThrow(ProcessError);
    await expect(m.start()).rejects.toThrow(ProcessError);
  });

  it('refuses to start with a callable that cannot travel to the server process', async () => {
    class ClosureManager extends BaseManager {}
    ClosureManager.register('Thing', () => ({ value: 1 }));
    const m = new ClosureManager();
    await expect(m.start()).rejects.toThrow(/not exported|closure|function/i);
    expect(m.process?.pid ?? null).toBeNull();
    await m.shutdown();
  });

  it('runs the initializer in the server process; a failing one rejects start()', async () => {
    await using m = new MyManager();
    await m.start(initServer, ['key', 'value']);
    const env = (await m.create('Env')) as unknown as { read(): Promise<string | null> };
    expect(await env.read()).toBe('key=value');
    expect(process.env.MPJS_TEST_INIT).toBeUndefined();
    const bad = new MyManager();
    await expect(bad.start(failingInitializer)).rejects.toThrow(RangeError);
    expect(bad.process?.exitcode).toBe(0);
  });

  it('register() supports exposed, methodToTypeid and createMethod, per subclass', async () => {
    class CounterManager extends BaseManager {}
    CounterManager.register('Counter', Counter, { exposed: ['increment', 'child'], methodToTypeid: { child: 'Counter' } });
    CounterManager.register('Hidden', Counter, { createMethod: false });
    expect(Object.hasOwn(CounterManager.prototype, 'Counter')).toBe(true);
    expect(Object.hasOwn(CounterManager.prototype, 'Hidden')).toBe(false);
    expect(MyManager._registry.has('Counter')).toBe(false);
    expect(BaseManager._registry.size).toBe(0);
    // Registration after the class was defined works as long as it precedes start(), as in Python.
    await using m = new CounterManager();
    await m.start();
    const counter = (await m.create('Counter')) as AutoProxy<Counter>;
    expect(await counter.increment()).toBe(1);
    expect(await counter.increment()).toBe(2);
    const child = (await counter.child()) as unknown as AutoProxy<Counter>;
    expect(inspect(child)).toMatch(/typeid 'Counter'/);
    expect(await child.increment()).toBe(21);
    expect(await m._numberOfObjects()).toBe(2);
    const Proxy = makeProxyType('CounterProxy', ['increment']);
    expect(Object.keys(Proxy.prototype)).toEqual([]);
    expect(typeof (Proxy.prototype as unknown as Record<string, unknown>).increment).toBe('function');
  });
});

describe('SyncManager list and dict', () => {
  it('ListProxy covers the list methods', async () => {
    const l = await manager.list<unknown>([3, 1, 2]);
    expect(l).toBeInstanceOf(ListProxy);
    expect(await l.toString()).toBe('[3, 1, 2]');
    expect(inspect(l)).toMatch(/^<ListProxy object, typeid 'list' at 0x[0-9a-f]+>$/);
    await l.append(4);
    await l.extend([5, 6]);
    await l.insert(0, 0);
    expect(await l._getvalue()).toEqual([0, 3, 1, 2, 4, 5, 6]);
    expect(await l.length()).toBe(7);
    expect(await l.get(-1)).toBe(6);
    await l.set(1, 30);
    expect(await l.get(1)).toBe(30);
    await expect(l.get(99)).rejects.toThrow(RangeError);
    expect(await l.pop()).toBe(6);
    expect(await l.pop(0)).toBe(0);
    expect(await l.index(2)).toBe(2);
    await expect(l.index(42)).rejects.toThrow(ValueError);
    await l.remove(30);
    await expect(l.remove(30)).rejects.toThrow(ValueError);
    expect(await l.copy()).toEqual([1, 2, 4, 5]);
    expect(await l.slice(1, -1)).toEqual([2, 4]);
    await l.setSlice(0, 2, ['a']);
    expect(await l.copy()).toEqual(['a', 4, 5]);
    await l.deleteSlice(0, 1);
    await l.append(5);
    expect(await l.count(5)).toBe(2);
    expect(await l.includes(4)).toBe(true);
    await l.delete(0);
    await l.reverse();
    await l.iadd([1, 9]);
    await l.sort();
    expect(await l.copy()).toEqual([1, 5, 5, 9]);
    await l.sort({ reverse: true });
    expect(await l.copy()).toEqual([9, 5, 5, 1]);
    await l.imul(2);
    expect(await l.length()).toBe(8);
    await l.clear();
    expect(await l.length()).toBe(0);
    const words = await manager.list(['ccc', 'a', 'bb']);
    await words.sort({ key: byLength });
    expect(await words.copy()).toEqual(['a', 'bb', 'ccc']);
    const items: string[] = [];
    for await (const w of words) items.push(w);
    expect(items).toEqual(['a', 'bb', 'ccc']);
  });

  it('DictProxy keeps 1 and "1" apart and compares array keys by value', async () => {
    const d = await manager.dict<unknown, unknown>();
    expect(d).toBeInstanceOf(DictProxy);
    await d.set(1, 'number');
    await d.set('1', 'string');
    await d.set([1, 2], 'tuple');
    expect(await d.get(1)).toBe('number');
    expect(await d.get('1')).toBe('string');
    expect(await d.get([1, 2])).toBe('tuple');
    expect(await d.has([1, 2])).toBe(true);
    expect(await d.get('missing')).toBeUndefined();
    expect(await d.get('missing', 'dflt')).toBe('dflt');
    await expect(d.getItem('missing')).rejects.toThrow(KeyError);
    expect(await d.length()).toBe(3);
    expect(await d.toString()).toBe("{1: 'number', '1': 'string', [1, 2]: 'tuple'}");
    expect(await d.keys()).toEqual([1, '1', [1, 2]]);
    expect(await d.values()).toEqual(['number', 'string', 'tuple']);
    await d.delete([1, 2]);
    await expect(d.delete([1, 2])).rejects.toThrow(KeyError);
    expect(await d.setdefault('x', 5)).toBe(5);
    expect(await d.setdefault('x', 6)).toBe(5);
    await d.update({ y: 1 });
    await d.update(new Map([[2, 'two']]));
    await d.update([['z', 0]]);
    expect(await d.items()).toEqual([[1, 'number'], ['1', 'string'], ['x', 5], ['y', 1], [2, 'two'], ['z', 0]]);
    expect(await d.pop('z')).toBe(0);
    expect(await d.pop('z', 'gone')).toBe('gone');
    await expect(d.pop('z')).rejects.toThrow(KeyError);
    expect(await d.popitem()).toEqual([2, 'two']);
    const copy = await d.copy();
    expect(copy).toBeInstanceOf(Map);
    expect(copy.get(1)).toBe('number');
    expect(await d._getvalue()).toEqual(copy);
    await d.clear();
    expect(await d.length()).toBe(0);
  });

  it('nests proxies inside shared objects (spec example)', async () => {
    const a = await manager.list<unknown>();
    const b = await manager.list<string>();
    await a.append(b);
    expect(await a.toString()).toMatch(/^\[<ListProxy object, typeid 'list' at 0x[0-9a-f]+>\]$/);
    expect(await b.toString()).toBe('[]');
    await b.append('hello');
    const inner = (await a.get(0)) as ListProxy<string>;
    expect(inner).toBeInstanceOf(ListProxy);
    expect(await inner.toString()).toBe("['hello']");
    expect(await b.toString()).toBe("['hello']");
    // A list of dicts: changes through the nested proxy are seen by everyone.
    const l = await manager.list<DictProxy<string, number>>();
    for (let i = 0; i < 2; i++) l.append(await manager.dict());
    await (await l.get(0)).set('a', 1);
    await (await l.get(1)).set('b', 2);
    const values = await Promise.all((await l.copy()).map((d) => d.toString()));
    expect(values).toEqual(["{'a': 1}", "{'b': 2}"]);
  });

  it('Namespace, Value and Array', async () => {
    const ns = await manager.Namespace({ x: 10 });
    await ns.set('y', 'this is y');
    expect(await ns.get('x')).toBe(10);
    expect(await ns.has('y')).toBe(true);
    expect(await ns.toString()).toBe("Namespace(x=10, y='this is y')");
    await ns.delete('x');
    await expect(ns.get('x')).rejects.toThrow(TypeError);
    const v = await manager.Value('i', 3);
    await v.set(4);
    expect(await v.get()).toBe(4);
    await expect(v.set(1.5)).rejects.toThrow(TypeError);
    const arr = await manager.Array('d', [1, 2, 3]);
    await arr.set(0, 0.5);
    expect(await arr.slice()).toEqual([0.5, 2, 3]);
    expect(await arr.length()).toBe(3);
    expect(await arr.toString()).toBe("array('d', [0.5, 2, 3])");
  });
});

describe('SyncManager synchronisation objects', () => {
  it('Queue: a blocked get() is served by a later put(); timeouts throw Empty/Full', async () => {
    const q = await manager.Queue<number>(1);
    const got = q.get();
    await q.put(42);
    expect(await got).toBe(42);
    await q.putNowait(1);
    expect(await q.full()).toBe(true);
    await expect(q.put(2, true, 50)).rejects.toThrow(Full);
    expect(await q.get()).toBe(1);
    await expect(q.get(true, 50)).rejects.toThrow(Empty);
    await expect(q.getNowait()).rejects.toThrow(Empty);
    const jq = await manager.JoinableQueue<string>();
    await jq.put('task');
    const joined = jq.join().then(() => 'joined');
    expect(await jq.get()).toBe('task');
    await jq.taskDone();
    expect(await joined).toBe('joined');
    await expect(jq.taskDone()).rejects.toThrow(ValueError);
  });

  it('Lock, RLock, Semaphore, BoundedSemaphore', async () => {
    const lock = await manager.Lock();
    expect(await lock.acquire()).toBe(true);
    expect(await lock.acquire(false)).toBe(false);
    expect(await lock.acquire(true, 30)).toBe(false);
    const waiting = lock.acquire();
    await lock.release();
    expect(await waiting).toBe(true);
    await lock.release();
    await expect(lock.release()).rejects.toThrow(ValueError);
    expect(await lock.withLock(() => 'inside')).toBe('inside');
    const rlock = await manager.RLock();
    expect(await rlock.acquire()).toBe(true);
    expect(await rlock.acquire()).toBe(true);
    await rlock.release();
    await rlock.release();
    await expect(rlock.release()).rejects.toThrow(ValueError);
    const sem = await manager.Semaphore(2);
    expect(await sem.acquire()).toBe(true);
    expect(await sem.acquire()).toBe(true);
    expect(await sem.acquire(false)).toBe(false);
    await sem.release();
    expect(await sem.getValue()).toBe(1);
    const bsem = await manager.BoundedSemaphore(1);
    await expect(bsem.release()).rejects.toThrow(ValueError);
  });

  it('Event, Condition, Barrier', async () => {
    const event = await manager.Event();
    expect(await event.wait(20)).toBe(false);
    const waiter = event.wait();
    await event.set();
    expect(await waiter).toBe(true);
    expect(await event.isSet()).toBe(true);
    await event.clear();
    expect(await event.isSet()).toBe(false);

    const cond = await manager.Condition();
    await cond.acquire();
    expect(await cond.wait(20)).toBe(false);
    await expect(cond.notify()).resolves.toBeUndefined();
    await cond.release();
    await expect(cond.notify()).rejects.toThrow(ValueError);

    const barrier = await manager.Barrier(2);
    expect(await barrier.getParties()).toBe(2);
    const indices = await Promise.all([barrier.wait(), barrier.wait()]);
    expect(indices.sort()).toEqual([0, 1]);
    await expect(barrier.wait(30)).rejects.toThrow(BrokenBarrierError);
    expect(await barrier.broken()).toBe(true);
    await barrier.reset();
    expect(await barrier.broken()).toBe(false);
  });
});

describe('proxies across processes and cleanup', () => {
  it('passes proxies to a child Process (spec Manager example)', async () => {
    const d = await manager.dict();
    const l = await manager.list([...Array(10).keys()]);
    const p = new Process({ target: f, args: [d, l] });
    p.start();
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(await d.toString()).toBe("{1: '1', '2': 2, 0.25: null}");
    expect(await l.toString()).toBe('[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]');
    const names = await manager.list<string>();
    const pids = await manager.dict<string, number>();
    const child = new Process({ target: appendFromChild, args: [names, pids] });
    child.start();
    await child.join();
    expect(child.exitcode).toBe(0);
    expect(await names.copy()).toEqual([`child ${child.pid}`]);
    expect(await pids.get('child')).toBe(child.pid);
  });

  it('a Lock proxy serialises read-modify-write across processes', async () => {
    const lock = await manager.Lock();
    const value = await manager.Value('i', 0);
    const children = [0, 1].map(() => new Process({ target: incrementMany, args: [lock, value, 40] }));
    for (const child of children) child.start();
    await incrementMany(lock, value, 40);
    for (const child of children) await child.join();
    expect(children.map((child) => child.exitcode)).toEqual([0, 0]);
    expect(await value.get()).toBe(120);
  });

  it('frees an object when its last proxy is garbage-collected', async () => {
    // Proxies of earlier tests are garbage too: collect them until the server's count settles.
    let before = -1;
    for (let settled = 0; settled < 3; ) {
      await collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = await manager._numberOfObjects();
      settled = now === before ? settled + 1 : 0;
      before = now;
    }
    await (async () => {
      const l = await manager.list([1]);
      const holder = await manager.list();
      await holder.append(l);
      expect(await manager._numberOfObjects()).toBe(before + 2);
    })();
    expect(await eventually(async () => {
      await collectGarbage();
      return (await manager._numberOfObjects()) <= before;
    }, 5_000, 50)).toBe(true);
  });

  it('shutdown() stops the server over its private pipe, even when its address no longer answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'managers-pipe-'));
    try {
      const other = await Manager({ address: join(dir, 'socket') });
      const address = other.address as string;
      const proc = other.process!;
      // Nobody can connect any more: shutdown must not need a connection.
      rmSync(address);
      await other.shutdown();
      expect(proc.exitcode).toBe(0);
      await other.shutdown(); // repeatable
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the server process dies with its parent', async () => {
    const { spawnFixture, collect } = await import('@mpjs/test-utils');
    const child = spawnFixture(new URL('./fixtures/orphan.ts', import.meta.url).pathname);
    const [pid, path] = await new Promise<[number, string]>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /server (\d+) (.+)\n/.exec(out);
        if (match) resolve([Number(match[1]), JSON.parse(match[2]!) as string]);
      });
      child.once('exit', () => reject(new Error(`fixture exited early: ${out}`)));
    });
    expect(processesWith(marker)).toContain(pid);
    child.kill('SIGKILL');
    await collect(child).catch(() => undefined);
    expect(await eventually(() => !processesWith(marker).includes(pid), 5_000)).toBe(true);
    // A killed server cannot remove a socket file; on Linux it has none (an abstract name).
    if (process.platform === 'linux') expect(path).toMatch(/^\0mpjs-manager-/);
    else rmSync(dirname(path), { recursive: true, force: true });
  });
});

void MathsClass;
