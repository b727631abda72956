/**
 * The umbrella's names: every public name of every package is here and is the
 * same object; the contexts are those of @mpjs/process with every factory.
 */
import { describe, expect, it } from '@jest/globals';
import * as util from '@mpjs/util';
import * as serialization from '@mpjs/serialization';
import * as native from '@mpjs/native';
import * as processPkg from '@mpjs/process';
import * as connection from '@mpjs/connection';
import * as synchronize from '@mpjs/synchronize';
import * as sharedctypes from '@mpjs/sharedctypes';
import * as queues from '@mpjs/queues';
import * as pool from '@mpjs/pool';
import * as managers from '@mpjs/managers';
import * as mp from '../src/index.js';

const packages = { util, serialization, native, process: processPkg, connection, synchronize, sharedctypes, queues, pool, managers };
/** Names the umbrella replaces with its own versions (contexts with every factory). */
const replaced = new Set(['SpawnContext', 'ForkServerContext', 'DefaultContext', 'defaultContext', 'getContext']);

describe('the names', () => {
  it.each(Object.entries(packages))('every name of @mpjs/%s is exported and is the same object', (_name, pkg) => {
    const names = Object.keys(pkg).filter((name) => !replaced.has(name));
    expect(names.length).toBeGreaterThan(0);
    const umbrella = mp as Record<string, unknown>;
    const missing = names.filter((name) => !(name in umbrella));
    expect(missing).toEqual([]);
    for (const name of names) expect([name, umbrella[name]]).toEqual([name, (pkg as Record<string, unknown>)[name]]);
  });

  it('has the module-level functions of Python, and Array is SharedArray', () => {
    const functions = [
      'getContext', 'setStartMethod', 'getStartMethod', 'getAllStartMethods', 'setExecutable', 'setForkserverPreload',
      'freezeSupport', 'currentProcess', 'parentProcess', 'activeChildren', 'cpuCount', 'getLogger', 'logToStderr', 'Manager', 'Pipe', 'Client',
    ];
    for (const name of functions) expect([name, typeof (mp as Record<string, unknown>)[name]]).toEqual([name, 'function']);
    expect(mp.Array).toBe(sharedctypes.SharedArray);
    expect(mp.getAllStartMethods()).toEqual(['spawn', 'forkserver']);
    expect(mp.cpuCount()).toBeGreaterThanOrEqual(1);
    expect(mp.currentProcess().pid).toBe(process.pid);
    expect(mp.parentProcess()).toBeNull();
  });

  it('the contexts extend those of @mpjs/process and are one per start method', () => {
    const spawn = mp.getContext('spawn');
    const forkserver = mp.getContext('forkserver');
    expect(spawn).toBeInstanceOf(processPkg.SpawnContext);
    expect(spawn).toBeInstanceOf(mp.SpawnContext);
    expect(forkserver).toBeInstanceOf(processPkg.ForkServerContext);
    expect(forkserver).toBeInstanceOf(mp.ForkServerContext);
    expect(mp.defaultContext).toBeInstanceOf(processPkg.BaseContext);
    expect(spawn.getContext('forkserver')).toBe(forkserver);
    expect(forkserver.getContext('spawn')).toBe(spawn);
    expect(mp.defaultContext.getContext('spawn')).toBe(spawn);
    expect(spawn.getStartMethod()).toBe('spawn');
    expect(forkserver.getStartMethod()).toBe('forkserver');
  });

  it('unknown start methods and fork fail with ValueError', () => {
    expect(() => mp.getContext('fork')).toThrow(mp.ValueError);
    expect(() => mp.getContext('fork')).toThrow(/spawn.*forkserver/);
    expect(() => mp.getContext('thread')).toThrow(mp.ValueError);
    expect(() => mp.getContext('spawn').getContext('nope')).toThrow(/cannot find context for "nope"/);
    expect(() => mp.getContext('spawn').setStartMethod('forkserver')).toThrow(mp.ValueError);
  });

  it('the default context shares its start method with @mpjs/process', () => {
    expect(mp.getStartMethod(true)).toBe(processPkg.getStartMethod(true));
    try {
      mp.setStartMethod('forkserver', { force: true });
      expect(processPkg.getStartMethod()).toBe('forkserver');
      expect(mp.getContext()).toBe(mp.getContext('forkserver'));
      expect(mp.defaultContext.getStartMethod()).toBe('forkserver');
      expect(() => mp.setStartMethod('spawn')).toThrow(/context has already been set/);
      processPkg.setStartMethod('spawn', { force: true });
      expect(mp.getContext()).toBe(mp.getContext('spawn'));
    } finally {
      mp.setStartMethod(null, { force: true });
    }
    expect(mp.getStartMethod(true)).toBeNull();
  });

  it('factories build the classes of the packages', () => {
    const ctx = mp.getContext('spawn');
    const q = ctx.Queue<number>(3);
    expect(q).toBeInstanceOf(queues.Queue);
    q.close();
    const sq = ctx.SimpleQueue();
    expect(sq).toBeInstanceOf(queues.SimpleQueue);
    sq.close();
    const jq = ctx.JoinableQueue();
    expect(jq).toBeInstanceOf(queues.JoinableQueue);
    jq.close();
    expect(ctx.Lock()).toBeInstanceOf(synchronize.Lock);
    expect(ctx.RLock()).toBeInstanceOf(synchronize.RLock);
    expect(ctx.Semaphore(2).getValue()).toBe(2);
    expect(ctx.BoundedSemaphore(1)).toBeInstanceOf(synchronize.BoundedSemaphore);
    expect(ctx.Condition()).toBeInstanceOf(synchronize.Condition);
    expect(ctx.Event().isSet()).toBe(false);
    expect(ctx.Barrier(3).parties).toBe(3);
    const v = ctx.Value('i', 7);
    expect(v).toBeInstanceOf(sharedctypes.Value);
    expect(v.value).toBe(7);
    const raw = ctx.Value('d', 1.5, { lock: false });
    expect(raw).toBeInstanceOf(sharedctypes.RawValue);
    const a = ctx.Array('i', [1, 2, 3]);
    expect(a).toBeInstanceOf(sharedctypes.SharedArray);
    expect([...a]).toEqual([1, 2, 3]);
    expect(ctx.Array('i', 2, { lock: false })).toBeInstanceOf(sharedctypes.RawArray);
    expect(ctx.RawValue('i', 3).value).toBe(3);
    expect(ctx.RawArray('d', 4).length).toBe(4);
    expect(() => ctx.Semaphore(-1)).toThrow(mp.ValueError);
  });

  it('ctx.Pipe, ctx.Listener and ctx.Client connect', async () => {
    const ctx = mp.getContext('forkserver');
    const [a, b] = ctx.Pipe();
    a.send({ x: [1, 2] });
    expect(await b.recv()).toEqual({ x: [1, 2] });
    a.close();
    b.close();
    const authkey = Buffer.from('secret');
    const listener = ctx.Listener({ authkey });
    const accepted = listener.accept();
    const client = await ctx.Client(listener.address, { authkey });
    const server = await accepted;
    client.send('ping');
    expect(await server.recv()).toBe('ping');
    client.close();
    server.close();
    listener.close();
    const other = ctx.Listener({ authkey });
    const refused = other.accept().catch((e: unknown) => e);
    await expect(ctx.Client(other.address, { authkey: Buffer.from('wrong') })).rejects.toThrow(mp.AuthenticationError);
    expect(await refused).toBeInstanceOf(mp.AuthenticationError);
    other.close();
  });
});
