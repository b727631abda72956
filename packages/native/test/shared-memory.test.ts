import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ftruncateSync } from 'node:fs';
import { collect, listDevShm, runFixture, spawnFixture } from '@mpjs/test-utils';
import { ValueError } from '@mpjs/util';
import { closeFd, createSharedMemory, mapSharedMemory, shmOpen, shmUnlink } from '../src/index.js';
import { exited, fixture, shmemBytes, waitForLine } from './helpers.js';

/** A fresh name in Python's style. */
function freshName(): string {
  return `psm_mpjs_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

const MiB = 1024 * 1024;

describe('createSharedMemory / mapSharedMemory', () => {
  it('creates zero-filled memory that a second mapping of the fd shares', () => {
    const block = createSharedMemory(10_000);
    try {
      expect(block.size).toBe(10_000);
      expect(block.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(block.buffer.byteLength).toBe(10_000);
      const first = new Uint8Array(block.buffer);
      expect(first.every((b) => b === 0)).toBe(true);
      const second = new Uint8Array(mapSharedMemory(block.fd));
      expect(second.length).toBe(10_000);
      first[9_999] = 0xab;
      expect(second[9_999]).toBe(0xab);
      const part = mapSharedMemory(block.fd, 100);
      expect(part.byteLength).toBe(100);
    } finally {
      closeFd(block.fd);
    }
  });

  it('keeps the mapping usable after the fd is closed', () => {
    const block = createSharedMemory(64);
    closeFd(block.fd);
    const view = new Int32Array(block.buffer);
    Atomics.add(view, 0, 5);
    expect(Atomics.load(view, 0)).toBe(5);
  });

  it('seals the size so no process can shrink it under a mapping', () => {
    const block = createSharedMemory(4096);
    try {
      expect(() => ftruncateSync(block.fd, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    } finally {
      closeFd(block.fd);
    }
  });

  it('refuses bad sizes', () => {
    expect(() => createSharedMemory(0)).toThrow(RangeError);
    expect(() => createSharedMemory(1.5)).toThrow(/"size" must be an integer from 1/);
    // @ts-expect-error: size must be a number
    expect(() => createSharedMemory('10')).toThrow(TypeError);
    const block = createSharedMemory(100);
    try {
      expect(() => mapSharedMemory(block.fd, 101)).toThrow(/holds only 100/);
    } finally {
      closeFd(block.fd);
    }
  });

  it('reports bad fds as Node-style errors with a code', () => {
    expect(() => mapSharedMemory(-1)).toThrow(RangeError);
    // @ts-expect-error: fd must be a number
    expect(() => mapSharedMemory('3')).toThrow(TypeError);
    const block = createSharedMemory(100);
    closeFd(block.fd);
    expect(() => mapSharedMemory(block.fd)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fstat', errno: -9 }));
    expect(() => closeFd(block.fd)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'close' }));
  });

  it('refuses to map an empty block', () => {
    // createSharedMemory cannot make one; a named block shrunk to 0 can.
    const block = shmOpen(freshName(), { create: true, size: 1 });
    try {
      ftruncateSync(block.fd, 0);
      expect(() => mapSharedMemory(block.fd)).toThrow(ValueError);
      expect(() => shmOpen(block.name)).toThrow(/is empty \(0 bytes\)/);
    } finally {
      closeFd(block.fd);
      shmUnlink(block.name);
    }
  });
});

describe('shmOpen / shmUnlink', () => {
  it('creates a named block that another process opens by name', async () => {
    const name = freshName();
    const block = shmOpen(name, { create: true, size: 4096 });
    try {
      expect(block).toMatchObject({ name, size: 4096, created: true });
      expect(listDevShm()).toContain(name);
      new Uint8Array(block.buffer).set(Buffer.from('hello'));
      const r = await runFixture(fixture('shm-peer.ts'), { args: [`/${name}`] });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ size: 4096, created: false, seen: 'hello' });
      expect(Buffer.from(new Uint8Array(block.buffer, 5, 5)).toString()).toBe('reply');
    } finally {
      closeFd(block.fd);
      shmUnlink(name);
    }
    expect(listDevShm()).not.toContain(name);
  });

  it("is opened by Python's multiprocessing.shared_memory.SharedMemory(name)", async () => {
    const name = freshName();
    const block = shmOpen(name, { create: true, size: 256 });
    try {
      new Uint8Array(block.buffer).set(Buffer.from('from node'));
      const script = [
        'import sys',
        'from multiprocessing import shared_memory, resource_tracker',
        'shm = shared_memory.SharedMemory(sys.argv[1])',
        // Attaching registers the block with Python's tracker (3.8-3.12): keep it from unlinking ours.
        'resource_tracker.unregister(shm._name, "shared_memory")',
        'print(bytes(shm.buf[:9]).decode(), shm.size >= 256)',
        'shm.buf[9:20] = b" and python"',
        'shm.close()',
      ].join('\n');
      const python = spawn('python3', ['-c', script, name], { stdio: ['ignore', 'pipe', 'pipe'] });
      const r = await collect(python);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('from node True');
      expect(Buffer.from(new Uint8Array(block.buffer, 0, 20)).toString()).toBe('from node and python');
    } finally {
      closeFd(block.fd);
      shmUnlink(name);
    }
  });

  it('accepts names with or without the leading slash', () => {
    const name = freshName();
    const block = shmOpen(`/${name}`, { create: true, size: 8 });
    try {
      expect(block.name).toBe(name);
      const again = shmOpen(name);
      expect(again.created).toBe(false);
      expect(again.size).toBe(8);
      closeFd(again.fd);
    } finally {
      closeFd(block.fd);
      shmUnlink(`/${name}`);
    }
  });

  it('reports a missing block as ENOENT with a clear message', () => {
    const name = freshName();
    expect(() => shmOpen(name)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'shm_open' }));
    expect(() => shmOpen(name)).toThrow(`no shared memory block named '${name}'`);
    expect(() => shmUnlink(name)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'shm_unlink' }));
  });

  it('reports an existing block as EEXIST unless exclusive is false', () => {
    const name = freshName();
    const block = shmOpen(name, { create: true, size: 16 });
    try {
      expect(() => shmOpen(name, { create: true, size: 16 })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
      expect(() => shmOpen(name, { create: true, size: 16 })).toThrow(`a shared memory block named '${name}' already exists`);
      const shared = shmOpen(name, { create: true, exclusive: false, size: 16 });
      expect(shared.created).toBe(false);
      closeFd(shared.fd);
      expect(() => shmOpen(name, { size: 17 })).toThrow(ValueError);
      const part = shmOpen(name, { size: 4 });
      expect(part.size).toBe(4);
      closeFd(part.fd);
    } finally {
      closeFd(block.fd);
      shmUnlink(name);
    }
  });

  it('refuses bad names and options', () => {
    expect(() => shmOpen('a/b')).toThrow(ValueError);
    expect(() => shmOpen('/')).toThrow(/not a valid shared memory name/);
    expect(() => shmOpen('x'.repeat(300))).toThrow(/too long/);
    // @ts-expect-error: name must be a string
    expect(() => shmOpen(42)).toThrow(TypeError);
    expect(() => shmOpen(freshName(), { create: true })).toThrow(/"size" \(bytes, at least 1\) is required/);
    expect(() => shmOpen(freshName(), { create: true, size: 0 })).toThrow(RangeError);
    // @ts-expect-error: create must be a boolean
    expect(() => shmOpen(freshName(), { create: 'yes', size: 1 })).toThrow(TypeError);
  });
});

describe('no leaks', () => {
  it('frees 64 MiB of memfd memory when the process holding it is SIGKILLed', async () => {
    // Shmem is machine-wide: other processes may allocate meanwhile, so a
    // disturbed attempt is repeated (a real leak fails every attempt).
    const attempt = async (): Promise<{ added: number; freed: number; drift: number }> => {
      const before = shmemBytes();
      const child = spawnFixture(fixture('shm-holder.ts'), { args: ['memfd', String(64 * MiB)] });
      try {
        await waitForLine(child, /^ready$/);
        const during = shmemBytes();
        child.kill('SIGKILL');
        expect((await exited(child)).signal).toBe('SIGKILL');
        let after = shmemBytes();
        for (let i = 0; i < 100 && during - after < 56 * MiB; i++) {
          await new Promise((r) => setTimeout(r, 50));
          after = shmemBytes();
        }
        return { added: during - before, freed: during - after, drift: Math.abs(after - before) };
      } finally {
        child.kill('SIGKILL');
      }
    };
    const clean = (r: { added: number; freed: number; drift: number }): boolean =>
      r.added >= 56 * MiB && r.freed >= 56 * MiB && r.drift < 16 * MiB;
    let result = await attempt();
    for (let i = 0; i < 2 && !clean(result); i++) result = await attempt();
    // The memory really was there while the child lived (so this test can fail)…
    expect(result.added).toBeGreaterThanOrEqual(56 * MiB);
    // …and it is gone, back to the baseline, once the child is killed.
    expect(result.freed).toBeGreaterThanOrEqual(56 * MiB);
    expect(result.drift).toBeLessThan(16 * MiB);
  });

  it('leaves no /dev/shm entry once named blocks are unlinked, even if the holder is then SIGKILLed', async () => {
    const names = [freshName(), freshName()];
    const child = spawnFixture(fixture('shm-holder.ts'), { args: ['named', ...names], stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      await waitForLine(child, /^created$/);
      for (const name of names) expect(listDevShm()).toContain(name);
      const unlinked = waitForLine(child, /^unlinked$/);
      child.stdin!.write('unlink\n');
      await unlinked;
      child.kill('SIGKILL');
      await exited(child);
      const left = listDevShm().filter((entry) => entry.startsWith(`psm_mpjs_test_${process.pid}_`));
      expect(left).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      for (const name of names) {
        try {
          shmUnlink(name);
        } catch {
          // already unlinked: the expected case
        }
      }
    }
  });
});
