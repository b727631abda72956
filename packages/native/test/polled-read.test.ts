import { describe, expect, it } from '@jest/globals';
import { closeSync, fstatSync, openSync, writeSync } from 'node:fs';
import { closeFd, HANG_UP, pipe, pollFd, READABLE, readPolling, readSome, setNonBlocking, socketpair, WRITABLE } from '../src/index.js';

describe('readPolling', () => {
  it('reads what is there, returns null when nothing comes within the budget, 0 at the end', () => {
    const [a, b] = socketpair();
    try {
      const target = Buffer.alloc(16);
      // The socketpair is in blocking mode: the read still never blocks.
      const started = performance.now();
      expect(readPolling(a, target, 200)).toBeNull();
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(0.2);
      expect(readPolling(a, target, 0)).toBeNull();
      writeSync(b, Buffer.from('hello'));
      expect(readPolling(a, target, 50)).toBe(5);
      expect(target.subarray(0, 5).toString()).toBe('hello');
      // Into a view with an offset, at most its length.
      writeSync(b, Buffer.from('abcdef'));
      const backing = Buffer.alloc(10, 0x2e);
      expect(readPolling(a, backing.subarray(3, 7), 50)).toBe(4);
      expect(backing.toString()).toBe('...abcd...');
      expect(readPolling(a, target, 50)).toBe(2);
      expect(target.subarray(0, 2).toString()).toBe('ef');
      closeFd(b);
      expect(readPolling(a, target, 50)).toBe(0);
    } finally {
      closeFd(a);
    }
  });

  it('catches data written by another thread while it polls', async () => {
    const [a, b] = socketpair();
    try {
      const { Worker } = await import('node:worker_threads');
      const worker = new Worker(
        `const { writeSync } = require('node:fs'); const { workerData } = require('node:worker_threads');
         const start = Date.now(); while (Date.now() - start < 20); writeSync(workerData, 'late');`,
        { eval: true, workerData: b },
      );
      const target = Buffer.alloc(8);
      // Polls up to a second: the worker writes after ~20 ms (plus its start-up).
      let n: number | null = null;
      for (let i = 0; i < 5 && n === null; i++) n = readPolling(a, target, 1_000_000);
      expect(n).toBe(4);
      expect(target.subarray(0, 4).toString()).toBe('late');
      await worker.terminate();
    } finally {
      closeFd(a);
      closeFd(b);
    }
  });

  it('rejects what is not a socket, and bad arguments, with clear errors', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      expect(() => readPolling(fd, Buffer.alloc(4), 0)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }) as unknown as Error);
    } finally {
      closeSync(fd);
    }
    const [a, b] = socketpair();
    try {
      expect(() => readPolling(a, Buffer.alloc(0), 0)).toThrow(/"target" is empty/);
      expect(() => readPolling(a, 'x' as unknown as Uint8Array, 0)).toThrow(/"target" must be a Uint8Array/);
      expect(() => readPolling(a, Buffer.alloc(4), -1)).toThrow(/"budgetMicros" must be a number of microseconds/);
      expect(() => readPolling(a, Buffer.alloc(4), 2e6)).toThrow(RangeError);
      expect(() => readPolling(-1, Buffer.alloc(4), 0)).toThrow(/fd/);
    } finally {
      closeFd(a);
      closeFd(b);
    }
  });
});

