/**
 * A proxy carries its server's key only to a child being started (Python's
 * `get_spawning_popen()`); arriving any other way, it uses the key of its new
 * process, `currentProcess().authkey`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Pipe } from '@mpjs/connection';
import { Pool } from '@mpjs/pool';
import { Process, activeChildren, currentProcess } from '@mpjs/process';
import { defaultCodec } from '@mpjs/serialization';
import { eventually } from '@mpjs/test-utils';
import { marker, processesWith } from './helpers.js';
import { AuthenticationError, ListProxy, Manager, type SyncManager } from '../src/index.js';
import { appendAndCount, usesOwnAuthkey } from './fixtures/proxy-tasks.js';

const SECRET = 'a secret only spawned children may learn';
/** A manager with the default key (the process's authkey) and one with its own key. */
let shared: SyncManager;
let secret: SyncManager;

beforeAll(async () => {
  [shared, secret] = await Promise.all([Manager(), Manager({ authkey: SECRET })]);
});

afterAll(async () => {
  await Promise.all([shared.shutdown(), secret.shutdown()]);
  for (const child of activeChildren()) child.kill();
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

describe('the authkey of a proxy', () => {
  it('is not in the bytes of a proxy sent over a pipe, and the receiver uses its own key', async () => {
    const l = await secret.list([1]);
    expect(l._authkey.toString()).toBe(SECRET);
    const bytes = Buffer.from(defaultCodec.encode(l, { handles: [] }));
    expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    const [a, b] = Pipe();
    try {
      a.send(l);
      const received = (await b.recv()) as ListProxy<number>;
      expect(received).toBeInstanceOf(ListProxy);
      expect(received._authkey.equals(currentProcess().authkey)).toBe(true);
      // The key of this process is not the server's: it is refused, as in Python.
      await expect(received.length()).rejects.toThrow(AuthenticationError);
      a.send(await shared.list([1, 2]));
      expect(await ((await b.recv()) as ListProxy<number>).length()).toBe(2);
    } finally {
      a.close();
      b.close();
    }
  });

  it('travels to a child started with the proxy as an argument', async () => {
    const l = await secret.list<unknown>();
    const p = new Process({ target: appendAndCount, args: [l, 'from the child'] });
    p.start();
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(await l.copy()).toEqual(['from the child']);
  });

  it('does not travel with a pool task: it works when the keys agree, and is refused when they do not', async () => {
    await using pool = new Pool(1);
    const own = await shared.list<unknown>();
    expect(await pool.apply(usesOwnAuthkey, [own])).toBe(true);
    expect(await pool.apply(appendAndCount, [own, 'from a worker'])).toBe(1);
    const other = await secret.list<unknown>();
    const error = await pool.apply(appendAndCount, [other, 'never']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(await other.length()).toBe(0);
  });

  it('does not travel into another manager: its server and the clients reading it use their own keys', async () => {
    const holder = await shared.list<ListProxy<unknown>>();
    const agreeing = await shared.list<unknown>();
    await holder.append(agreeing);
    await (await holder.get(0)).append('through the holder');
    expect(await agreeing.copy()).toEqual(['through the holder']);
    // A proxy of the manager with its own key: stored, but unusable by those who do not know the key.
    const foreign = await secret.list<unknown>(['kept']);
    await holder.append(foreign);
    const back = await holder.get(1);
    expect(back._authkey.equals(currentProcess().authkey)).toBe(true);
    await expect(back.copy()).rejects.toThrow(AuthenticationError);
    expect(await foreign.copy()).toEqual(['kept']);
  });
});
