/**
 * A context's factories across real children: a forkserver Queue passed to
 * ctx.Process, a Value and a Lock shared with spawn children, ctx.Pool(2)
 * and ctx.Manager() with the context's start method.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@mpjs/test-utils';
import { markedProcesses } from './helpers.js';
import * as mp from '../src/index.js';
import { addUnderLock, fail, info, putInfo, square, type ChildInfo } from './fixtures/targets.js';

afterAll(async () => {
  await mp.getContext('forkserver').stopForkserver();
  expect(await eventually(() => markedProcesses().length === 0, 10_000)).toBe(true);
});

describe.each(['spawn', 'forkserver'] as const)('a %s context', (method) => {
  const ctx = mp.getContext(method);

  it('ctx.Queue() carries a value from a child ctx.Process() started with the context', async () => {
    const q = ctx.Queue<ChildInfo>();
    const p = ctx.Process({ target: putInfo, args: [q] });
    p.start();
    const got = await q.get({ timeout: 20_000 });
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(got).toEqual({ pid: p.pid, method });
    expect(got.pid).not.toBe(process.pid);
    q.close();
  });

  it('ctx.Value and ctx.Lock are shared with two children', async () => {
    const v = ctx.Value('i', 0);
    const lock = ctx.Lock();
    const children = [0, 1].map(() => ctx.Process({ target: addUnderLock, args: [v, lock, 200] }));
    for (const c of children) c.start();
    await Promise.all(children.map((c) => c.join()));
    expect(children.map((c) => c.exitcode)).toEqual([0, 0]);
    expect(v.value).toBe(400);
  });
});

describe('ctx.Pool and ctx.Manager', () => {
  it('refuse what is neither a number of processes nor an options object, naming what was given', async () => {
    const ctx = mp.getContext('spawn');
    for (const bad of ['5', [5], true, 5n]) {
      expect(() => ctx.Pool(bad as never)).toThrow(TypeError);
      expect(() => ctx.Pool(bad as never)).not.toThrow(/unknown option "0"/);
    }
    expect(() => ctx.Pool('5' as never)).toThrow(/"5"|string/);
    await expect(ctx.Manager('x' as never)).rejects.toThrow(/options must be an object.*"x"/);
    expect(mp.activeChildren()).toEqual([]);
  });

  it('ctx.Pool(2).map runs in two worker processes and errors arrive as their class', async () => {
    const ctx = mp.getContext('forkserver');
    const pool = ctx.Pool(2);
    // The program's default stays unset: the workers' start method is the context's.
    expect(mp.getStartMethod(true)).toBeNull();
    try {
      expect(await pool.map(square, [1, 2, 3, 4, 5], { chunksize: 1 })).toEqual([1, 4, 9, 16, 25]);
      const workers = await Promise.all([pool.apply(info), pool.apply(info)]);
      for (const w of workers) expect(w.method).toBe('forkserver');
      expect(workers.every((w) => w.pid !== process.pid)).toBe(true);
      await expect(pool.apply(fail, [3])).rejects.toThrow(mp.ValueError);
      await expect(pool.apply(fail, [3])).rejects.toThrow('bad input 3');
    } finally {
      await pool.terminate();
      await pool.join();
    }
  });

  it('the default context Pool and Process use the start method set for the program', async () => {
    mp.setStartMethod('forkserver', { force: true });
    try {
      const pool = mp.defaultContext.Pool(1);
      try {
        expect(await pool.apply(info)).toEqual({ pid: expect.any(Number), method: 'forkserver' });
      } finally {
        await pool.terminate();
        await pool.join();
      }
      const q = mp.defaultContext.Queue<ChildInfo>();
      const p = mp.defaultContext.Process({ target: putInfo, args: [q] });
      p.start();
      expect(await q.get({ timeout: 20_000 })).toEqual({ pid: p.pid, method: 'forkserver' });
      await p.join();
      q.close();
    } finally {
      mp.setStartMethod(null, { force: true });
    }
  });

  it('ctx.Manager() starts its server with the context and serves proxies', async () => {
    const ctx = mp.getContext('forkserver');
    const manager = await ctx.Manager();
    try {
      const list = await manager.list([1, 2]);
      await list.append(3);
      expect(await list._getvalue()).toEqual([1, 2, 3]);
      const ns = await manager.Namespace();
      await ns.set('x', 5);
      expect(await ns.get('x')).toBe(5);
    } finally {
      await manager.shutdown();
    }
  });
});