describe('pipe and readSome', () => {
  it('a pipe carries bytes one way; readSome reads what is there, null when nothing is, 0 at the end', () => {
    const [r, w] = pipe();
    try {
      expect(fstatSync(r).isFIFO()).toBe(true);
      expect(fstatSync(w).isFIFO()).toBe(true);
      // The other direction is closed to the caller: the read end refuses writes.
      expect(() => writeSync(r, Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'EBADF' }) as unknown as Error);
      setNonBlocking(r);
      const target = Buffer.alloc(16);
      expect(readSome(r, target)).toBeNull();
      writeSync(w, Buffer.from('hello'));
      expect(readSome(r, target)).toBe(5);
      expect(target.subarray(0, 5).toString()).toBe('hello');
      // readPolling refuses a pipe: readSome is the read for it.
      expect(() => readPolling(r, target, 0)).toThrow(expect.objectContaining({ code: 'ENOTSOCK' }) as unknown as Error);
      writeSync(w, Buffer.from('abcdef'));
      const backing = Buffer.alloc(10, 0x2e);
      expect(readSome(r, backing.subarray(3, 7))).toBe(4);
      expect(backing.toString()).toBe('...abcd...');
      closeFd(w);
      expect(readSome(r, target)).toBe(2);
      expect(readSome(r, target)).toBe(0);
    } finally {
      closeFd(r);
    }
    expect(() => readSome(r, Buffer.alloc(4))).toThrow(expect.objectContaining({ code: 'EBADF' }) as unknown as Error);
  });

  it('a pipe made with a capacity holds that much before a writer must wait', () => {
    const pipes = [pipe(), pipe(256 * 1024)];
    try {
      const fill = Buffer.alloc(200 * 1024, 1);
      const written = pipes.map(([, w]) => {
        setNonBlocking(w);
        return writeSync(w, fill);
      });
      // The default holds 64 KiB: the rest of the write would wait.
      expect(written).toEqual([64 * 1024, 200 * 1024]);
    } finally {
      for (const [r, w] of pipes) {
        closeFd(r);
        closeFd(w);
      }
    }
    expect(() => pipe(-1)).toThrow(/"capacity" must be a number of bytes/);
    expect(() => pipe(1.5)).toThrow(RangeError);
  });

  it('rejects bad arguments with clear errors', () => {
    const [r, w] = pipe();
    try {
      expect(() => readSome(r, Buffer.alloc(0))).toThrow(/"target" is empty/);
      expect(() => readSome(r, 'x' as unknown as Uint8Array)).toThrow(/"target" must be a Uint8Array/);
      expect(() => readSome(-1, Buffer.alloc(4))).toThrow(/fd/);
    } finally {
      closeFd(r);
      closeFd(w);
    }
  });
});

describe('pollFd', () => {
  it('tells what a socket is ready for without reading: data, the end of the stream, room to write', () => {
    const [a, first] = socketpair();
    let b = first;
    try {
      expect(pollFd(a)).toBe(0);
      expect(pollFd(a, WRITABLE)).toBe(WRITABLE);
      expect(pollFd(a, READABLE | WRITABLE)).toBe(WRITABLE);
      writeSync(b, Buffer.from('hi'));
      expect(pollFd(a)).toBe(READABLE);
      // Nothing was consumed: the bytes are still there.
      expect(pollFd(a)).toBe(READABLE);
      const target = Buffer.alloc(8);
      expect(readPolling(a, target, 0)).toBe(2);
      expect(pollFd(a)).toBe(0);
      closeFd(b);
      b = -1;
      expect(pollFd(a) & READABLE).toBe(READABLE);
      expect(pollFd(a) & HANG_UP).toBe(HANG_UP);
    } finally {
      closeFd(a);
      if (b >= 0) closeFd(b);
    }
  });

  it('reports the end of a pipe whose writer closed', () => {
    const [r, w] = pipe();
    try {
      expect(pollFd(r)).toBe(0);
      closeFd(w);
      expect(pollFd(r) & HANG_UP).toBe(HANG_UP);
    } finally {
      closeFd(r);
    }
  });

  it('waits up to its timeout, and fails with EBADF on a descriptor that is not open', () => {
    const [a, b] = socketpair();
    const started = performance.now();
    expect(pollFd(a, READABLE, 30)).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    closeFd(a);
    closeFd(b);
    expect(() => pollFd(a)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => pollFd(-1)).toThrow(RangeError);
    expect(() => pollFd(0, 0)).toThrow(/"events"/);
    expect(() => pollFd(0, READABLE, -1)).toThrow(/"timeout"/);
  });
});
