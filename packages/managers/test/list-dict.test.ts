/** List, dict, namespace and array proxies follow Python: slices with steps, equality, proxies as sources. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { activeChildren } from '@mpjs/process';
import { eventually } from '@mpjs/test-utils';
import { collectGarbage, marker, processesWith } from './helpers.js';
import { DictProxy, ListProxy, Manager, RemoteError, ValueError, type SyncManager } from '../src/index.js';

let manager: SyncManager;
let other: SyncManager;

beforeAll(async () => {
  [manager, other] = await Promise.all([Manager(), Manager()]);
});

afterAll(async () => {
  await Promise.all([manager.shutdown(), other.shutdown()]);
  for (const child of activeChildren()) child.kill();
  expect(await eventually(() => processesWith(marker).length === 0, 5_000)).toBe(true);
});

const seven = [0, 1, 2, 3, 4, 5, 6];

describe('list slices', () => {
  // Expected values from CPython: list(range(7))[slice(start, stop, step)].
  it.each<[number | null, number | null, number | null, number[]]>([
    [null, null, 2, [0, 2, 4, 6]],
    [null, null, -1, [6, 5, 4, 3, 2, 1, 0]],
    [5, 1, -2, [5, 3]],
    [-2, null, -3, [5, 2]],
    [1, -1, 3, [1, 4]],
    [10, null, -1, [6, 5, 4, 3, 2, 1, 0]],
    [null, -10, -1, [6, 5, 4, 3, 2, 1, 0]],
    [-100, 100, 4, [0, 4]],
    [3, 3, 1, []],
    [5, 2, null, []],
  ])('l[%p:%p:%p] is %p', async (start, stop, step, expected) => {
    const l = await manager.list(seven);
    expect(await l.slice(start, stop, step)).toEqual(expected);
  });

  it('deletes and assigns extended slices as Python does, checking the size', async () => {
    const l = await manager.list<unknown>([...Array(10).keys()]);
    await l.deleteSlice(null, null, 2); // del l[::2]
    expect(await l.copy()).toEqual([1, 3, 5, 7, 9]);
    const m = await manager.list<unknown>([...Array(10).keys()]);
    await m.deleteSlice(7, 1, -3);
    expect(await m.copy()).toEqual([0, 1, 2, 3, 5, 6, 8, 9]);
    const n = await manager.list<unknown>([...Array(6).keys()]);
    await n.setSlice(null, null, ['a', 'b', 'c'], 2);
    expect(await n.copy()).toEqual(['a', 1, 'b', 3, 'c', 5]);
    await n.setSlice(4, 0, ['x', 'y'], -2);
    expect(await n.copy()).toEqual(['a', 1, 'y', 3, 'x', 5]);
    await expect(n.setSlice(null, null, [1], 2)).rejects.toThrow(new ValueError('attempt to assign sequence of size 1 to extended slice of size 3'));
    // Step 1 may change the length; an empty range inserts at its start.
    await n.setSlice(4, 2, ['z']);
    expect(await n.copy()).toEqual(['a', 1, 'y', 3, 'z', 'x', 5]);
    expect(await n.length()).toBe(7);
  });

  it('refuses a zero step, and bounds, steps and indices that are not integers', async () => {
    const l = await manager.list(seven);
    await expect(l.slice(null, null, 0)).rejects.toThrow(ValueError);
    await expect(l.slice(null, null, 0)).rejects.toThrow('slice step cannot be zero');
    await expect(l.deleteSlice(0, 2, 0)).rejects.toThrow(ValueError);
    await expect(l.slice(1.5 as number)).rejects.toThrow(new TypeError('slice indices must be integers or null, got non-integer number 1.5'));
    await expect(l.slice('1' as unknown as number)).rejects.toThrow(TypeError);
    await expect(l.setSlice(0, 1, [9], 'x' as unknown as number)).rejects.toThrow(/slice indices must be integers/);
    await expect(l.get('0' as unknown as number)).rejects.toThrow(/list indices must be integers, got string/);
    await expect(l.set(0.5, 1)).rejects.toThrow(TypeError);
    await expect(l.delete(null as unknown as number)).rejects.toThrow(TypeError);
    await expect(l.pop('x' as unknown as number)).rejects.toThrow(/pop\(\): the index must be an integer/);
    await expect(l.insert('x' as unknown as number, 9)).rejects.toThrow(/insert\(\): the index must be an integer/);
    await expect(l.index(3, 'a' as unknown as number)).rejects.toThrow(/slice indices must be integers/);
    // imul('x') used to empty the list.
    await expect(l.imul('x' as unknown as number)).rejects.toThrow(TypeError);
    await expect(l.mul(1.5)).rejects.toThrow(TypeError);
    expect(await l.copy()).toEqual(seven);
    // insert clamps as Python does.
    await l.insert(-100, -1);
    await l.insert(100, 7);
    expect(await l.copy()).toEqual([-1, ...seven, 7]);
    await expect(l.setSlice(0, 1, 5 as unknown as number[])).rejects.toThrow(/setSlice\(\): values must be an iterable/);
    await expect(l.extend(null as unknown as number[])).rejects.toThrow(TypeError);
    // A string is iterable, as in Python: its characters.
    const chars = await manager.list<string>('ab');
    await chars.extend('cd');
    expect(await chars.copy()).toEqual(['a', 'b', 'c', 'd']);
    // args that are not an array are refused before anything is sent
    await expect(l._callmethod('get', 0 as unknown as unknown[])).rejects.toThrow(/args must be an array/);
  });
});

describe('list operators and equality', () => {
  it('add, mul (also n * l) and reversed return local arrays and leave the list as it was', async () => {
    const l = await manager.list([1, 2]);
    expect(await l.add([3])).toEqual([1, 2, 3]);
    expect(await l.mul(3)).toEqual([1, 2, 1, 2, 1, 2]);
    expect(await l.mul(0)).toEqual([]);
    expect(await l.reversed()).toEqual([2, 1]);
    expect(await l.copy()).toEqual([1, 2]);
    await l.imul(-1);
    expect(await l.copy()).toEqual([]);
  });

  it('compares items as Python == does: 0 and -0, NaN, numbers and bigints, plain data by value', async () => {
    const l = await manager.list<unknown>([0, Number.NaN, 5n, [1, { a: [2, -0] }], new Map([['k', [0]]]), 'x']);
    expect(await l.includes(-0)).toBe(true);
    expect(await l.count(-0)).toBe(1);
    expect(await l.index(-0)).toBe(0);
    expect(await l.includes(Number.NaN)).toBe(true);
    expect(await l.index(5)).toBe(2);
    expect(await l.index([1, { a: [2, 0] }])).toBe(3);
    expect(await l.includes(new Map([['k', [-0]]]))).toBe(true);
    expect(await l.includes([1, { a: [2, 0], b: 1 }])).toBe(false);
    expect(await l.includes('0')).toBe(false);
    await l.remove(-0);
    expect(await l.length()).toBe(5);
  });
});

describe('proxies of the same manager stand for their referents', () => {
  it('d.update(dictProxy), manager.dict(proxy), manager.list(proxy), l.extend(listProxy)', async () => {
    const source = await manager.dict<string, number>({ a: 1, b: 2 });
    const d = await manager.dict<string, number>({ z: 26 });
    await d.update(source);
    expect(await d.items()).toEqual([['z', 26], ['a', 1], ['b', 2]]);
    const copy = await manager.dict<string, number>(source);
    expect(await copy.items()).toEqual([['a', 1], ['b', 2]]);
    // A list of a dict is its keys, as in Python.
    expect(await (await manager.list(source))._getvalue()).toEqual(['a', 'b']);
    const l = await manager.list([1, 2]);
    const l2 = await manager.list(l);
    await l2.extend(l);
    await l2.iadd(l);
    expect(await l2.copy()).toEqual([1, 2, 1, 2, 1, 2]);
    expect(await l.add(l)).toEqual([1, 2, 1, 2]);
    const pairs = await manager.list<unknown>([['k', 'v']]);
    expect(await (await manager.dict(pairs as never)).items()).toEqual([['k', 'v']]);
    // A proxy of another manager is read through this process (a copy of its value).
    const foreign = await other.dict<string, number>({ f: 6 });
    await d.update(foreign);
    expect(await d.get('f')).toBe(6);
    await l2.extend(await other.list([7]));
    expect(await l2.get(-1)).toBe(7);
    // Created in the server from a foreign proxy: the server cannot read it, and says so.
    const error = await manager.list(await other.list([1])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as Error).message).toMatch(/a proxy of another manager .* cannot be read in this server; pass a copy instead/);
  });

  it('a copy holds proxies of its own: they outlive the source', async () => {
    // Only the copy is kept: the source and the first proxy of the inner list become garbage here.
    const [copy, sourceId] = await (async () => {
      const holder = await manager.list<ListProxy<string>>([await manager.list(['inner'])]);
      return [await manager.list<ListProxy<string>>(holder), holder._token.id] as const;
    })();
    expect(await eventually(async () => {
      await collectGarbage();
      return !Object.hasOwn(await manager._debugInfo(), sourceId);
    }, 5_000, 50)).toBe(true);
    // The source was freed and released the proxy it held; the copy's own proxy still refers to the inner list.
    expect(await (await copy.get(0)).copy()).toEqual(['inner']);
  });

  it('update() and dict() refuse what is not a mapping or pairs, at once in the caller', async () => {
    const d = await manager.dict();
    await expect(d.update(null as never)).rejects.toThrow(/update\(\) needs a Map, a plain object, \[key, value\] pairs or a dict proxy, got null/);
    await expect(d.update(5 as never)).rejects.toThrow(TypeError);
    await expect(d.update([['a', 1, 2]] as never)).rejects.toThrow(/element #0 of the sequence is not a \[key, value\] pair/);
  });

  it('iterates over a dict proxy (its keys) with for await', async () => {
    const d = await manager.dict<string, number>({ a: 1, b: 2 });
    expect(d).toBeInstanceOf(DictProxy);
    const keys: string[] = [];
    for await (const k of d) keys.push(k);
    expect(keys).toEqual(['a', 'b']);
  });
});

describe('namespace, array and representations', () => {
  it("Namespace shows its public attributes sorted, as Python's does", async () => {
    const ns = await manager.Namespace({ y: 'hello', x: 10 });
    await ns.set('_hidden', 1);
    expect(await ns.toString()).toBe("Namespace(x=10, y='hello')");
    expect(await ns.get('_hidden')).toBe(1);
  });

  it("Array refuses integers out of its typecode's range (Python's OverflowError)", async () => {
    await expect(manager.Array('b', [300])).rejects.toThrow(/array\('b'\): 300 is greater than the maximum of a signed char \(127\)/);
    await expect(manager.Array('B', [-1])).rejects.toThrow(/less than the minimum of a unsigned char/);
    const a = await manager.Array('h', [1, 2, 3]);
    await expect(a.set(0, 40_000)).rejects.toThrow(RangeError);
    await a.set(0, -32_768);
    expect(await a.slice(null, null, -1)).toEqual([3, 2, -32_768]);
    const big = await manager.Array('Q', [2n ** 64n - 1n]);
    expect(await big.get(0)).toBe(2n ** 64n - 1n);
    await expect(manager.Array('i', -1)).rejects.toThrow(/the length must be a non-negative integer/);
  });

  it("quotes and escapes strings as Python's repr", async () => {
    const l = await manager.list(['it\'s "q"\n\t\\', "it's", 'a\x01\x7f']);
    expect(await l.toString()).toBe(`['it\\'s "q"\\n\\t\\\\', "it's", 'a\\x01\\x7f']`);
  });
});
