/**
 * Types of the umbrella (checked by `tsc -p tsconfig.test.json`): factories
 * keep the overloads of the classes, and `Array` is `SharedArray`.
 */
import { describe, expect, it } from '@jest/globals';
import * as mp from '../src/index.js';
import type { Pool, Queue, RawArray, RawValue, SharedArray, SyncManager, Value } from '../src/index.js';

describe('types', () => {
  it('factories return the classes, with { lock: false } giving raw objects', () => {
    const ctx = mp.getContext('forkserver');
    const raw: RawValue<'d'> = ctx.Value('d', 1.5, { lock: false });
    const locked: Value<'i'> = ctx.Value('i', 1);
    const arr: SharedArray<'i'> = ctx.Array('i', 3);
    const rawArr: RawArray<'b'> = mp.getContext('spawn').Array('b', 2, { lock: false });
    const q: Queue<string> = ctx.Queue<string>();
    // @ts-expect-error Value takes a typecode or a type first
    expect(() => ctx.Value(42)).toThrow(TypeError);
    // @ts-expect-error a context's Pool sets its own context
    const poolFactory: () => Pool = () => ctx.Pool({ processes: 1, context: 'spawn' });
    const manager: () => Promise<SyncManager> = () => mp.defaultContext.Manager();
    const same: typeof mp.SharedArray = mp.Array;
    expect([raw.value, locked.value, arr.length, rawArr.length, typeof poolFactory, typeof manager, same]).toEqual([1.5, 1, 3, 2, 'function', 'function', mp.SharedArray]);
    q.close();
  });
});
