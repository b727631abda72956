import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { eventually } from '@mpjs/test-utils';
import { Process, activeChildren } from '@mpjs/process';
import { collectGarbage, marker, processesWith } from './helpers.js';
import {
  AsyncResultProxy,
  IteratorProxy,
  Manager,
  PoolProxy,
  ProcessError,
  TimeoutError,
  ValueError,
  type SyncManager,
} from '../src/index.js';
import { TaskError, add, failOn, sleepThen, slowOn, square, useManagedPool, workerPid } from './fixtures/pool-tasks.js';

let manager: SyncManager;
/** One pool for the tests that only use it (workers start once). */
let pool: PoolProxy;

/** State and parent of a process from /proc, or null when it is gone. */
function stat(pid: number | string): { state: string; ppid: number } | null {
  try {
    const line = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces): state, ppid, …
    const [state, ppid] = line.slice(line.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return null;
  }
}

/** Whether `pid` still runs (a zombie has ended; an orphan's is reaped whenever init gets to it). */
function running(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== 'Z';
}

/** Pids of the running children of `pid` (a pool's workers are the server's children). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && stat(entry)?.ppid === pid)
    .map(Number)
    .filter(running);
}

beforeAll(async () => {
  manager = await Manager();
  pool = await manager.Pool(2);
});

afterAll(async () => {
  await manager.shutdown();
  for (const child of activeChildren()) child.kill();
  await Promise.all(activeChildren().map((child) => child.join()));
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

describe('SyncManager.Pool', () => {
  it('runs apply, map and starmap in the server’s pool', async () => {
    expect(pool).toBeInstanceOf(PoolProxy);
    expect(inspect(pool)).toMatch(/^<PoolProxy object, typeid 'Pool' at 0x[0-9a-f]+>$/);
    expect(await pool.toString()).toBe('<Pool state=RUN pool_size=2>');
    expect(await pool.apply(add, [2, 3])).toBe(5);
    expect(await pool.map(square, [1, 2, 3, 4, 5])).toEqual([1, 4, 9, 16, 25]);
    expect(await pool.map(square, new Set([6, 7]), { chunksize: 1 })).toEqual([36, 49]);
    expect(await pool.starmap(add, [[1, 2], [3, 4]])).toEqual([3, 7]);
    expect(await pool.map(square, [])).toEqual([]);
    // The workers are the server's children, not this process's.
    const pid = await pool.apply(workerPid);
    expect(childrenOf(manager.process!.pid!)).toContain(pid);
  });

  it('applyAsync resolves with an AsyncResultProxy: get, wait, ready, successful', async () => {
    const result = await pool.applyAsync(sleepThen, [300, 'late']);
    expect(result).toBeInstanceOf(AsyncResultProxy);
    expect(inspect(result)).toMatch(/typeid 'AsyncResult'/);
    expect(await result.ready()).toBe(false);
    await expect(result.successful()).rejects.toThrow(ValueError);
    await expect(result.get(20)).rejects.toThrow(TimeoutError);
    await result.wait(10); // resolves either way
    expect(await result.get()).toBe('late');
    expect(await result.ready()).toBe(true);
    expect(await result.successful()).toBe(true);

    const failed = await pool.applyAsync(failOn, [3]);
    await failed.wait();
    expect(await failed.successful()).toBe(false);
    const error = await failed.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).item).toBe(3);
  });

  it('the waits of results and iterators take { signal }: an abort stops only that wait', async () => {
    const result = await pool.applyAsync(sleepThen, [300, 'kept']);
    const controller = new AbortController();
    const waiting = result.get({ signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stopped waiting')), 30);
    await expect(waiting).rejects.toThrow('stopped waiting');
    await expect(result.wait(10, { signal: AbortSignal.abort(new Error('at once')) })).rejects.toThrow('at once');
    // The task went on: a later get has its result.
    expect(await result.get({ timeout: 5_000 })).toBe('kept');
    const iterator = await pool.imap(slowOn, [1, 2]);
    await expect(iterator.next({ signal: AbortSignal.timeout(50) })).rejects.toThrow();
    expect(await iterator.next(5_000)).toEqual({ value: 1, done: false });
    expect(await iterator.next()).toEqual({ value: 2, done: false });
    expect((await iterator.next()).done).toBe(true);
    await expect(result.get({ timeout: 'x' as never })).rejects.toThrow(/"timeout" must be a number of milliseconds/);
  });

  it('mapAsync and starmapAsync resolve with proxies of the result list', async () => {
    const mapped = await pool.mapAsync(square, [1, 2, 3], { chunksize: 2 });
    const starred = await pool.starmapAsync(add, [[1, 1], [2, 2]]);
    expect(mapped).toBeInstanceOf(AsyncResultProxy);
    expect(await mapped.get(10_000)).toEqual([1, 4, 9]);
    expect(await starred.get()).toEqual([2, 4]);
  });

  it('imap and imapUnordered resolve with async-iterable IteratorProxies', async () => {
    const ordered = await pool.imap(square, [1, 2, 3, 4]);
    expect(ordered).toBeInstanceOf(IteratorProxy);
    const seen: number[] = [];
    for await (const x of ordered) seen.push(x);
    expect(seen).toEqual([1, 4, 9, 16]);

    const unordered: number[] = [];
    for await (const x of await pool.imapUnordered(square, [1, 2, 3, 4], { chunksize: 2 })) unordered.push(x);
    expect(unordered.sort((a, b) => a - b)).toEqual([1, 4, 9, 16]);

    // next(timeout): the slow item is not ready within 50 ms, then it is.
    const slow = await pool.imap(slowOn, [1, 2]);
    await expect(slow.next(50)).rejects.toThrow(TimeoutError);
    expect(await slow.next()).toEqual({ done: false, value: 1 });
    expect(await slow.next(5_000)).toEqual({ done: false, value: 2 });
    expect(await slow.next()).toEqual({ done: true });

    // Leaving a loop early stops the iterator in the server: it reads no more of the input
    // (results that had already arrived may still come), then it is done.
    const early = await pool.imap(square, Array.from({ length: 500 }, (_, i) => i));
    for await (const x of early) if (x === 4) break;
    const rest: number[] = [];
    for (let r = await early.next(); !r.done; r = await early.next()) rest.push(r.value);
    expect(rest.length).toBeLessThan(100);
    expect(rest).toEqual(rest.map((_, i) => (i + 3) ** 2));
  });

  it('task errors arrive as their own class, at their position in an imap', async () => {
    const applied = await pool.apply(failOn, [3]).catch((e: unknown) => e);
    expect(applied).toBeInstanceOf(TaskError);
    expect((applied as Error).message).toBe('no 3');
    await expect(pool.map(failOn, [1, 2, 3])).rejects.toThrow(TaskError);
    const iterator = await pool.imap(failOn, [2, 3, 4]);
    expect(await iterator.next()).toEqual({ done: false, value: 2 });
    await expect(iterator.next()).rejects.toThrow(TaskError);
    expect(await iterator.next()).toEqual({ done: false, value: 4 });
    // A function that cannot travel is refused before anything is sent.
    await expect(pool.apply(() => 1)).rejects.toThrow(/export/);
  });

  it('refuses callbacks and signals, naming the alternative', async () => {
    const callback = (): void => undefined;
    const refused = async (call: Promise<unknown>): Promise<Error> => (await call.catch((e: unknown) => e)) as Error;
    const options = { callback } as unknown as Record<string, never>;
    let error = await refused(pool.applyAsync(square, [2], options));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/'callback' cannot travel to the manager's server.*await the AsyncResultProxy's get\(\)/);
    error = await refused(pool.mapAsync(square, [2], { errorCallback: callback } as object));
    expect(error.message).toMatch(/'errorCallback' cannot travel/);
    error = await refused(pool.mapAsync(square, [2], { signal: new AbortController().signal } as object));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/the async forms take no AbortSignal.*get\(\) or wait\(\).*map\(\) with a signal/);
    await expect(pool.imap(square, (async function* () {})() as unknown as number[])).rejects.toThrow(/async iterable/);
  });

  it('apply, map and starmap take { signal }: an abort gives the call up, and the pool goes on', async () => {
    await expect(pool.apply(square, [3], { signal: AbortSignal.abort(new Error('not now')) })).rejects.toThrow('not now');
    const controller = new AbortController();
    const slow = pool.starmap(sleepThen, Array.from({ length: 6 }, (_, i) => [300, `task ${i}`] as [number, string]), { chunksize: 1, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop the map')), 100);
    await expect(slow).rejects.toThrow('stop the map');
    await expect(pool.starmap(add, [[1, 2]], { signal: new AbortController().signal })).resolves.toEqual([3]);
    expect(await pool.apply(square, [4], { signal: new AbortController().signal })).toBe(16);
    await expect(pool.apply(square, [4], { signal: 'x' as never })).rejects.toThrow(/"signal" must be an AbortSignal/);
  });

  it('a PoolProxy passed to a child Process works there', async () => {
    const out = await manager.list<unknown>();
    const child = new Process({ target: useManagedPool, args: [pool, out] });
    child.start();
    await child.join();
    expect(child.exitcode).toBe(0);
    expect(await out.copy()).toEqual([[1, 4, 9], true, 42, true, [16, 25]]);
  });

  it('close, join and terminate; await using terminates', async () => {
    const server = manager.process!.pid!;
    const before = childrenOf(server).length;
    const own = await manager.Pool({ processes: 1, maxtasksperchild: 2 });
    expect(await own.map(square, [1, 2, 3], { chunksize: 1 })).toEqual([1, 4, 9]);
    await expect(own.join()).rejects.toThrow(ValueError);
    await own.close();
    await expect(own.apply(square, [1])).rejects.toThrow(ValueError);
    await own.join();
    expect(childrenOf(server).length).toBe(before);

    let pending: AsyncResultProxy<string>;
    {
      await using scoped = await manager.Pool(1);
      pending = await scoped.applyAsync(sleepThen, [10_000, 'never']);
    }
    await expect(pending.get()).rejects.toThrow(ProcessError);
    expect(childrenOf(server).length).toBe(before);
  });

  it('a freed pool ends its workers once its results are freed too', async () => {
    const server = manager.process!.pid!;
    let objects = -1;
    for (let settled = 0; settled < 3; ) {
      await collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = await manager._numberOfObjects();
      settled = now === objects ? settled + 1 : 0;
      objects = now;
    }
    const before = childrenOf(server);
    await (async () => {
      const result = await (async () => {
        const dropped = await manager.Pool(2);
        expect(childrenOf(server).length).toBe(before.length + 2);
        return dropped.applyAsync(sleepThen, [300, 'kept']);
      })();
      // The pool proxy is garbage: the server frees the pool, but the result still arrives.
      expect(await eventually(async () => {
        await collectGarbage();
        return (await manager._numberOfObjects()) === objects + 1;
      }, 5_000, 50)).toBe(true);
      expect(await result.get()).toBe('kept');
    })();
    // Now the result is garbage too: the pool is terminated.
    expect(await eventually(async () => {
      await collectGarbage();
      return (await manager._numberOfObjects()) === objects && childrenOf(server).length === before.length;
    }, 5_000, 50)).toBe(true);
  });

  it('shutting the manager down ends the pool’s workers', async () => {
    const m = await Manager();
    const server = m.process!;
    const p = await m.Pool(2);
    const result = await p.applyAsync(sleepThen, [10_000, 'never']);
    const workers = childrenOf(server.pid!);
    expect(workers).toHaveLength(2);
    expect(await result.ready()).toBe(false);
    await m.shutdown();
    // The server ended by itself (it did not need terminating), and took its workers with it.
    expect(server.exitcode).toBe(0);
    expect(await eventually(() => workers.every((pid) => !running(pid)), 5_000)).toBe(true);
  });

  it('a killed server leaves no workers behind', async () => {
    const m = await Manager();
    await m.Pool(2);
    const workers = childrenOf(m.process!.pid!);
    expect(workers).toHaveLength(2);
    m.process!.kill();
    expect(await eventually(() => workers.every((pid) => !running(pid)), 5_000)).toBe(true);
    await m.shutdown();
  });
});
