import { afterAll, describe, expect, it } from '@jest/globals';
import { Connection } from '@mpjs/connection';
import { closeFd, socketpair } from '@mpjs/native';
import { DecodeError, defaultCodec, type HandleRecord } from '@mpjs/serialization';
import { ctx, runAll, stopAndCheck } from './helpers.js';
import { Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore } from '../src/index.js';
import { countSharedMemoryFds, incrementLocked, RawFds, receiveAndUse, SharedInts } from './fixtures/targets.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('primitives travelling between processes', () => {
  it('can be sent to a process that is already running, over a Connection with an fd channel (SCM_RIGHTS)', async () => {
    const [mine, theirs] = socketpair();
    const [myChannel, theirChannel] = socketpair();
    const conn = new Connection(mine, { fdChannel: myChannel });
    const counter = new SharedInts(1);
    const p = ctx.Process({ target: receiveAndUse, args: [new RawFds([theirs, theirChannel]), counter, 1_000] });
    p.start();
    closeFd(theirs);
    closeFd(theirChannel);
    const lock = new Lock();
    const done = new Event();
    conn.send({ lock, done });
    await incrementLocked(lock, counter, 1_000, 'async');
    expect(await done.wait(20_000)).toBe(true);
    await p.join();
    expect(p.exitcode).toBe(0);
    expect(counter.get(0)).toBe(2_000);
    conn.close();
    counter.close();
  });

  it('a child maps each chunk of shared memory once, however many primitives live in it', async () => {
    const primitives = [new Lock(), new RLock(), new Semaphore(), new BoundedSemaphore(), new Event(), new Condition(), new Barrier(2)];
    const chunks = new Set(primitives.map((p) => p.toShareable().cell.chunk));
    const out = new SharedInts(1);
    // Each primitive twice, and the condition's own RLock besides.
    expect(await runAll([ctx.Process({ target: countSharedMemoryFds, args: [out, ...primitives, ...primitives] })])).toEqual([0]);
    // The SharedInts is anonymous shared memory too.
    expect(out.get(0)).toBe(chunks.size + 1);
    out.close();
  });

  it('decoding without the descriptor that carried the memory is a clear DecodeError', () => {
    const handles: HandleRecord[] = [];
    const bytes = defaultCodec.encode(new Lock(), { handles });
    expect(handles).toHaveLength(1);
    expect(handles[0]!.kind).toBe('mpjs.synchronize.chunk');
    expect(() => defaultCodec.decode(bytes, { handles: [] })).toThrow(DecodeError);
    expect(() => defaultCodec.decode(bytes, { handles: [] })).toThrow(/did not arrive/);
    // In the same process with the same handles, the same lock comes back.
    const again = defaultCodec.decode(bytes, { handles }) as Lock;
    expect(again).toBeInstanceOf(Lock);
  });

  it('the same lock decoded in this process shares its state', () => {
    const lock = new Lock();
    const handles: HandleRecord[] = [];
    const again = defaultCodec.decode(defaultCodec.encode({ lock }, { handles }), { handles }) as { lock: Lock };
    lock.acquireSync();
    expect(again.lock.acquireSync({ block: false })).toBe(false);
    again.lock.release();
    expect(lock.acquireSync({ block: false })).toBe(true);
    lock.release();
  });
});
