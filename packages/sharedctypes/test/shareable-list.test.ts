/**
 * ShareableList: Python's semantics (slot sizes, formats, count/index, the
 * errors), CPython's exact byte layout (a Python process and this one attach
 * to each other's lists), and lists shared with mpjs children.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import { collect } from '@mpjs/test-utils';
import { ShareableList, ValueError } from '../src/index.js';
import { ctx, runAll, shmNames, stopAndCheck } from './helpers.js';
import { changeLists } from './fixtures/targets.js';

const python = spawnSync('python3', ['--version']).status === 0;
const startNames = shmNames();

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
  expect(shmNames().filter((n) => !startNames.includes(n))).toEqual([]);
});

const sample = ['howdy', Buffer.from('HoWdY'), -273.154, 100, null, true, 42, 'x'.repeat(8), ''];

function dispose(sl: ShareableList): void {
  sl.shm.close();
  sl.shm.unlink();
}

describe('ShareableList', () => {
  it("keeps Python's formats and slot sizes", () => {
    const sl = new ShareableList(sample);
    expect(sl.format).toBe('8s8sdqxxxxxx?xxxxxxxx?q16s8s');
    expect(sl.length).toBe(9);
    expect(sl.shm.size).toBe(249);
    expect([...sl]).toEqual(sample);
    sl[0] = 'hi';
    sl.set(3, 'abcdefgh');
    expect(sl.format).toBe('8s8sd8sxxxxxx?xxxxxxxx?q16s8s');
    expect([sl[0], sl[3], sl[-1]]).toEqual(['hi', 'abcdefgh', '']);
    expect(() => (sl[3] = 'abcdefghi')).toThrow(new ValueError('bytes/str item exceeds available storage (9 bytes for a slot of 8)'));
    sl[7] = 'sixteen bytes!!!';
    expect(sl[7]).toBe('sixteen bytes!!!');
    sl[7] = 2.5;
    sl[1] = null;
    sl[2] = 2n ** 60n;
    expect([sl[7], sl[1], sl[2]]).toEqual([2.5, null, 2n ** 60n]);
    expect(() => sl.set(9, 1)).toThrow(RangeError);
    expect(() => sl.set(0, {} as never)).toThrow(/items must be numbers, bigints, booleans, strings, Buffers or null/);
    expect(() => sl.set(0, 2n ** 64n)).toThrow(RangeError);
    expect(String(sl)).toBe(`ShareableList(['hi', None, 1152921504606846976, 'abcdefgh', None, True, 42, 2.5, ''], name='${sl.shm.name}')`);
    sl[8] = "it's";
    sl[7] = 3;
    sl[6] = 3.0;
    sl[5] = Buffer.from([0, 0x41, 0x5c]);
    expect(String(sl)).toContain(`'abcdefgh', None, b'\\x00A\\\\', 3, 3, "it's"], name=`);
    expect(inspect(sl)).toContain("ShareableList([\n  'hi',");
    dispose(sl);
  });

  it("counts and finds with Python's ==", () => {
    const sl = new ShareableList([1, true, 1.0, 'a', Buffer.from('a'), null, 0, NaN]);
    expect(sl.count(1)).toBe(3);
    expect(sl.count(true)).toBe(3);
    expect(sl.count(1n)).toBe(3);
    expect(sl.count('a')).toBe(1);
    expect(sl.count(Buffer.from('a'))).toBe(1);
    expect(sl.count(null)).toBe(1);
    expect(sl.count(false)).toBe(1);
    expect(sl.count(NaN)).toBe(0);
    expect(sl.index(null)).toBe(5);
    expect(sl.index(0)).toBe(6);
    expect(() => sl.index('b')).toThrow(new ValueError("'b' is not in the ShareableList"));
    dispose(sl);
  });

  it('creates an empty list, and attaches by name', () => {
    const empty = new ShareableList();
    expect(empty.length).toBe(0);
    expect(empty.format).toBe('');
    const named = new ShareableList([1, 2], { name: `mpjs_sl_${process.pid}` });
    const other = new ShareableList(null, { name: named.shm.name });
    other[0] = 'ok';
    expect(named[0]).toBe('ok');
    other.shm.close();
    dispose(named);
    dispose(empty);
    expect(() => new ShareableList('abc' as never)).toThrow(/expected a sequence of items or null/);
  });

  it('travels to a child as an argument, and is attached by name there', async () => {
    const sl = new ShareableList(['text that is long', 21, 'end']);
    const other = new ShareableList([0, 'x']);
    expect(await runAll([ctx.Process({ target: changeLists, args: [sl, other.shm.name] })])).toEqual([0]);
    expect([...sl]).toEqual(['changed', 42, null]);
    expect([...other]).toEqual([3.5, Buffer.from('bytes!')]);
    dispose(sl);
    dispose(other);
  });
});

describe('ShareableList and CPython', () => {
  it('has the same bytes as CPython builds for the same items', () => {
    if (!python) return;
    const script = `
from multiprocessing import shared_memory
sl = shared_memory.ShareableList(['howdy', b'HoWdY', -273.154, 100, None, True, 42, 'x'*8, ''])
print(bytes(sl.shm.buf[:249]).hex())
sl.shm.close(); sl.shm.unlink()
`;
    const r = spawnSync('python3', ['-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const sl = new ShareableList(sample);
    expect(Buffer.from(sl.shm.buf).toString('hex')).toBe(r.stdout.trim());
    dispose(sl);
  });

  it('is attached and changed by CPython, and attaches to a list CPython made', async () => {
    if (!python) return;
    const ours = new ShareableList(['from node', 7, 1.5, null]);
    const script = `
import sys
from multiprocessing import shared_memory, resource_tracker
ours = shared_memory.ShareableList(name=sys.argv[1])
resource_tracker.unregister(ours.shm._name, 'shared_memory')  # attaching must not unlink at exit
print(list(ours), flush=True)
ours[0] = 'from py'; ours[1] = ours[1] * 6; ours[3] = True
theirs = shared_memory.ShareableList(['py made', 2**62, b'raw'])
print(theirs.shm.name, flush=True)
sys.stdin.readline()
print(list(theirs), flush=True)
theirs.shm.close(); theirs.shm.unlink(); ours.shm.close()
`;
    const child = spawn('python3', ['-c', script, ours.shm.name], { stdio: ['pipe', 'pipe', 'pipe'] });
    const done = collect(child, 20_000);
    const lines: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const all = out.split('\n');
        if (all.length >= 3) {
          lines.push(...all.slice(0, 2));
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`python exited early: ${out}`)));
    });
    expect(lines[0]).toBe("['from node', 7, 1.5, None]");
    expect([...ours]).toEqual(['from py', 42, 1.5, true]);
    const theirs = new ShareableList(null, { name: lines[1]! });
    expect([...theirs]).toEqual(['py made', 2n ** 62n, Buffer.from('raw')]);
    theirs[0] = 'changed';
    theirs[1] = -1;
    theirs.shm.close();
    child.stdin.end('\n');
    const result = await done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[2]).toBe("['changed', -1, b'raw']");
    dispose(ours);
  });
});
